"""LiveState: the current tracks, their short trails and the feed counters, for the API.

Written by the runtime (the tracker's worker thread calls :meth:`LiveState.update` with
every :class:`~skyfuse.runtime.tracks_csv.TrackRows` batch and :meth:`LiveState.retain`
with the ids the tracker still holds); read by the HTTP handlers and the WebSocket hub
on the event loop. One lock guards it; readers copy the columns they need under the lock
(microseconds for 10,000 tracks) and build JSON outside it, so the tracker never waits
for a client.

Layout (struct of arrays, rows never move):

| column          | dtype      | meaning                                               |
|-----------------|------------|-------------------------------------------------------|
| track_id        | int64      | -1 for a free slot                                    |
| status          | int8       | tentative / confirmed / coasting                      |
| t_s             | float64    | time of the last update (data time, UTC epoch s)      |
| lat/lon_deg     | float64    | position at ``t_s``                                   |
| alt_ft          | float64    | barometric altitude [NaN]                             |
| vx/vy_mps       | float64    | velocity east/north                                   |
| vrate_fpm       | float64    | vertical rate [NaN]                                   |
| icao24, mode3a  | int32/int16| [-1]                                                  |
| callsign        | S8         | [b""]                                                 |
| sensors         | int64      | bit ``s % 63`` per contributing sensor                |
| seq             | int64      | change number of the slot's last update               |
| shown           | bool       | was ever confirmed (visible without ``tentative``)    |
| trail_t/pos     | float64    | ring of the last ``trail_points`` positions           |

A sorted index (``_ids`` → ``_slot``) finds the slots of a batch with one
``searchsorted``; new tracks take free slots (capacity doubles when full), so a batch of
10,000 updates costs a handful of vectorised operations, never a Python loop per track.

Diffs. Every :meth:`update` / :meth:`retain` call that changes something increments
:attr:`seq`; a slot remembers the ``seq`` of its last change and a removal log keeps
``(track_id, seq)`` of deleted tracks. A client that has seen the state up to ``s`` gets
"what changed after ``s``" from :meth:`changes` — the latest values only, however many
updates happened in between (that is the coalescing of slow clients). The removal log is
bounded (``max_removals``); a client older than its horizon gets a fresh snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from skyfuse.runtime.tracks_csv import TrackRows

__all__ = ["LiveState", "SensorInfo", "SourceStatus", "TrackView"]

_COLUMNS: tuple[tuple[str, str, object], ...] = (
    # name, dtype, absent value
    ("track_id", "i8", -1), ("status", "i1", 0), ("t_s", "f8", np.nan),
    ("lat_deg", "f8", np.nan), ("lon_deg", "f8", np.nan), ("alt_ft", "f8", np.nan),
    ("vx_mps", "f8", np.nan), ("vy_mps", "f8", np.nan), ("vrate_fpm", "f8", np.nan),
    ("icao24", "i4", -1), ("mode3a", "i2", -1), ("callsign", "S8", b""),
    ("sensors", "i8", 0), ("quality", "f4", np.nan), ("seq", "i8", 0), ("shown", "?", False),
)
_COPIED = tuple(c[0] for c in _COLUMNS if c[0] not in ("seq", "shown"))
TENTATIVE = 0


@dataclass(frozen=True, slots=True)
class TrackView:
    """A copy of some tracks' columns (equal-length arrays, see the module table)."""

    time_s: float
    seq: int
    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    t_s: NDArray[np.float64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_ft: NDArray[np.float64]
    vx_mps: NDArray[np.float64]
    vy_mps: NDArray[np.float64]
    vrate_fpm: NDArray[np.float64]
    icao24: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    sensors: NDArray[np.int64]
    quality: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.track_id)


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed after a given ``seq``: the latest rows of changed tracks; removed ids
    (deleted tracks, and changed tracks now hidden as tentative; the client ignores ids
    it does not hold). No id is in both, so a client may apply them in either order."""

    upsert: TrackView
    remove: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One feed or sensor for ``/api/v1/sources`` (``last_seen_s`` wall clock, NaN never)."""

    name: str
    kind: str
    connected: bool
    frames: int
    bad_frames: int
    rate_hz: float
    last_seen_s: float


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """One sensor for ``/api/v1/sensors``: position and nominal coverage radius."""

    name: str
    kind: str
    lat_deg: float
    lon_deg: float
    height_m: float
    range_nm: float


