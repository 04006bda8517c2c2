/**
 * The page's aircraft state: struct-of-arrays indexed by a dense slot number.
 *
 * Each batch from the stream Worker (packing.js rows) is applied in place: a Map finds the
 * slot of a track_id, a removal moves the last slot into the hole (slots stay dense, so the
 * GPU draws instances 0..n-1). Arrays only grow (doubling); applying a diff allocates
 * nothing per aircraft.
 *
 * `inst` is the GPU instance buffer, INST floats per aircraft:
 *
 *   | index | field      | meaning                                                    |
 *   |-------|------------|------------------------------------------------------------|
 *   | 0, 1  | x, y       | mercator position at the last update (geo.js)              |
 *   | 2, 3  | vx, vy     | mercator units per second (from gs_kt, track_deg)          |
 *   | 4     | t_ref_s    | time of the last update minus the page's time base `t0_s`  |
 *   | 5     | heading    | radians clockwise from north                               |
 *   | 6     | alt_ft     | feet; -1e5 when unknown                                    |
 *   | 7     | flags      | bit 0 coasting, 1 selected, 2 no heading, 3 tentative      |
 *
 * Times on the GPU are float32 seconds relative to `t0_s` (a float32 epoch second would
 * have a 128 s resolution).
 */

import { KT_TO_MPS, mercPerMetre, mercX, mercY } from './geo.js';
import {
  F_ALT, F_GS, F_ID, F_LAT, F_LON, F_STATUS, F_T, F_TRK, F_VR, NF,
} from './packing.js';

export const INST = 8;
export const FLAG_COASTING = 1;
export const FLAG_SELECTED = 2;
export const FLAG_NO_HEADING = 4;
export const FLAG_TENTATIVE = 8;
export const ALT_UNKNOWN = -1e5;
/** Positions are extrapolated at most this long after a track's last update (s). */
export const MAX_EXTRAPOLATION_S = 20;
/** Older than this (s) since its last update, an aircraft is drawn as stale (faded). */
export const STALE_AFTER_S = 5;

const DEG = Math.PI / 180;

/** Aircraft state in typed arrays; see the module docstring for the layout. */
export class AircraftStore {
  constructor(capacity = 1024) {
    this.n = 0;
    this.t0_s = NaN;
    this.selectedId = null;
    this.version = 0;              // bumps on every change: the GPU layer re-uploads
    this.idToSlot = new Map();
    this._alloc(capacity);
  }

  _alloc(cap) {
    const grow = (Old, old, size) => {
      const a = new Old.constructor(size);
      if (old) a.set(old.subarray(0, Math.min(old.length, size)));
      return a;
    };
    this.capacity = cap;
    this.inst = grow(Float32Array.of(), this.inst, cap * INST);
    this.id = grow(Float64Array.of(), this.id, cap);
    this.lat = grow(Float64Array.of(), this.lat, cap);
    this.lon = grow(Float64Array.of(), this.lon, cap);
    this.alt = grow(Float64Array.of(), this.alt, cap);
    this.gs = grow(Float64Array.of(), this.gs, cap);
    this.trk = grow(Float64Array.of(), this.trk, cap);
    this.vr = grow(Float64Array.of(), this.vr, cap);
    this.tlast = grow(Float64Array.of(), this.tlast, cap);
    this.status = grow(Int8Array.of(), this.status, cap);
    this.callsign = this.callsign || [];
    this.icao24 = this.icao24 || [];
    this.mode3a = this.mode3a || [];
    this.sensors = this.sensors || [];
  }

  /** Removes every aircraft. */
  clear() {
    this.n = 0;
    this.idToSlot.clear();
    this.version++;
  }

  /** The slot of a track id, or -1. */
  slotOf(id) {
    const s = this.idToSlot.get(id);
    return s === undefined ? -1 : s;
  }

  _newSlot(id) {
    if (this.n >= this.capacity) this._alloc(this.capacity * 2);
    const s = this.n++;
    this.idToSlot.set(id, s);
    this.id[s] = id;
    this.callsign[s] = '';
    this.icao24[s] = '';
    this.mode3a[s] = '';
    this.sensors[s] = '';
    return s;
  }

  _removeSlot(s) {
    const last = this.n - 1;
    this.idToSlot.delete(this.id[s]);
    if (s !== last) {
      const lastId = this.id[last];
      this.inst.copyWithin(s * INST, last * INST, last * INST + INST);
      for (const a of [this.id, this.lat, this.lon, this.alt, this.gs, this.trk, this.vr,
        this.tlast, this.status, this.callsign, this.icao24, this.mode3a, this.sensors]) {
        a[s] = a[last];
      }
      this.idToSlot.set(lastId, s);
    }
    this.n = last;
  }

