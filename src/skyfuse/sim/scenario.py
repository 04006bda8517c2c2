"""Scenario files (TOML): which flights, which sensors, with which error models.

::

    [scenario]
    name = "radar-terminal-paris"
    trajectories = "quickstart"     # packaged sample (quickstart | switzerland) or an .npz path
    start_s = 0.0                   # window start, s after the sample's first time
    duration_s = 3600.0
    seed = 1                        # default seed (``--seed`` overrides)
    smooth_s = 4.0                  # truth smoothing kernel σ, s (10 for 10 s samples)
    reference = [49.01, 2.55]       # lat, lon of the tracker's frame (default: first sensor)
    truth_period_s = 1.0            # truth.csv sampling

    [[radar]]                       # one rotating antenna (repeatable)
    name = "CDG MSSR"               # unique; also the recording's file name stem
    kind = "modes"                  # ssr | modes | psr (a radar without secondary)
    sac = 1
    sic = 1
    lat_deg = 49.01
    lon_deg = 2.55
    height_m = 60.0                 # antenna, above the ellipsoid
    rotation_period_s = 4.0
    sigma_range_m = 30.0
    sigma_azimuth_deg = 0.07
    range_bias_m = 0.0              # measured − true
    azimuth_bias_deg = 0.0
    pd = 0.98
    pd_at_max_range = 0.98          # optional: Pd falls linearly from pd_falloff_from_nm
    pd_falloff_from_nm = 0.0        #   out to max_range_nm
    max_range_nm = 120.0
    min_range_nm = 0.5
    cone_of_silence_deg = 45.0      # no detection above this elevation
    refraction_k = 1.3333           # line of sight over a k·R earth
    clutter_per_scan = 0.0          # mean false plots per scan (PSR only)
    port = 8600                     # UDP port in the pcap
    enabled = true

    [radar.psr]                     # optional co-located primary on the same antenna
    sic = 2                         # its own SIC (PSR-only plots and clutter use it)
    sigma_range_m = 50.0
    sigma_azimuth_deg = 0.12
    pd = 0.90
    max_range_nm = 60.0
    clutter_per_scan = 20.0
    # range_bias_m, azimuth_bias_deg, pd_at_max_range, pd_falloff_from_nm as above

    [adsb]
    enabled = true
    format = "beast"                # beast | avr (DF17 frames) | cat021 (ground station)
    sac = 0                         # cat021: the ground station's SAC/SIC and UDP port
    sic = 200
    port = 8601
    equipage = 0.7                  # fraction of aircraft (by address) transmitting
    nacp = [8]                      # NACp of each equipped aircraft, drawn from this list
    position_rate_hz = 1.0          # positions received per second
    velocity_rate_hz = 1.0
    identification_period_s = 5.0
    status_period_s = 5.0           # operational status (carries NACp)
    loss = 0.05                     # random loss of each message
    receiver = [47.0, 8.0]          # lat, lon (default: the reference)
    receiver_height_m = 500.0
    max_range_nm = 250.0
    gap_fraction = 0.0              # fraction of equipped aircraft with gaps
    gaps_per_aircraft = [1, 3]      # inclusive range
    gap_s = [10.0, 60.0]            # duration range, s

Every key is checked: an unknown key or a wrong type is a :class:`ScenarioError` naming
the file and the key. The sensors can be switched off without editing the file
(``disabled`` argument of :func:`load_scenario`: radar names or ``"adsb"``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["AdsbConfig", "PsrConfig", "RadarConfig", "Scenario", "ScenarioError",
           "load_scenario", "parse_scenario"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class PsrConfig:
    """A primary radar sharing a secondary's antenna (its own SIC, error model, coverage)."""

    sic: int
    sigma_range_m: float = 50.0
    sigma_azimuth_deg: float = 0.12
    range_bias_m: float = 0.0
    azimuth_bias_deg: float = 0.0
    pd: float = 0.9
    pd_at_max_range: float | None = None
    pd_falloff_from_nm: float = 0.0
    max_range_nm: float = 60.0
    clutter_per_scan: float = 0.0


@dataclass(frozen=True, slots=True)
class RadarConfig:
    """One rotating radar (see the module docstring for the keys)."""

    name: str
    sac: int
    sic: int
    lat_deg: float
    lon_deg: float
    kind: str = "modes"
    height_m: float = 0.0
    rotation_period_s: float = 4.0
    sigma_range_m: float = 40.0
    sigma_azimuth_deg: float = 0.08
    range_bias_m: float = 0.0
    azimuth_bias_deg: float = 0.0
    pd: float = 0.97
    pd_at_max_range: float | None = None
    pd_falloff_from_nm: float = 0.0
    max_range_nm: float = 200.0
    min_range_nm: float = 0.5
    cone_of_silence_deg: float = 45.0
    refraction_k: float = 4.0 / 3.0
    clutter_per_scan: float = 0.0
    port: int = 8600
    enabled: bool = True
    psr: PsrConfig | None = None