@dataclass(slots=True)
class _Store:
    cols: dict[str, np.ndarray]
    trail_t: NDArray[np.float64]
    trail_pos: NDArray[np.float64]
    trail_head: NDArray[np.int32]
    free: list[int] = field(default_factory=list)


class LiveState:
    """The live picture for the API: see the module docstring.

    ``trail_points`` positions are kept per track, at least ``trail_min_dt_s`` apart;
    ``sensor_names`` maps a sensor id (its bit is ``id % 63``) to the name the API shows.
    """

    def __init__(self, *, trail_points: int = 64, trail_min_dt_s: float = 2.0,
                 sensor_names: Mapping[int, str] | None = None, max_removals: int = 100_000,
                 capacity: int = 1024) -> None:
        self.trail_points = max(1, int(trail_points))
        self.trail_min_dt_s = float(trail_min_dt_s)
        self.max_removals = max_removals
        self._lock = threading.Lock()
        self._s = self._new_store(max(16, capacity))
        self._ids = np.empty(0, np.int64)          # sorted track ids in use
        self._slot = np.empty(0, np.int64)         # their slots
        self._seq = 0
        self._horizon = 0                          # removals at seq ≤ horizon are forgotten
        self._rm_id: list[NDArray[np.int64]] = []
        self._rm_seq: list[int] = []
        self._rm_count = 0
        self._time_s = float("nan")
        self._listeners: list[Callable[[], None]] = []
        self._sources: tuple[SourceStatus, ...] = ()
        self._sensors: tuple[SensorInfo, ...] = ()
        self._names: dict[int, str] = {}
        self._mask_names: dict[int, list[str]] = {}
        self.updates = 0
        self.set_sensor_names(sensor_names or {})

    # -- storage -----------------------------------------------------------------------------
    def _new_store(self, cap: int) -> _Store:
        cols = {n: np.full(cap, a, d) for n, d, a in _COLUMNS}
        n = self.trail_points
        return _Store(cols, np.full((cap, n), np.nan), np.full((cap, n, 3), np.nan),
                      np.zeros(cap, np.int32), list(range(cap - 1, -1, -1)))

    def _grow(self, need: int) -> None:
        old = self._s
        cap = len(old.trail_head)
        new_cap = cap
        while new_cap - (cap - len(old.free)) < need:
            new_cap *= 2
        if new_cap == cap:
            return
        s = self._new_store(new_cap)
        for n, _, _ in _COLUMNS:
            s.cols[n][:cap] = old.cols[n]
        s.trail_t[:cap], s.trail_pos[:cap], s.trail_head[:cap] = (
            old.trail_t, old.trail_pos, old.trail_head)
        s.free = old.free + list(range(new_cap - 1, cap - 1, -1))
        s.free.sort(reverse=True)
        self._s = s

    # -- writing -----------------------------------------------------------------------------
    def update(self, rows: TrackRows) -> None:
        """Apply a batch of track updates (the latest row of each track wins)."""
        ok = np.isfinite(rows.t_s) & np.isfinite(rows.lat_deg) & np.isfinite(rows.lon_deg)
        if not ok.all():
            rows = rows.take(ok)
        if len(rows) == 0:
            return
        order = np.lexsort((rows.t_s, rows.track_id))
        ids = rows.track_id[order]
        last = np.r_[ids[1:] != ids[:-1], True]    # last row of each id (latest t_s)
        pick = order[last]
        ids = ids[last]
        with self._lock:
            self._seq += 1
            self.updates += 1
            slots = self._slots_for(ids)
            s = self._s
            c = s.cols
            for name in ("status", "t_s", "lat_deg", "lon_deg", "alt_ft", "vx_mps",
                         "vy_mps", "icao24", "callsign"):
                c[name][slots] = getattr(rows, name)[pick]
            for name in ("vrate_fpm", "mode3a", "sensors", "quality"):
                c[name][slots] = getattr(rows, name)[pick]
            c["seq"][slots] = self._seq
            c["shown"][slots] |= c["status"][slots] != TENTATIVE
            self._append_trail(slots, rows.t_s[pick], rows.lat_deg[pick], rows.lon_deg[pick],
                               rows.alt_ft[pick])
            t_max = float(np.nanmax(rows.t_s)) if np.isfinite(rows.t_s).any() else np.nan
            if not self._time_s >= t_max:
                self._time_s = t_max
        self._notify()

    def _slots_for(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Slots of sorted unique ``ids``, allocating slots for new ones (lock held)."""
        pos = np.searchsorted(self._ids, ids)
        known = np.zeros(len(ids), np.bool_)
        inside = pos < len(self._ids)
        known[inside] = self._ids[pos[inside]] == ids[inside]
        slots = np.empty(len(ids), np.int64)
        slots[known] = self._slot[pos[known]]
        new = np.flatnonzero(~known)
        if len(new):
            self._grow(len(new))
            s = self._s
            got = np.array([s.free.pop() for _ in range(len(new))], np.int64)
            slots[new] = got
            s.cols["track_id"][got] = ids[new]
            s.trail_head[got] = 0
            s.trail_t[got] = np.nan
            for n, _, a in _COLUMNS[1:]:
                s.cols[n][got] = a
            all_ids = np.concatenate([self._ids, ids[new]])
            all_slots = np.concatenate([self._slot, got])
            o = np.argsort(all_ids, kind="stable")
            self._ids, self._slot = all_ids[o], all_slots[o]
        return slots

    def _append_trail(self, slots: NDArray[np.int64], t: NDArray[np.float64],
                      lat: NDArray[np.float64], lon: NDArray[np.float64],
                      alt: NDArray[np.float64]) -> None:
        s = self._s
        n = self.trail_points
        head = s.trail_head[slots]
        prev = s.trail_t[slots, (head - 1) % n]
        add = ~(t - prev < self.trail_min_dt_s) & np.isfinite(t)   # NaN prev: first point
        sl, h = slots[add], head[add]
        s.trail_t[sl, h] = t[add]
        s.trail_pos[sl, h] = np.stack([lat[add], lon[add], alt[add]], axis=1)
        s.trail_head[sl] = (h + 1) % n

    def remove(self, track_ids: Sequence[int] | NDArray[np.int64]) -> None:
        """Forget these tracks (deleted by the tracker); unknown ids are ignored."""
        ids = np.unique(np.asarray(track_ids, np.int64))
        with self._lock:
            if not self._drop(np.isin(self._ids, ids)):
                return
        self._notify()

    def retain(self, alive_ids: NDArray[np.int64],
               status: NDArray[np.int8] | None = None) -> None:
        """Forget every track not in ``alive_ids`` (the tracker's current track ids); with
        ``status`` (one per id), also take the tracker's status of the tracks kept —
        a track that turns *coasting* gets no update row, so this is how it shows."""
        alive = np.asarray(alive_ids, np.int64)
        with self._lock:
            changed = self._drop(~np.isin(self._ids, alive))
            if status is not None and len(self._ids) and len(alive):
                o = np.argsort(alive, kind="stable")
                a, st = alive[o], np.asarray(status, np.int8)[o]
                pos = np.minimum(np.searchsorted(a, self._ids), len(a) - 1)
                known = a[pos] == self._ids
                slots, new = self._slot[known], st[pos[known]]
                c = self._s.cols
                diff = c["status"][slots] != new
                if diff.any():
                    if not changed:
                        self._seq += 1
                    sl = slots[diff]
                    c["status"][sl] = new[diff]
                    c["seq"][sl] = self._seq
                    c["shown"][sl] |= new[diff] != TENTATIVE
                    changed = True
        if changed:
            self._notify()

    def _drop(self, gone: NDArray[np.bool_]) -> bool:
        """Free the slots of ``self._ids[gone]`` and log the removal (lock held)."""
        if not gone.any():
            return False
        self._seq += 1
        ids, slots = self._ids[gone], self._slot[gone]
        s = self._s
        for n, _, a in _COLUMNS:
            s.cols[n][slots] = a
        s.free.extend(slots.tolist())
        s.free.sort(reverse=True)
        self._ids, self._slot = self._ids[~gone], self._slot[~gone]
        self._rm_id.append(ids)
        self._rm_seq.append(self._seq)
        self._rm_count += len(ids)
        while self._rm_count > self.max_removals and len(self._rm_id) > 1:
            self._rm_count -= len(self._rm_id.pop(0))
            self._horizon = self._rm_seq.pop(0)
        return True

    def set_sources(self, sources: Sequence[SourceStatus]) -> None:
        """Replace the feed counters shown by ``/api/v1/sources``."""
        self._sources = tuple(sources)

    def set_sensors(self, sensors: Sequence[SensorInfo]) -> None:
        """Replace the sensor list shown by ``/api/v1/sensors``."""
        self._sensors = tuple(sensors)

    def set_sensor_names(self, names: Mapping[int, str]) -> None:
        """Sensor id → name, for the ``sensors`` field of a track (bit ``id % 63``)."""
        self._names = {int(k) % 63: v for k, v in names.items()}
        self._mask_names = {}

    # -- reading -----------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Change number of the latest change."""
        return self._seq

    @property
    def time_s(self) -> float:
        """Latest data time seen (UTC epoch s; NaN before the first update)."""
        return self._time_s

    @property
    def sources(self) -> tuple[SourceStatus, ...]:
        """The feed counters last set."""
        return self._sources

    @property
    def sensors(self) -> tuple[SensorInfo, ...]:
        """The sensors last set."""
        return self._sensors

    def __len__(self) -> int:
        return len(self._ids)

    def _view(self, slots: NDArray[np.int64]) -> TrackView:
        c = self._s.cols
        return TrackView(self._time_s, self._seq, **{n: c[n][slots] for n in _COPIED})

    def view(self, include_tentative: bool = False) -> TrackView:
        """A copy of every track (confirmed and coasting; tentative ones if asked)."""
        with self._lock:
            slots = self._slot
            if not include_tentative:
                slots = slots[self._s.cols["status"][slots] != TENTATIVE]
            return self._view(slots)

    def changes(self, since_seq: int, include_tentative: bool = False) -> Changes | None:
        """Tracks changed and removed after ``since_seq``; None if that is older than the
        removal log (the caller then sends a snapshot)."""
        with self._lock:
            if since_seq < self._horizon:
                return None
            slots = self._slot
            c = self._s.cols
            keep = c["seq"][slots] > since_seq
            hidden = np.empty(0, np.int64)
            if not include_tentative:                    # changed to tentative: hidden
                tent = c["status"][slots] == TENTATIVE
                hidden = c["track_id"][slots[keep & tent & c["shown"][slots]]]
                keep &= ~tent
            start = int(np.searchsorted(np.asarray(self._rm_seq), since_seq, "right"))
            rm = np.concatenate([*self._rm_id[start:], hidden])
            up = self._view(slots[keep])
            if len(rm) and len(up):                  # removed, then back: upsert only,
                rm = rm[~np.isin(rm, up.track_id)]   # so the two lists are disjoint
            return Changes(up, rm)

    def track(self, track_id: int) -> tuple[TrackView, NDArray[np.float64]] | None:
        """One track and its trail ``[[t_s, lat_deg, lon_deg, alt_ft], ...]`` (oldest
        first), or None when unknown."""
        with self._lock:
            i = int(np.searchsorted(self._ids, track_id))
            if i >= len(self._ids) or self._ids[i] != track_id:
                return None
            slot = self._slot[i:i + 1]
            s = self._s
            order = (np.arange(self.trail_points) + s.trail_head[slot[0]]) % self.trail_points
            t = s.trail_t[slot[0], order]
            pos = s.trail_pos[slot[0], order].astype(np.float64)
            view = self._view(slot)
        ok = np.isfinite(t)
        return view, np.column_stack([t[ok], pos[ok]])

    def sensor_names(self, mask: int) -> list[str]:
        """Names of the sensors in bitmask ``mask`` (``sensor-N`` for unnamed bits)."""
        got = self._mask_names.get(mask)
        if got is None:
            got = [self._names.get(b, f"sensor-{b}") for b in range(63) if mask >> b & 1]
            self._mask_names[mask] = got
        return got

    # -- notification ------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from the writer's thread) after every change."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self) -> None:
        for cb in list(self._listeners):
            cb()
