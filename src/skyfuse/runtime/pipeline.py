"""The pipeline of ``replay`` and ``run``: frames → decode → measure → tracker → track rows.

Everything here runs in *data time*: the wall clock is read by the callers at the edge
(live feeds stamping arrival times), never here.

Batching. Reports wait in a buffer. The buffer's *watermark* is the latest report time
seen minus ``reorder_s`` (a reordering window that absorbs late frames, e.g. from a
slower feed); whenever the watermark passes the end of the current step window
(``step_s`` of data, 0.5 s by default), every buffered report older than that end goes to
one ``Tracker.step``. A report later than the watermark still joins the next step (the
tracker predicts each track to each report's own time). :meth:`Pipeline.finish` steps
everything left.

Output. After each step, every track whose update count changed gives one row: its state
at its own last update time (never predicted), converted back to latitude/longitude.

Local frame. ``receiver`` when given, else the first validated position seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from skyfuse.decode.modes import ModeSDecoder
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.measure.adsb import adsb_measurements, sbs_measurements
from skyfuse.measure.batch import MeasurementBatch
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.track.filters.imm import imm_cv_ct
from skyfuse.track.tracker import Tracker, TrackerConfig

if TYPE_CHECKING:
    from skyfuse.measure.sensors import SensorTable

__all__ = ["Pipeline", "PipelineConfig", "PipelineCounters", "adsb_tracker_config",
           "radar_tracker_config", "tracker_config_for"]


def adsb_tracker_config() -> TrackerConfig:
    """Tracker settings for cooperative Mode S / ADS-B surveillance (airliners to taxiing).

    * IMM (CV, q 0.5 m²/s³; ±3 °/s coordinated turns, q 2 m²/s³): airliners fly straight
      or in standard-rate turns; NACp-sized noise (~4-40 m) keeps the track on the path.
    * ``revisit_s`` 1 s: ADS-B sends positions at 2 Hz, receivers catch about one a second.
    * ``group_window_s`` 0.5 s (the pipeline's step): one step's reports of a feed are
      associated together, a second report of the same address going to the next group.
    * identified tracks survive 5 min without reports (coverage gaps, low-level flight);
      unidentified ones 20 s; coasting after 5 s.
    * initiation pairs reports up to 10 s apart (sparse reception far out; surface
      positions come every 5 s when slow), so confirmation is 3 reports in 12 s.
    """
    return TrackerConfig(
        filter=imm_cv_ct(q_cv=0.5, q_ct=2.0), revisit_s=1.0, group_window_s=0.5,
        coast_after_s=5.0, delete_after_s=20.0, delete_identified_after_s=300.0,
        init_max_dt_s=10.0, confirm_m=3, confirm_n=12, max_speed_mps=450.0,
        identity_slack_m=3000.0,
        max_position_sigma_m=20_000.0)


def radar_tracker_config(revisit_s: float) -> TrackerConfig:
    """Tracker settings with rotating radars (``revisit_s``: the slowest antenna period),
    with or without ADS-B: :func:`adsb_tracker_config` with its time limits scaled to the
    radar revisit, so that a 12 s radar can initiate (two plots up to 2.5 revisits apart),
    confirm (3 reports within 4 revisits) and survive a missed scan (coasting after 1.5,
    deletion after 3 revisits; identified tracks 5 min as before).
    """
    r = max(float(revisit_s), 1.0)
    return replace(adsb_tracker_config(), revisit_s=r, coast_after_s=max(5.0, 1.5 * r),
                   delete_after_s=max(20.0, 3.0 * r), init_max_dt_s=max(10.0, 2.5 * r),
                   confirm_m=3, confirm_n=4)


def tracker_config_for(sensors: SensorTable | None) -> TrackerConfig:
    """The tracker settings for a sensor set (the one rule of replay, run and serve):
    :func:`radar_tracker_config` for the slowest antenna when ``sensors`` lists rotating
    radars (PSR, SSR, Mode S), else :func:`adsb_tracker_config`."""
    periods = [] if sensors is None else [
        s.rotation_period_s for s in sensors.sensors if s.kind in ("psr", "ssr", "modes")]
    return radar_tracker_config(max(periods)) if periods else adsb_tracker_config()


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Settings of a :class:`Pipeline` (seconds of data time; degrees)."""

    receiver: tuple[float, float] | None = None
    step_s: float = 0.5
    reorder_s: float = 1.0
    tracker: TrackerConfig = field(default_factory=adsb_tracker_config)
    dedup_window_s: float = 0.2


@dataclass(slots=True)
class PipelineCounters:
    """Totals of one pipeline: reports into the tracker, steps, rows out, late reports."""

    reports: int = 0
    steps: int = 0
    rows: int = 0
    late: int = 0


class Pipeline:
    """Decoder + measurement + tracker, in data time; hands :class:`TrackRows` to ``sink``.

    Feed it with :meth:`add_frames` (Mode S frames with times in seconds),
    :meth:`add_sbs` (SBS lines) or :meth:`add_measurements` (reports already in
    :attr:`frame`, e.g. radar plots), then call :meth:`advance` (steps what the watermark
    allows) and finally :meth:`finish`.
    """

    def __init__(self, config: PipelineConfig | None = None,
                 sink: Callable[[TrackRows], None] | None = None) -> None:
        self.config = cfg = config or PipelineConfig()
        self.decoder = ModeSDecoder(receiver=cfg.receiver, dedup_window_s=cfg.dedup_window_s)
        self.tracker = Tracker(cfg.tracker)
        self.sink = sink
        self.counters = PipelineCounters()
        self.frame: LocalFrame | None = (LocalFrame(*cfg.receiver) if cfg.receiver else None)
        self._pending: list[MeasurementBatch] = []
        self._t_max = -np.inf
        self._step_end: float | None = None
        self._ids = np.empty(0, np.int64)
        self._nup = np.empty(0, np.int32)
        self._sbs_calls: dict[int, bytes] = {}
        self._sbs_squawks: dict[int, int] = {}
        self._out: list[tuple[NDArray, ...]] = []

    # -- input -----------------------------------------------------------------------------
    def ensure_frame(self, lat_deg: float, lon_deg: float) -> LocalFrame:
        """The local frame, centred at (``lat_deg``, ``lon_deg``) if not chosen yet."""
        if self.frame is None:
            self.frame = LocalFrame(float(lat_deg), float(lon_deg))
        return self.frame

    def add_frames(self, t_s: NDArray[np.float64], frames: list[bytes],
                   sensor: int | NDArray[np.int32] = 0) -> None:
        """Decode Mode S frames (times in seconds, in time order) into reports.

        ``sensor``: the feed id of all frames, or one per frame (several feeds merged).
        """
        if not frames:
            return
        dec = self.decoder.decode(t_s, frames, sensor)
        ok = np.flatnonzero(np.isfinite(dec.lat_deg))
        if len(ok) == 0:
            return
        frame = self.ensure_frame(dec.lat_deg[ok[0]], dec.lon_deg[ok[0]])
        self.add_measurements(adsb_measurements(dec, frame))

    def add_sbs(self, batch: SbsBatch, sensor: int = 0) -> None:
        """SBS BaseStation lines (positions with UTC times) into reports."""
        if len(batch) == 0:
            return
        ok = np.flatnonzero(np.isfinite(batch.lat_deg) & np.isfinite(batch.lon_deg))
        if self.frame is None and len(ok) == 0:
            sbs_measurements(batch, LocalFrame(0.0, 0.0), sensor, callsigns=self._sbs_calls,
                             squawks=self._sbs_squawks)     # keep identities seen so far
            return
        frame = self.ensure_frame(batch.lat_deg[ok[0]], batch.lon_deg[ok[0]]) \
            if self.frame is None else self.frame
        self.add_measurements(sbs_measurements(batch, frame, sensor,
                                               callsigns=self._sbs_calls,
                                               squawks=self._sbs_squawks))

    def add_measurements(self, batch: MeasurementBatch) -> None:
        """Reports already in :attr:`frame` (any sensor); stepped once the watermark passes."""
        t = batch.t_s[np.isfinite(batch.t_s)]
        if len(t) == 0:
            return
        if len(t) < len(batch):
            batch = batch.take(np.isfinite(batch.t_s))
        self._pending.append(batch)
        self._t_max = max(self._t_max, float(t.max()))
        if self._step_end is None:
            s = self.config.step_s
            self._step_end = (np.floor(float(t.min()) / s) + 1.0) * s

    # -- stepping --------------------------------------------------------------------------
    def advance(self) -> None:
        """Step every full window of data older than the watermark."""
        if self._step_end is None:
            return
        watermark = self._t_max - self.config.reorder_s
        if watermark < self._step_end:
            return
        pending = MeasurementBatch.concat(self._pending).sorted_by_time()
        t = pending.t_s
        s = self.config.step_s
        start = 0                                        # pending[start:] is not stepped yet
        while self._step_end <= watermark and start < len(t):
            end = self._step_end
            if t[start] >= end:                          # jump over empty windows
                end = self._step_end = (np.floor(t[start] / s) + 1.0) * s
                if end > watermark:
                    break
            stop = int(np.searchsorted(t, end, "left"))
            self._step(pending.take(slice(start, stop)))
            start = stop
            self._step_end = end + s
        pending = pending.take(slice(start, None))
        self._pending = [pending] if len(pending) else []
        self.flush_rows()

    def finish(self) -> None:
        """Step everything still buffered (end of a recording, or shutdown)."""
        if self._pending:
            batch = MeasurementBatch.concat(self._pending)
            self._pending = []
            if len(batch):
                self._step(batch)
        self.flush_rows()

    def _step(self, batch: MeasurementBatch) -> None:
        late = batch.t_s < self.tracker.time_s
        self.counters.late += int(late.sum())
        self.counters.reports += len(batch)
        self.counters.steps += 1
        self.tracker.step(batch)
        self._emit()

    def _emit(self) -> None:
        """Rows for the tracks whose update count changed in the last step.

        Read straight from the tracker's table (every track, tentative included, at its own
        last update time: what ``snapshot(-inf, include_tentative=True)`` gives), only the
        changed rows copied. Rows are in track-id order: the table keeps them so (new ids
        are appended, deletions keep the order); sorted here otherwise.
        """
        tab = self.tracker.tracks
        ids, nup = tab.track_id, tab.n_updates
        row_of: NDArray[np.intp] | None = None
        if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
            row_of = np.argsort(ids, kind="stable")
            ids, nup = ids[row_of], nup[row_of]
        before = np.full(len(ids), -1, np.int64)
        if len(self._ids) and len(ids):
            pos = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
            known = self._ids[pos] == ids
            before[known] = self._nup[pos[known]]
        changed = np.flatnonzero(nup != before)
        self._ids, self._nup = ids.copy(), nup.copy()
        if len(changed) == 0 or self.sink is None or self.frame is None:
            return
        r = changed if row_of is None else row_of[changed]
        x = tab.x[r]
        d = self.tracker.filter.d
        self._out.append((tab.t_s[r], ids[changed], tab.status[r],
                          x[:, 0], x[:, 1], tab.alt_ft[r], tab.icao24[r],
                          tab.callsign[r], x[:, d], x[:, d + 1],
                          tab.mode3a[r], tab.quality[r], tab.sensors[r]))

    def flush_rows(self) -> None:
        """Convert the rows of the steps so far to latitude/longitude and hand them over.

        Done once per :meth:`advance` / :meth:`finish` call rather than per step: the
        geodetic conversion costs about the same for one row as for thousands.
        """
        if not self._out or self.sink is None or self.frame is None:
            self._out = []
            return
        cols = [np.concatenate(c) for c in zip(*self._out, strict=True)]
        self._out = []
        t, ids, status, e, n, alt, icao, call, vx, vy, m3a, quality, sensors = cols
        lat, lon = self.frame.from_plane(e, n)
        rows = TrackRows(t_s=t, track_id=ids, status=status, lat_deg=lat, lon_deg=lon,
                         alt_ft=alt, icao24=icao, callsign=call, vx_mps=vx, vy_mps=vy,
                         mode3a=m3a, quality=quality, sensors=sensors)
        self.counters.rows += len(rows)
        self.sink(rows)
