"""The output interface and the helpers every output shares.

An output receives :class:`~skyfuse.runtime.tracks_csv.TrackRows` (struct-of-arrays track
updates) from the runtime, in the tracker's thread. ``publish`` must return quickly and
never block on I/O: each output hands the rows to its own writer (a thread or an event
loop) through a bounded buffer and drops — counting what it dropped — when that buffer is
full. ``close`` stops the writer after sending what is buffered.

Optional columns of ``TrackRows``: ``mode3a`` int16 Mode 3/A code as its 12-bit value (-1
absent), ``quality`` float32 (NaN), ``sensors`` int64 bitmask, bit ``s % 63`` per sensor
that updated the track (0 none known), ``vrate_fpm`` float (NaN). Outputs read them through
:func:`column`, which falls back to an "absent" array when a field does not exist or is
None, so outputs also work with duck-typed rows that lack them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from skyfuse.runtime.tracks_csv import TrackRows

__all__ = ["KT_TO_MPS", "TrackOutput", "column", "ground_velocity"]

KT_TO_MPS = 1852.0 / 3600.0
"""One knot in metres per second."""


@runtime_checkable
class TrackOutput(Protocol):
    """Where track updates go. ``publish`` never blocks the tracker (queue or drop)."""

    def publish(self, rows: TrackRows) -> None:
        """Hand over one batch of track updates (the arrays must not be mutated after)."""

    def close(self) -> None:
        """Send what is buffered, stop the writer, release sockets and files."""


def column(rows: TrackRows, name: str, fill: Any, dtype: Any) -> NDArray[Any]:
    """``rows.<name>`` as an array of ``dtype``, or ``len(rows)`` copies of ``fill`` when
    ``TrackRows`` has no such field (or it is None)."""
    v = getattr(rows, name, None)
    if v is None:
        return np.full(len(rows), fill, dtype)
    return np.asarray(v, dtype)


def ground_velocity(vx_mps: NDArray[np.float64], vy_mps: NDArray[np.float64]
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ground speed (kt) and track angle (degrees clockwise from north, [0, 360)) from the
    east/north velocity: ``gs = hypot(vx, vy) / 0.5144``, ``track = atan2(vx, vy)``."""
    gs_kt = np.hypot(vx_mps, vy_mps) / KT_TO_MPS
    track_deg = np.mod(np.degrees(np.arctan2(vx_mps, vy_mps)), 360.0)
    return gs_kt, track_deg
