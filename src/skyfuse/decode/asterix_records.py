"""Typed struct-of-arrays results of ASTERIX decoding, one class per kind of report.

Every class is a frozen dataclass of equal-length numpy arrays (one row per ASTERIX record),
with "absent" values: ``-1`` for integer codes and addresses, ``NaN`` for quantities,
``b""`` for callsigns. Times: ``tod_s`` is the record's own time of day (seconds since UTC
midnight, as sent), ``t_s`` the UTC epoch seconds resolved from it (see
:class:`skyfuse.decode.asterix.TimeOfDayClock`). ``sac``/``sic`` identify the sensor.

No Python object per record crosses a stage: :class:`ColumnBuffer` collects the columns
while decoding and :meth:`ColumnBuffer.build` turns them into arrays once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AdsbReports",
    "AsterixBatch",
    "ColumnBuffer",
    "MlatReports",
    "RadarPlots",
    "RadarServiceMessages",
]

NM_TO_M = 1852.0

_T = TypeVar("_T", bound="_Columns")


class _Columns:
    """Shared behaviour: construction from lists, length, row selection."""

    __slots__ = ()
    DTYPES: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_lists(cls: type[_T], cols: dict[str, list[Any]]) -> _T:
        """Arrays from per-column lists (the decoder's buffers)."""
        return cls(**{k: np.asarray(cols[k], dtype=dt) for k, dt in cls.DTYPES.items()})

    @classmethod
    def empty(cls: type[_T]) -> _T:
        """No rows."""
        return cls.from_lists({k: [] for k in cls.DTYPES})

    def __len__(self) -> int:
        return len(self.t_s)  # type: ignore[attr-defined]

    def take(self: _T, idx: NDArray[np.intp] | NDArray[np.bool_] | slice) -> _T:
        """Rows ``idx`` as a new object."""
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})  # type: ignore[arg-type]

    @classmethod
    def concat(cls: type[_T], parts: list[_T]) -> _T:
        """Rows of all ``parts`` in order."""
        if not parts:
            return cls.empty()
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.DTYPES})


@dataclass(frozen=True, slots=True)
class RadarPlots(_Columns):
    """CAT048 monoradar target reports (plots), one row per record.

    ``slant_range_m``/``azimuth_deg`` are I048/040 as measured (no bias removed; NaN when
    the record has no I048/040, e.g. a "no detection" end-of-track report);
    ``detection_type`` is I048/020 TYP (0 no detection, 1 single PSR, 2 single SSR,
    3 SSR+PSR, 4 Mode S all-call, 5 Mode S roll-call, 6 all-call+PSR, 7 roll-call+PSR).
    ``mode3a`` is the 12-bit code as an integer (``0o7777`` max) with ``mode3a_ok`` True when
    validated and not garbled; ``fl`` the flight level (hundreds of feet) with ``fl_ok``
    likewise.
    """

    t_s: NDArray[np.float64]
    tod_s: NDArray[np.float64]
    sac: NDArray[np.int16]
    sic: NDArray[np.int16]
    slant_range_m: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    detection_type: NDArray[np.int8]
    mode3a: NDArray[np.int16]
    mode3a_ok: NDArray[np.bool_]
    fl: NDArray[np.float64]
    fl_ok: NDArray[np.bool_]
    icao24: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    track_number: NDArray[np.int32]

    DTYPES: ClassVar[dict[str, str]] = {
        "t_s": "f8", "tod_s": "f8", "sac": "i2", "sic": "i2", "slant_range_m": "f8",
        "azimuth_deg": "f8", "detection_type": "i1", "mode3a": "i2", "mode3a_ok": "?",
        "fl": "f8", "fl_ok": "?", "icao24": "i4", "callsign": "S8", "track_number": "i4",
    }


