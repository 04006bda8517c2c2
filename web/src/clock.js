/**
 * The data-time clock shared by the page and the render Worker.
 *
 * Live, now = wall clock + offset, where the offset (data time of the latest message −
 * its arrival wall time) is smoothed (α = 0.2) and reset on a jump of more than 5 s. Both
 * sides observe the same messages with the same arrival times, so they agree. Replaying,
 * now = `replay_s` advanced at `rate` (0 when paused) since `set_ms`.
 */

/** A data-time clock (see the module docstring). */
export class DataClock {
  constructor() {
    this.offset_s = 0;
    this.known = false;
    this.mode = 'live';
    this.replay_s = 0;
    this.rate = 0;
    this.set_ms = 0;
  }

  /** Observes a message's data time `data_s` that arrived at wall time `wall_ms`. */
  observe(data_s, wall_ms) {
    if (!Number.isFinite(data_s)) return;
    const off = data_s - wall_ms / 1000;
    if (!this.known || Math.abs(off - this.offset_s) > 5) {
      this.offset_s = off;
      this.known = true;
    } else {
      this.offset_s += 0.2 * (off - this.offset_s);
    }
  }

  /** Replay at `replay_s` (data time), advancing at `rate` × real time from now on. */
  setReplay(replay_s, rate) {
    this.mode = 'replay';
    this.replay_s = replay_s;
    this.rate = rate;
    this.set_ms = Date.now();
  }

  /** Back to live time. */
  setLive() {
    this.mode = 'live';
  }

  /** Data time now (UTC epoch s). */
  now_s() {
    if (this.mode === 'replay') return this.replay_s + (this.rate * (Date.now() - this.set_ms)) / 1000;
    return Date.now() / 1000 + this.offset_s;
  }
}
