"""Identity-first association: a report with a 24-bit address goes to the track holding it.

As ARTAS and COMPASS do, cooperative reports are matched by address before kinematics,
but behind a *looser* kinematic sanity gate, because addresses can be duplicated (two
aircraft with one address) or bogus (a corrupted frame that passed CRC). Mode 3/A codes are
never identities: conspicuity codes (7000, 2000, 1200, 1000) are shared by many aircraft.

Candidate pairs are every (track, report) with the same address: a sorted join, no loop.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["address_conflict", "address_pairs"]

I = NDArray[np.intp]


def address_pairs(track_icao: NDArray[np.int32], report_icao: NDArray[np.int32]) -> tuple[I, I]:
    """All (track, report) pairs whose known (≥ 0) addresses are equal."""
    has = np.flatnonzero(report_icao >= 0)
    if len(has) == 0 or len(track_icao) == 0:
        e = np.empty(0, np.intp)
        return e, e
    order = np.argsort(track_icao, kind="stable")
    sorted_icao = track_icao[order]
    lo = np.searchsorted(sorted_icao, report_icao[has], "left")
    hi = np.searchsorted(sorted_icao, report_icao[has], "right")
    n = hi - lo
    reports = np.repeat(has, n)
    start = np.repeat(lo, n)
    offset = np.arange(len(reports)) - np.repeat(np.cumsum(n) - n, n)
    tracks = order[start + offset]
    return tracks.astype(np.intp), reports.astype(np.intp)


def address_conflict(
    track_icao: NDArray[np.int32], report_icao: NDArray[np.int32]
) -> NDArray[np.bool_]:
    """Pairwise: both addresses known and different (such a pair is never associated)."""
    return (track_icao >= 0) & (report_icao >= 0) & (track_icao != report_icao)