  /** Writes the GPU instance floats of slot `s` from its numeric fields. */
  _writeInstance(s) {
    const o = s * INST;
    const lat = this.lat[s];
    const k = mercPerMetre(lat);
    const inst = this.inst;
    inst[o] = mercX(this.lon[s]);
    inst[o + 1] = mercY(lat);
    const gs = this.gs[s];
    const trk = this.trk[s];
    let flags = 0;
    if (Number.isFinite(gs) && Number.isFinite(trk)) {
      const v_mps = gs * KT_TO_MPS;
      inst[o + 2] = v_mps * Math.sin(trk * DEG) * k;       // east
      inst[o + 3] = -v_mps * Math.cos(trk * DEG) * k;      // north (mercator y grows south)
      inst[o + 5] = trk * DEG;
    } else {
      inst[o + 2] = 0;
      inst[o + 3] = 0;
      inst[o + 5] = 0;
      flags |= FLAG_NO_HEADING;
    }
    inst[o + 4] = this.tlast[s] - this.t0_s;
    const alt = this.alt[s];
    inst[o + 6] = Number.isFinite(alt) ? alt : ALT_UNKNOWN;
    const st = this.status[s];
    if (st === 2) flags |= FLAG_COASTING;
    if (st === 0) flags |= FLAG_TENTATIVE;
    if (this.id[s] === this.selectedId) flags |= FLAG_SELECTED;
    inst[o + 7] = flags;
  }

  /**
   * Applies a Worker batch {type, time, rows, n, remove, meta}: a snapshot replaces the
   * state, a diff upserts and removes. Returns the newest `t_last_s` it carried.
   */
  apply(batch) {
    if (batch.type === 'snapshot') this.clear();
    const rows = batch.rows;
    let newest = -Infinity;
    if (Number.isNaN(this.t0_s)) {
      const t = batch.n > 0 ? rows[F_T] : batch.time;
      this.t0_s = Number.isFinite(t) ? Math.floor(t) : Math.floor(Date.now() / 1000);
    }
    for (let i = 0; i < batch.n; i++) {
      const o = i * NF;
      const id = rows[o + F_ID];
      let s = this.idToSlot.get(id);
      if (s === undefined) s = this._newSlot(id);
      this.lat[s] = rows[o + F_LAT];
      this.lon[s] = rows[o + F_LON];
      this.alt[s] = rows[o + F_ALT];
      this.gs[s] = rows[o + F_GS];
      this.trk[s] = rows[o + F_TRK];
      this.vr[s] = rows[o + F_VR];
      let t = rows[o + F_T];
      if (!Number.isFinite(t)) t = batch.time;
      this.tlast[s] = t;
      if (t > newest) newest = t;
      this.status[s] = rows[o + F_STATUS];
      this._writeInstance(s);
    }
    for (const m of batch.meta) {
      const s = this.idToSlot.get(m[0]);
      if (s === undefined) continue;
      this.callsign[s] = m[1];
      this.icao24[s] = m[2];
      this.mode3a[s] = m[3];
      this.sensors[s] = m[4];
    }
    const remove = batch.remove;
    for (let i = 0; i < remove.length; i++) {
      const s = this.idToSlot.get(remove[i]);
      if (s !== undefined) this._removeSlot(s);
    }
    this.version++;
    return newest;
  }

  /** Marks one track as selected (or none with null). */
  select(id) {
    const prev = this.slotOf(this.selectedId);
    this.selectedId = id;
    if (prev >= 0) this._writeInstance(prev);
    const s = this.slotOf(id);
    if (s >= 0) this._writeInstance(s);
    this.version++;
  }

  /** Extrapolated mercator x of slot `s` at `now_s` (page time base). */
  xAt(s, now_s) {
    const o = s * INST;
    return this.inst[o] + this.inst[o + 2] * this._dt(o, now_s);
  }

  /** Extrapolated mercator y of slot `s` at `now_s` (page time base). */
  yAt(s, now_s) {
    const o = s * INST;
    return this.inst[o + 1] + this.inst[o + 3] * this._dt(o, now_s);
  }

  _dt(o, now_s) {
    return Math.min(Math.max(now_s - this.inst[o + 4], 0), MAX_EXTRAPOLATION_S);
  }

  /** The slot nearest to mercator (mx, my) at `now_s` within `max_merc`, or -1. */
  pick(mx, my, now_s, max_merc) {
    let best = -1;
    let bestD = max_merc * max_merc;
    for (let s = 0; s < this.n; s++) {
      const dx = this.xAt(s, now_s) - mx;
      const dy = this.yAt(s, now_s) - my;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = s;
      }
    }
    return best;
  }
}
