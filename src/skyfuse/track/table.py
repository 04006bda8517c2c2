"""TrackTable: every live track as a row of equal-length arrays (struct of arrays).

The filter state of each track is its *posterior* at ``t_s`` (the time of its last update);
predictions are computed when needed and never stored, so a track can be predicted to any
report's own time (rotating radars, several sensors) without drift.

| column        | dtype   | meaning                                                          |
|---------------|---------|------------------------------------------------------------------|
| track_id      | int64   | stable track number, never reused                               |
| status        | int8    | :class:`TrackStatus`                                             |
| state         |         | filter mixture ``xm[K,r,n]``, ``Pm[K,r,n,n]``, ``mu[K,r]``       |
| x, P          | float64 | its moment-matched single Gaussian ``x[K,n]``, ``P[K,n,n]``       |
| t_s           | float64 | time of the posterior (last update)                              |
| t_first_s     | float64 | time of the first report of the track                            |
| n_updates     | int32   | reports used (two-point initiation counts 2)                     |
| quality       | float32 | updates received / updates expected at the revisit period (0..1) |
| nis_sum       | float32 | sum of the normalised innovations d² = νᵀS⁻¹ν of its updates      |
| icao24        | int32   | 24-bit address [-1]                                              |
| addr_type     | int8    | :class:`~skyfuse.measure.AddressType`                            |
| mode3a        | int16   | last Mode 3/A code [-1]                                          |
| callsign      | S8      | last callsign [b""]                                              |
| alt_ft        | float64 | last barometric altitude, feet [NaN]                             |
| sensors       | int64   | bit ``s % 63`` set for every sensor ``s`` that updated the track |
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from skyfuse.track.filters.base import MixtureState

__all__ = ["TrackStatus", "TrackTable"]


class TrackStatus(IntEnum):
    """Track life cycle: tentative → confirmed ⇄ coasting → (deleted: row removed)."""

    TENTATIVE = 0
    CONFIRMED = 1
    COASTING = 2


STATUS_NAMES = np.array(["tentative", "confirmed", "coasting"])


@dataclass(slots=True)
class TrackTable:
    """The live tracks; rows are appended on initiation and removed on deletion."""

    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    state: MixtureState
    x: NDArray[np.float64]
    P: NDArray[np.float64]
    t_s: NDArray[np.float64]
    t_first_s: NDArray[np.float64]
    n_updates: NDArray[np.int32]
    quality: NDArray[np.float32]
    nis_sum: NDArray[np.float32]
    icao24: NDArray[np.int32]
    addr_type: NDArray[np.int8]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    alt_ft: NDArray[np.float64]
    sensors: NDArray[np.int64]

    @classmethod
    def empty(cls, n_modes: int, ndim: int) -> TrackTable:
        """No tracks, for a filter with ``n_modes`` modes and state dimension ``ndim``."""
        return cls.new(
            track_id=np.empty(0, np.int64),
            state=MixtureState(np.empty((0, n_modes, ndim)),
                               np.empty((0, n_modes, ndim, ndim)), np.empty((0, n_modes))),
            x=np.empty((0, ndim)), P=np.empty((0, ndim, ndim)),
            t_s=np.empty(0), t_first_s=np.empty(0))

    @classmethod
    def new(cls, track_id: NDArray[np.int64], state: MixtureState, x: NDArray[np.float64],
            P: NDArray[np.float64], t_s: NDArray[np.float64], t_first_s: NDArray[np.float64],
            **columns: NDArray) -> TrackTable:
        """Tentative tracks with the given filter state and its combined ``x``, ``P``;
        identity columns default to absent."""
        k = len(track_id)
        base = dict(
            status=np.full(k, TrackStatus.TENTATIVE, np.int8),
            n_updates=np.full(k, 2, np.int32),
            quality=np.ones(k, np.float32),
            nis_sum=np.zeros(k, np.float32),
            icao24=np.full(k, -1, np.int32),
            addr_type=np.zeros(k, np.int8),
            mode3a=np.full(k, -1, np.int16),
            callsign=np.zeros(k, "S8"),
            alt_ft=np.full(k, np.nan),
            sensors=np.zeros(k, np.int64),
        )
        for name, val in columns.items():
            base[name] = np.asarray(val).astype(base[name].dtype, copy=True)
        return cls(track_id=np.asarray(track_id, np.int64), state=state,
                   x=np.array(x, np.float64), P=np.array(P, np.float64),
                   t_s=np.asarray(t_s, np.float64),
                   t_first_s=np.asarray(t_first_s, np.float64), **base)

    def __len__(self) -> int:
        return len(self.track_id)

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> TrackTable:
        """Rows ``idx`` as a new table."""
        return TrackTable(**{
            f.name: (self.state.take(idx) if f.name == "state" else getattr(self, f.name)[idx])
            for f in fields(self)})

    def extend(self, other: TrackTable) -> TrackTable:
        """This table followed by ``other``'s rows."""
        if len(other) == 0:
            return self
        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "state":
                out[f.name] = MixtureState(*(np.concatenate([u, v]) for u, v in zip(a, b,
                                                                                    strict=True)))
            else:
                out[f.name] = np.concatenate([a, b])
        return TrackTable(**out)
