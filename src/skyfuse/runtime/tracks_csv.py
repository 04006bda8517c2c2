"""TRACKS output (CONTRACTS.md): one CSV row per track update.

Columns: ``t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign`` then the extras
``vx_mps,vy_mps`` (velocity east/north in the local frame). ``status`` is
``tentative|confirmed|coasting``; ``alt_ft`` barometric or empty; ``icao24`` six lowercase
hex digits or empty; ``callsign`` trimmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from skyfuse.track.table import STATUS_NAMES

__all__ = ["TRACKS_COLUMNS", "TrackRows", "TracksWriter"]

TRACKS_COLUMNS = ("t_s", "track_id", "status", "lat_deg", "lon_deg", "alt_ft", "icao24",
                  "callsign", "vx_mps", "vy_mps")
"""Header of the TRACKS CSV, in order."""


@dataclass(frozen=True, slots=True)
class TrackRows:
    """Track updates as equal-length arrays (absent: NaN, -1, b"").

    The last four columns are optional (not in the TRACKS CSV; used by the live API and
    the outputs): left as None they are filled with "absent" — ``mode3a`` int16 Mode 3/A
    code, its 12-bit value 0..0o7777 (-1), ``quality`` float32 updates
    received / expected, 0..1 (NaN), ``sensors`` int64 bit ``s % 63`` for every sensor
    ``s`` that updated the track (0), ``vrate_fpm`` vertical rate, ft/min (NaN).
    """

    t_s: NDArray[np.float64]
    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_ft: NDArray[np.float64]
    icao24: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    vx_mps: NDArray[np.float64]
    vy_mps: NDArray[np.float64]
    mode3a: NDArray[np.int16] = None  # type: ignore[assignment]
    quality: NDArray[np.float32] = None  # type: ignore[assignment]
    sensors: NDArray[np.int64] = None  # type: ignore[assignment]
    vrate_fpm: NDArray[np.float64] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.t_s)
        for name, dtype, absent in _OPTIONAL:
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(n, absent, dtype))

    def __len__(self) -> int:
        return len(self.t_s)

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_] | slice) -> TrackRows:
        """Rows ``idx`` (every column) as new rows."""
        return TrackRows(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})


_OPTIONAL: tuple[tuple[str, type, float], ...] = (
    ("mode3a", np.int16, -1), ("quality", np.float32, np.nan), ("sensors", np.int64, 0),
    ("vrate_fpm", np.float64, np.nan))


def _f(v: float, digits: int) -> str:
    return "" if math.isnan(v) else f"{v:.{digits}f}"


class TracksWriter:
    """Writes :class:`TrackRows` to a text stream as TRACKS CSV (header first)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.rows = 0
        out.write(",".join(TRACKS_COLUMNS) + "\n")

    def write(self, rows: TrackRows) -> None:
        """Append ``rows`` (buffered: call :meth:`flush` to push them out)."""
        lines = []
        status = STATUS_NAMES[np.clip(rows.status, 0, 2)].tolist()
        for t, tid, st, la, lo, alt, a, cs, vx, vy in zip(
                rows.t_s.tolist(), rows.track_id.tolist(), status, rows.lat_deg.tolist(),
                rows.lon_deg.tolist(), rows.alt_ft.tolist(), rows.icao24.tolist(),
                rows.callsign.tolist(), rows.vx_mps.tolist(), rows.vy_mps.tolist(),
                strict=True):
            call = cs.decode("ascii", "replace").strip().replace(",", " ")
            lines.append(f"{t:.3f},{tid},{st},{la:.6f},{lo:.6f},{_f(alt, 0)},"
                         f"{f'{a:06x}' if a >= 0 else ''},{call},{vx:.1f},{vy:.1f}\n")
        self.out.write("".join(lines))
        self.rows += len(lines)

    def flush(self) -> None:
        """Push buffered rows to the file."""
        self.out.flush()
