"""Sensor file: radars and receivers identified by SAC/SIC, with position and error model.

A TOML file with one ``[[sensor]]`` table per sensor::

    [[sensor]]
    name = "Paris-Orly MSSR"     # required, unique
    sac = 25                     # required, 0..255  (ASTERIX System Area Code)
    sic = 13                     # required, 0..255  (System Identification Code); unique pair
    kind = "modes"               # required: psr | ssr | modes | adsb | mlat
    lat_deg = 48.72              # required, WGS84 latitude, degrees
    lon_deg = 2.38               # required, WGS84 longitude, degrees
    height_m = 120.0             # antenna height above the ellipsoid, metres (default 0)
    sigma_range_m = 40.0         # range noise, 1 sigma, metres (default by kind)
    sigma_azimuth_deg = 0.05     # azimuth noise, 1 sigma, degrees (default by kind)
    range_bias_m = 0.0           # measured − true range, metres (default 0)
    azimuth_bias_deg = 0.0       # measured − true azimuth, degrees (default 0)
    rotation_period_s = 4.0      # antenna period, seconds (radars; default 4.0)

Unknown keys are errors (a typo must not silently fall back to a default). Every error is a
:class:`SensorFileError` naming the file, the sensor (index and name) and the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["KINDS", "Sensor", "SensorFileError", "SensorTable", "load_sensors", "parse_sensors"]

KINDS = ("psr", "ssr", "modes", "adsb", "mlat")
"""Sensor kinds a file may name."""

_DEFAULT_SIGMA: dict[str, tuple[float, float]] = {  # (range m, azimuth deg), typical values
    "psr": (60.0, 0.10),
    "ssr": (40.0, 0.08),
    "modes": (30.0, 0.05),
    "adsb": (0.0, 0.0),
    "mlat": (0.0, 0.0),
}
_REQUIRED = ("name", "sac", "sic", "kind", "lat_deg", "lon_deg")
_OPTIONAL = ("height_m", "sigma_range_m", "sigma_azimuth_deg", "range_bias_m",
             "azimuth_bias_deg", "rotation_period_s")


class SensorFileError(ValueError):
    """A sensor file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Sensor:
    """One sensor's description (units in the names; see the module docstring)."""

    name: str
    sac: int
    sic: int
    kind: str
    lat_deg: float
    lon_deg: float
    height_m: float = 0.0
    sigma_range_m: float = 40.0
    sigma_azimuth_deg: float = 0.08
    range_bias_m: float = 0.0
    azimuth_bias_deg: float = 0.0
    rotation_period_s: float = 4.0


@dataclass(frozen=True, slots=True)
class SensorTable:
    """The sensors of a file, looked up by SAC/SIC; the index is the batch ``sensor`` id."""

    sensors: tuple[Sensor, ...]

    def __len__(self) -> int:
        return len(self.sensors)

    def index_of(self, sac: int, sic: int) -> int:
        """Index of the sensor with this SAC/SIC, or -1."""
        for i, s in enumerate(self.sensors):
            if s.sac == sac and s.sic == sic:
                return i
        return -1

    def lookup(self, sac: NDArray[np.integer], sic: NDArray[np.integer]) -> NDArray[np.int32]:
        """Sensor index for every (sac, sic) pair, -1 where unknown (vectorised)."""
        key = np.asarray(sac, np.int64) * 256 + np.asarray(sic, np.int64)
        out = np.full(key.shape, -1, np.int32)
        for i, s in enumerate(self.sensors):
            out[key == s.sac * 256 + s.sic] = i
        return out


def _fail(where: str, msg: str) -> SensorFileError:
    return SensorFileError(f"{where}: {msg}")


def _number(where: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _fail(where, f"{key} must be a finite number, got {v!r}")
    return float(v)


def _sensor(where: str, t: Any) -> Sensor:
    if not isinstance(t, dict):
        raise _fail(where, "must be a table ([[sensor]])")
    for key in _REQUIRED:
        if key not in t:
            raise _fail(where, f"missing required key {key!r}")
    extra = sorted(set(t) - set(_REQUIRED) - set(_OPTIONAL))
    if extra:
        raise _fail(where, f"unknown key {extra[0]!r} (known: "
                    f"{', '.join(_REQUIRED + _OPTIONAL)})")
    name = t["name"]
    if not isinstance(name, str) or not name.strip():
        raise _fail(where, f"name must be a non-empty string, got {name!r}")
    where = f"{where} ({name})"
    for key in ("sac", "sic"):
        v = t[key]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255:
            raise _fail(where, f"{key} must be an integer 0..255, got {v!r}")
    kind = t["kind"]
    if kind not in KINDS:
        raise _fail(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    lat = _number(where, "lat_deg", t["lat_deg"])
    lon = _number(where, "lon_deg", t["lon_deg"])
    if not -90.0 <= lat <= 90.0:
        raise _fail(where, f"lat_deg must be within -90..90, got {lat}")
    if not -180.0 <= lon <= 360.0:
        raise _fail(where, f"lon_deg must be within -180..360, got {lon}")
    sr, sa = _DEFAULT_SIGMA[kind]
    vals = {
        "height_m": 0.0, "sigma_range_m": sr, "sigma_azimuth_deg": sa, "range_bias_m": 0.0,
        "azimuth_bias_deg": 0.0, "rotation_period_s": 4.0,
    }
    for key in _OPTIONAL:
        if key in t:
            vals[key] = _number(where, key, t[key])
    for key in ("sigma_range_m", "sigma_azimuth_deg"):
        if vals[key] < 0:
            raise _fail(where, f"{key} must be ≥ 0, got {vals[key]}")
        if kind in ("psr", "ssr", "modes") and vals[key] == 0:
            raise _fail(where, f"{key} must be > 0 for a {kind} radar")
    if vals["rotation_period_s"] <= 0:
        raise _fail(where, f"rotation_period_s must be > 0, got {vals['rotation_period_s']}")
    return Sensor(name=name, sac=t["sac"], sic=t["sic"], kind=kind, lat_deg=lat, lon_deg=lon,
                  **vals)


def parse_sensors(text: str, source: str = "<sensors>") -> SensorTable:
    """Parse sensor-file text; ``source`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SensorFileError(f"{source}: not valid TOML: {exc}") from None
    extra = sorted(set(doc) - {"sensor"})
    if extra:
        raise SensorFileError(f"{source}: unknown top-level key {extra[0]!r} (expected "
                              "[[sensor]] tables)")
    tables = doc.get("sensor", [])
    if not isinstance(tables, list):
        raise SensorFileError(f"{source}: 'sensor' must be an array of tables ([[sensor]])")
    sensors: list[Sensor] = []
    seen: dict[tuple[int, int], str] = {}
    names: set[str] = set()
    for i, t in enumerate(tables):
        s = _sensor(f"{source}: sensor[{i}]", t)
        if (s.sac, s.sic) in seen:
            raise SensorFileError(f"{source}: sensor[{i}] ({s.name}): sac/sic {s.sac}/{s.sic} "
                                  f"already used by {seen[(s.sac, s.sic)]!r}")
        if s.name in names:
            raise SensorFileError(f"{source}: sensor[{i}]: name {s.name!r} used twice")
        seen[(s.sac, s.sic)] = s.name
        names.add(s.name)
        sensors.append(s)
    return SensorTable(tuple(sensors))


def load_sensors(path: str | Path) -> SensorTable:
    """Read and validate a sensor file (raises :class:`SensorFileError`, naming ``path``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SensorFileError(f"{p}: cannot read: {exc}") from None
    return parse_sensors(text, str(p))