@dataclass(frozen=True, slots=True)
class RadarServiceMessages(_Columns):
    """CAT034 monoradar service messages (north marker, sector crossing, ...).

    ``msg_type`` is I034/000 (1 north marker, 2 sector crossing, 3 geographical filtering,
    4 jamming strobe, 5 solar storm, 6 SSR jamming strobe, 7 Mode S jamming strobe);
    ``sector_deg`` I034/020; ``rotation_period_s`` I034/041; health from I034/050 COM:
    ``nogo`` (1: operational use inhibited), ``overload`` (1: RDP or transmission
    overload), ``time_source_invalid`` — each ``-1`` when I034/050 COM is absent.
    """

    t_s: NDArray[np.float64]
    tod_s: NDArray[np.float64]
    sac: NDArray[np.int16]
    sic: NDArray[np.int16]
    msg_type: NDArray[np.int16]
    sector_deg: NDArray[np.float64]
    rotation_period_s: NDArray[np.float64]
    nogo: NDArray[np.int8]
    overload: NDArray[np.int8]
    time_source_invalid: NDArray[np.int8]

    DTYPES: ClassVar[dict[str, str]] = {
        "t_s": "f8", "tod_s": "f8", "sac": "i2", "sic": "i2", "msg_type": "i2",
        "sector_deg": "f8", "rotation_period_s": "f8", "nogo": "i1", "overload": "i1",
        "time_source_invalid": "i1",
    }


@dataclass(frozen=True, slots=True)
class AdsbReports(_Columns):
    """CAT021 ADS-B target reports with a position (I021/131 high resolution, else 130).

    ``address_type`` is I021/040 ATP (0 ICAO 24-bit, 1 duplicate, 2 surface vehicle,
    3 anonymous); ``nacp`` from I021/090 (``-1`` if absent); ``fl`` from I021/145.
    """

    t_s: NDArray[np.float64]
    tod_s: NDArray[np.float64]
    sac: NDArray[np.int16]
    sic: NDArray[np.int16]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    icao24: NDArray[np.int32]
    address_type: NDArray[np.int8]
    callsign: NDArray[np.bytes_]
    fl: NDArray[np.float64]
    nacp: NDArray[np.int8]

    DTYPES: ClassVar[dict[str, str]] = {
        "t_s": "f8", "tod_s": "f8", "sac": "i2", "sic": "i2", "lat_deg": "f8",
        "lon_deg": "f8", "icao24": "i4", "address_type": "i1", "callsign": "S8", "fl": "f8",
        "nacp": "i1",
    }


@dataclass(frozen=True, slots=True)
class MlatReports(_Columns):
    """CAT020 multilateration target reports.

    Position as WGS84 (I020/041) and/or Cartesian about the system's reference point
    (I020/042, ``x_m`` east, ``y_m`` north); absent parts are NaN.
    """

    t_s: NDArray[np.float64]
    tod_s: NDArray[np.float64]
    sac: NDArray[np.int16]
    sic: NDArray[np.int16]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    icao24: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    fl: NDArray[np.float64]
    track_number: NDArray[np.int32]

    DTYPES: ClassVar[dict[str, str]] = {
        "t_s": "f8", "tod_s": "f8", "sac": "i2", "sic": "i2", "lat_deg": "f8",
        "lon_deg": "f8", "x_m": "f8", "y_m": "f8", "icao24": "i4", "callsign": "S8",
        "fl": "f8", "track_number": "i4",
    }


@dataclass(frozen=True, slots=True)
class AsterixBatch:
    """Everything decoded from a run of datagrams, by kind of report."""

    plots: RadarPlots
    services: RadarServiceMessages
    adsb: AdsbReports
    mlat: MlatReports

    @classmethod
    def empty(cls) -> AsterixBatch:
        """No reports."""
        return cls(RadarPlots.empty(), RadarServiceMessages.empty(), AdsbReports.empty(),
                   MlatReports.empty())

    @staticmethod
    def concat(parts: list[AsterixBatch]) -> AsterixBatch:
        """All reports of ``parts``, in order."""
        return AsterixBatch(
            RadarPlots.concat([p.plots for p in parts]),
            RadarServiceMessages.concat([p.services for p in parts]),
            AdsbReports.concat([p.adsb for p in parts]),
            MlatReports.concat([p.mlat for p in parts]),
        )


class ColumnBuffer:
    """Per-column lists for one record class, filled row by row while decoding."""

    __slots__ = ("cls", "cols")

    def __init__(self, cls: type[_Columns]) -> None:
        self.cls = cls
        self.cols: dict[str, list[Any]] = {k: [] for k in cls.DTYPES}

    def append(self, row: dict[str, Any]) -> None:
        """Append one row (all columns must be given)."""
        for k, col in self.cols.items():
            col.append(row[k])

    def __len__(self) -> int:
        return len(self.cols["t_s"])

    def build(self) -> Any:
        """The arrays so far, as an instance of the record class; the buffer is emptied."""
        out = self.cls.from_lists(self.cols)
        self.cols = {k: [] for k in self.cls.DTYPES}
        return out
