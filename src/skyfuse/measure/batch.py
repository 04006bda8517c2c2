"""MeasurementBatch: the reports a tracker consumes, as a struct of equal-length arrays.

One row per report (a radar plot, an ADS-B position, an MLAT fix, a CSV plot). Nothing in
the hot path creates a Python object per report: decoders fill these arrays, the tracker
reads them with numpy indexing.

Columns (M reports; "absent" values in brackets):

| column    | dtype   | shape   | meaning                                                    |
|-----------|---------|---------|------------------------------------------------------------|
| t_s       | float64 | M       | time of applicability, UTC epoch seconds (or scenario s)   |
| sensor    | int32   | M       | sensor id (index into the caller's sensor registry)        |
| source    | int8    | M       | :class:`SourceKind`, ordered by trust (readsb's idea)      |
| kind      | int8    | M       | :class:`MeasKind`: how to read ``z`` and ``R``             |
| z         | float64 | M, 3    | measurement vector, padded with NaN (see MeasKind)         |
| R         | float64 | M, 3, 3 | measurement covariance, zero-padded                        |
| origin_m  | float64 | M, 3    | sensor position in the local frame (polar plots), metres   |
| icao24    | int32   | M       | 24-bit address [-1]                                        |
| addr_type | int8    | M       | :class:`AddressType` [NONE]                                |
| mode3a    | int16   | M       | Mode 3/A code as an integer 0..0o7777 [-1]; never identity |
| callsign  | S8      | M       | callsign, ASCII, space-trimmed [b""]                       |
| alt_ft    | float64 | M       | barometric altitude, feet [NaN]                            |
| nacp      | int8    | M       | ADS-B navigation accuracy category for position [-1]       |
| valid     | bool    | M       | False: keep for bookkeeping, never use for tracking        |

Local frame: east-north-up metres about the system centre (``x`` east, ``y`` north).
Polar azimuth: radians clockwise from north, as radars report it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "NO_ADDRESS",
    "NO_MODE3A",
    "AddressType",
    "MeasKind",
    "MeasurementBatch",
    "SourceKind",
]

NO_ADDRESS = -1
NO_MODE3A = -1


class MeasKind(IntEnum):
    """How a report's ``z``/``R`` are to be read.

    CARTESIAN_2D: ``z = [x_m, y_m, nan]``, ``R`` upper-left 2x2.
    CARTESIAN_3D: ``z = [x_m, y_m, z_m]``, ``R`` 3x3.
    POLAR: ``z = [range_m, azimuth_rad, nan]`` from ``origin_m``; ``R`` upper-left 2x2 in
    (m², rad²). Range is ground range (slant range already corrected for height).
    """

    CARTESIAN_2D = 0
    CARTESIAN_3D = 1
    POLAR = 2


class SourceKind(IntEnum):
    """Where a report comes from, ordered from least to most trusted (as readsb orders them).

    A higher value wins when two sources disagree on a field such as identity.
    """

    UNKNOWN = 0
    PLOT_FILE = 1
    PSR = 2
    SSR = 3
    MODE_S = 4
    MLAT = 5
    ADSB = 6


class AddressType(IntEnum):
    """Type of the 24-bit address a report carries (DF17/18 CF, ASTERIX I021/040 ATP)."""

    NONE = 0
    ICAO = 1
    NON_ICAO = 2
    TISB = 3


@dataclass(frozen=True, slots=True)
class MeasurementBatch:
    """Equal-length arrays, one row per report. See the module docstring for the columns.

    Build one with :meth:`cartesian` / :meth:`polar` (defaults for absent fields), join
    several with :meth:`concat`, select rows with :meth:`take`.
    """

    t_s: NDArray[np.float64]
    sensor: NDArray[np.int32]
    source: NDArray[np.int8]
    kind: NDArray[np.int8]
    z: NDArray[np.float64]
    R: NDArray[np.float64]
    origin_m: NDArray[np.float64]
    icao24: NDArray[np.int32]
    addr_type: NDArray[np.int8]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    alt_ft: NDArray[np.float64]
    nacp: NDArray[np.int8]
    valid: NDArray[np.bool_]

    def __post_init__(self) -> None:
        m = len(self.t_s)
        for f in fields(self):
            a = getattr(self, f.name)
            if len(a) != m:
                raise ValueError(f"MeasurementBatch.{f.name} has {len(a)} rows, t_s has {m}")
        if self.z.shape != (m, 3) or self.R.shape != (m, 3, 3) or self.origin_m.shape != (m, 3):
            raise ValueError("MeasurementBatch: z must be (M,3), R (M,3,3), origin_m (M,3)")

    def __len__(self) -> int:
        return len(self.t_s)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def empty(cls) -> MeasurementBatch:
        """A batch with no rows."""
        return cls._with_defaults(np.empty(0), MeasKind.CARTESIAN_2D)

    @classmethod
    def _with_defaults(cls, t_s: NDArray[np.float64], kind: MeasKind) -> MeasurementBatch:
        m = len(t_s)
        return cls(
            t_s=np.asarray(t_s, np.float64),
            sensor=np.zeros(m, np.int32),
            source=np.full(m, SourceKind.PLOT_FILE, np.int8),
            kind=np.full(m, kind, np.int8),
            z=np.full((m, 3), np.nan),
            R=np.zeros((m, 3, 3)),
            origin_m=np.zeros((m, 3)),
            icao24=np.full(m, NO_ADDRESS, np.int32),
            addr_type=np.full(m, AddressType.NONE, np.int8),
            mode3a=np.full(m, NO_MODE3A, np.int16),
            callsign=np.zeros(m, "S8"),
            alt_ft=np.full(m, np.nan),
            nacp=np.full(m, -1, np.int8),
            valid=np.ones(m, np.bool_),
        )

    @classmethod
    def cartesian(
        cls,
        t_s: NDArray[np.float64] | Sequence[float],
        xy_m: NDArray[np.float64],
        sigma_m: float | NDArray[np.float64],
        **columns: NDArray | Sequence,
    ) -> MeasurementBatch:
        """Cartesian 2-D plots ``xy_m[M,2]`` with isotropic noise ``sigma_m`` (scalar or [M]).

        Any other column may be given by keyword (``icao24=...``, ``sensor=...``).
        """
        t = np.asarray(t_s, np.float64)
        b = cls._with_defaults(t, MeasKind.CARTESIAN_2D)
        xy = np.asarray(xy_m, np.float64).reshape(len(t), 2)
        b.z[:, :2] = xy
        var = np.broadcast_to(np.asarray(sigma_m, np.float64) ** 2, (len(t),))
        b.R[:, 0, 0] = var
        b.R[:, 1, 1] = var
        return b.replace(**columns) if columns else b

    @classmethod
    def polar(
        cls,
        t_s: NDArray[np.float64] | Sequence[float],
        range_m: NDArray[np.float64],
        azimuth_rad: NDArray[np.float64],
        origin_m: NDArray[np.float64],
        sigma_range_m: float | NDArray[np.float64],
        sigma_azimuth_rad: float | NDArray[np.float64],
        **columns: NDArray | Sequence,
    ) -> MeasurementBatch:
        """Polar plots (ground range, azimuth clockwise from north) from ``origin_m[M,3]``."""
        t = np.asarray(t_s, np.float64)
        m = len(t)
        b = cls._with_defaults(t, MeasKind.POLAR)
        b.z[:, 0] = range_m
        b.z[:, 1] = azimuth_rad
        b.origin_m[:] = np.broadcast_to(np.asarray(origin_m, np.float64), (m, 3))
        b.R[:, 0, 0] = np.broadcast_to(np.asarray(sigma_range_m, np.float64) ** 2, (m,))
        b.R[:, 1, 1] = np.broadcast_to(np.asarray(sigma_azimuth_rad, np.float64) ** 2, (m,))
        return b.replace(**columns) if columns else b

    def replace(self, **columns: NDArray | Sequence) -> MeasurementBatch:
        """A copy with the named columns replaced (cast to their dtypes)."""
        new = {}
        for f in fields(self):
            old = getattr(self, f.name)
            if f.name in columns:
                val = np.asarray(columns.pop(f.name))
                new[f.name] = np.broadcast_to(val, old.shape).astype(old.dtype, copy=True)
            else:
                new[f.name] = old
        if columns:
            raise TypeError(f"unknown MeasurementBatch columns: {sorted(columns)}")
        return MeasurementBatch(**new)

    # -- selection -------------------------------------------------------------------------
    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_] | slice) -> MeasurementBatch:
        """Rows ``idx`` (integer indices, a boolean mask or a slice) as a new batch."""
        return _trusted([getattr(self, name)[idx] for name in _COLUMNS])

    @staticmethod
    def concat(batches: Sequence[MeasurementBatch]) -> MeasurementBatch:
        """Rows of all ``batches``, in order."""
        if not batches:
            return MeasurementBatch.empty()
        return _trusted([np.concatenate([getattr(b, name) for b in batches])
                         for name in _COLUMNS])

    def sorted_by_time(self) -> MeasurementBatch:
        """Rows in time order (stable: equal times keep their order)."""
        order = np.argsort(self.t_s, kind="stable")
        return self.take(order)

    @property
    def xy_approx_m(self) -> NDArray[np.float64]:
        """Horizontal position of every report in the local frame, [M,2] metres.

        Polar plots are converted with the plain (biased) conversion; this is meant for
        spatial indexing, not for estimation.
        """
        xy = self.z[:, :2].copy()
        pol = self.kind == MeasKind.POLAR
        if pol.any():
            r, az = self.z[pol, 0], self.z[pol, 1]
            xy[pol, 0] = self.origin_m[pol, 0] + r * np.sin(az)
            xy[pol, 1] = self.origin_m[pol, 1] + r * np.cos(az)
        return xy


_COLUMNS = tuple(f.name for f in fields(MeasurementBatch))


def _trusted(arrays: list[np.ndarray]) -> MeasurementBatch:
    """A batch from column arrays known to be consistent (rows of a valid batch): no checks.

    Selection runs several times per tracker step; skipping validation there matters.
    """
    b = object.__new__(MeasurementBatch)
    for name, a in zip(_COLUMNS, arrays, strict=True):
        object.__setattr__(b, name, a)
    return b