@dataclass(frozen=True, slots=True)
class AdsbConfig:
    """ADS-B transmitters and the receiver hearing them (see the module docstring)."""

    enabled: bool = True
    format: str = "beast"
    sac: int = 0
    sic: int = 200
    port: int = 8601
    equipage: float = 1.0
    nacp: tuple[int, ...] = (8,)
    position_rate_hz: float = 1.0
    velocity_rate_hz: float = 1.0
    identification_period_s: float = 5.0
    status_period_s: float = 5.0
    loss: float = 0.0
    receiver: tuple[float, float] | None = None
    receiver_height_m: float = 100.0
    max_range_nm: float = 250.0
    gap_fraction: float = 0.0
    gaps_per_aircraft: tuple[int, int] = (1, 3)
    gap_s: tuple[float, float] = (10.0, 60.0)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario: the flights and the sensors."""

    name: str
    trajectories: str
    duration_s: float
    start_s: float = 0.0
    seed: int = 1
    smooth_s: float = 4.0
    reference: tuple[float, float] | None = None
    truth_period_s: float = 1.0
    radars: tuple[RadarConfig, ...] = ()
    adsb: AdsbConfig | None = None
    source: str = field(default="<scenario>", compare=False)

    def reference_latlon(self) -> tuple[float, float]:
        """The tracker frame's centre: ``reference``, else the first radar, else ADS-B's."""
        if self.reference is not None:
            return self.reference
        if self.radars:
            return self.radars[0].lat_deg, self.radars[0].lon_deg
        if self.adsb is not None and self.adsb.receiver is not None:
            return self.adsb.receiver
        raise ScenarioError(f"{self.source}: no reference, radar or adsb.receiver position")


def _check(where: str, cls: type, table: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Validate ``table`` against the dataclass ``cls``'s fields; return converted values."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: must be a table")
    known = {f.name: f for f in fields(cls)} | {k: None for k in skip}
    for key in table:
        if key not in known or key == "source":
            raise ScenarioError(f"{where}: unknown key {key!r} (known: "
                                f"{', '.join(k for k in known if k != 'source')})")
    out: dict[str, Any] = {}
    for key, v in table.items():
        f = known[key]
        if f is None:
            continue
        out[key] = _convert(f"{where}: {key}", str(f.type), v)
    return out


def _convert(where: str, typ: str, v: Any) -> Any:
    if typ == "str":
        if not isinstance(v, str) or not v:
            raise ScenarioError(f"{where} must be a non-empty string, got {v!r}")
        return v
    if typ == "bool":
        if not isinstance(v, bool):
            raise ScenarioError(f"{where} must be true or false, got {v!r}")
        return v
    if typ == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            raise ScenarioError(f"{where} must be an integer, got {v!r}")
        return v
    if typ in ("float", "float | None"):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ScenarioError(f"{where} must be a finite number, got {v!r}")
        return float(v)
    if typ.startswith("tuple"):
        if not isinstance(v, list) or not v:
            raise ScenarioError(f"{where} must be a non-empty array, got {v!r}")
        inner = "int" if "int" in typ else "float"
        vals = tuple(_convert(where, inner, x) for x in v)
        if "..." not in typ and len(vals) != 2:
            raise ScenarioError(f"{where} must have 2 elements, got {len(vals)}")
        return vals
    raise ScenarioError(f"{where}: unsupported value {v!r}")


def _positive(where: str, **vals: float) -> None:
    for k, v in vals.items():
        if not v > 0:
            raise ScenarioError(f"{where}: {k} must be > 0, got {v}")


def _fraction(where: str, **vals: float | None) -> None:
    for k, v in vals.items():
        if v is not None and not 0.0 <= v <= 1.0:
            raise ScenarioError(f"{where}: {k} must be within 0..1, got {v}")


def _radar(where: str, t: Any) -> RadarConfig:
    vals = _check(where, RadarConfig, t, skip=("psr",))
    for key in ("name", "sac", "sic", "lat_deg", "lon_deg"):
        if key not in vals:
            raise ScenarioError(f"{where}: missing required key {key!r}")
    where = f"{where} ({vals['name']})"
    psr = None
    if "psr" in t:
        pv = _check(f"{where}: psr", PsrConfig, t["psr"])
        if "sic" not in pv:
            raise ScenarioError(f"{where}: psr: missing required key 'sic'")
        psr = PsrConfig(**pv)
        _positive(f"{where}: psr", sigma_range_m=psr.sigma_range_m,
                  sigma_azimuth_deg=psr.sigma_azimuth_deg, max_range_nm=psr.max_range_nm)
        _fraction(f"{where}: psr", pd=psr.pd, pd_at_max_range=psr.pd_at_max_range)
    r = RadarConfig(**vals, psr=psr)
    if r.kind not in ("psr", "ssr", "modes"):
        raise ScenarioError(f"{where}: kind must be psr, ssr or modes, got {r.kind!r}")
    for key in ("sac", "sic"):
        if not 0 <= getattr(r, key) <= 255:
            raise ScenarioError(f"{where}: {key} must be 0..255")
    if psr is not None and (psr.sic == r.sic or not 0 <= psr.sic <= 255):
        raise ScenarioError(f"{where}: psr: sic must be 0..255 and differ from the radar's")
    _positive(where, rotation_period_s=r.rotation_period_s, sigma_range_m=r.sigma_range_m,
              sigma_azimuth_deg=r.sigma_azimuth_deg, max_range_nm=r.max_range_nm,
              refraction_k=r.refraction_k)
    _fraction(where, pd=r.pd, pd_at_max_range=r.pd_at_max_range)
    if not 0 < r.port < 65536:
        raise ScenarioError(f"{where}: port must be 1..65535")
    return r


def _adsb(where: str, t: Any) -> AdsbConfig:
    a = AdsbConfig(**_check(where, AdsbConfig, t))
    if a.format not in ("beast", "avr", "cat021"):
        raise ScenarioError(f"{where}: format must be beast, avr or cat021, got {a.format!r}")
    if not (0 <= a.sac <= 255 and 0 <= a.sic <= 255 and 0 < a.port < 65536):
        raise ScenarioError(f"{where}: sac/sic must be 0..255, port 1..65535")
    _fraction(where, equipage=a.equipage, loss=a.loss, gap_fraction=a.gap_fraction)
    _positive(where, position_rate_hz=a.position_rate_hz, velocity_rate_hz=a.velocity_rate_hz,
              identification_period_s=a.identification_period_s,
              status_period_s=a.status_period_s, max_range_nm=a.max_range_nm)
    if any(not 1 <= n <= 11 for n in a.nacp):          # NACp 0: no bound, nothing to draw
        raise ScenarioError(f"{where}: nacp values must be 1..11 (0 means unknown accuracy)")
    if a.gaps_per_aircraft[0] > a.gaps_per_aircraft[1] or a.gap_s[0] > a.gap_s[1]:
        raise ScenarioError(f"{where}: gaps_per_aircraft and gap_s must be [low, high]")
    return a


def parse_scenario(text: str, source: str = "<scenario>",
                   disabled: Iterable[str] = ()) -> Scenario:
    """Parse scenario TOML; ``disabled`` names radars (or ``"adsb"``) to switch off."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{source}: not valid TOML: {e}") from None
    extra = sorted(set(doc) - {"scenario", "radar", "adsb"})
    if extra:
        raise ScenarioError(f"{source}: unknown top-level key {extra[0]!r} "
                            "(expected [scenario], [[radar]], [adsb])")
    if "scenario" not in doc:
        raise ScenarioError(f"{source}: missing [scenario] table")
    vals = _check(f"{source}: [scenario]", Scenario, doc["scenario"],
                  skip=())
    for key in ("radars", "adsb"):
        if key in vals:
            raise ScenarioError(f"{source}: [scenario]: unknown key {key!r}")
    for key in ("name", "trajectories", "duration_s"):
        if key not in vals:
            raise ScenarioError(f"{source}: [scenario]: missing required key {key!r}")
    radars_t = doc.get("radar", [])
    if not isinstance(radars_t, list):
        raise ScenarioError(f"{source}: 'radar' must be an array of tables ([[radar]])")
    radars = [_radar(f"{source}: radar[{i}]", t) for i, t in enumerate(radars_t)]
    names = [r.name for r in radars]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{source}: radar names must be unique")
    keys = [(r.sac, s) for r in radars for s in ([r.sic] + ([r.psr.sic] if r.psr else []))]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"{source}: SAC/SIC pairs must be unique")
    adsb = _adsb(f"{source}: [adsb]", doc["adsb"]) if "adsb" in doc else None
    off = set(disabled)
    unknown = off - set(names) - {"adsb"}
    if unknown:
        raise ScenarioError(f"{source}: cannot disable {sorted(unknown)[0]!r}: no such "
                            f"sensor (known: {', '.join([*names, 'adsb'])})")
    radars = [replace(r, enabled=False) if r.name in off else r for r in radars]
    if adsb is not None and "adsb" in off:
        adsb = replace(adsb, enabled=False)
    sc = Scenario(**vals, radars=tuple(radars), adsb=adsb, source=source)
    _positive(f"{source}: [scenario]", duration_s=sc.duration_s,
              truth_period_s=sc.truth_period_s)
    return sc


def load_scenario(path: str | Path, disabled: Iterable[str] = ()) -> Scenario:
    """Read and validate a scenario file (raises :class:`ScenarioError`, naming ``path``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{p}: cannot read: {e}") from None
    return parse_scenario(text, str(p), disabled)
