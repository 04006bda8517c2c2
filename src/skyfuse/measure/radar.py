r"""Radar plots (CAT048) → polar measurements in the local frame; radar health from CAT034.

Slant range to ground range (spherical earth, law of cosines)
-------------------------------------------------------------
With ``R`` the earth's Gaussian radius of curvature at the sensor
(``R = sqrt(M·N)``, WGS84), sensor height ``h_s`` and target height ``h_t`` above it,
``a = R + h_s``, ``b = R + h_t``, and the bias-corrected slant range ``ρ``, the triangle
(earth centre, sensor, target) gives the earth-central angle ``γ``:

    ρ² = a² + b² − 2ab·cos γ          (law of cosines)
    ⇒ sin²(γ/2) = (ρ² − (b − a)²) / (4ab)      (the same, stable for small γ)

and the ground range (great-circle distance at sea level) ``g = R·γ``. It exists only when
``|b − a| ≤ ρ ≤ a + b``; other plots are kept with ``valid = False``. The elevation of the
line of sight follows from the same triangle: ``sin ε = (b² − a² − ρ²) / (2aρ)``.

The target height comes from the flight level: ``h_t = FL · 100 ft`` (pressure altitude used
as height: the error, up to a few hundred metres in strong pressure anomalies, changes the
ground range by ``Δh·sin ε`` — metres beyond ~30 km). Without a valid flight level the
target is taken at the sensor's height (``ε ≈ 0``, ground ≈ slant range).

Into the tracker's frame
------------------------
The plot's sub-point is placed with the ellipsoidal line of sight (``pymap3d.aer2geodetic``
from the sensor, azimuth ``θ − azimuth_bias``, elevation ``ε``, range ``ρ``), projected into
the local frame at sea level, and expressed as (range, azimuth) from the sensor's own sea
level sub-point in that frame. This folds in the meridian convergence between the sensor's
north and the frame's y axis (about ``Δlon·sin lat``: 0.6° for a radar 100 km east of the
centre at 45° N, far above azimuth noise). Horizontal positions of other sources must be
projected the same way (at height 0) to agree.

Covariance: azimuth ``σ_θ`` from the sensor file; ground-range ``σ_g = σ_ρ·|dg/dρ|`` with
``dg/dρ = R·ρ / (a·b·sin γ)`` (capped at 10 near the vertical, where the polar model
breaks down anyway).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pymap3d
from numpy.typing import NDArray

from skyfuse.decode.asterix_records import RadarPlots, RadarServiceMessages
from skyfuse.measure.batch import AddressType, MeasurementBatch, SourceKind
from skyfuse.measure.geodesy import FT_TO_M, LocalFrame, radii_of_curvature_m
from skyfuse.measure.sensors import SensorTable

__all__ = [
    "RadarMeasurements",
    "gaussian_radius_m",
    "ground_range_m",
    "plots_to_measurements",
    "rotation_periods_s",
]

_MAX_RANGE_GAIN = 10.0

_TYP_SOURCE = np.array([  # I048/020 TYP → SourceKind (0: no detection → from the sensor kind)
    SourceKind.UNKNOWN, SourceKind.PSR, SourceKind.SSR, SourceKind.SSR,
    SourceKind.MODE_S, SourceKind.MODE_S, SourceKind.MODE_S, SourceKind.MODE_S,
], np.int8)
_KIND_SOURCE = {"psr": SourceKind.PSR, "ssr": SourceKind.SSR, "modes": SourceKind.MODE_S,
                "adsb": SourceKind.ADSB, "mlat": SourceKind.MLAT}


def gaussian_radius_m(lat_deg: float) -> float:
    """WGS84 Gaussian mean radius of curvature ``sqrt(M·N)`` at ``lat_deg``, metres."""
    m, n = radii_of_curvature_m(lat_deg)
    return float(np.sqrt(m * n))


def ground_range_m(
    slant_range_m: NDArray[np.float64],
    sensor_height_m: float | NDArray[np.float64],
    target_height_m: NDArray[np.float64],
    earth_radius_m: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Ground range, elevation (rad), ``dg/dρ`` and validity for slant ranges (see module doc).

    Pure function of arrays; invalid geometry gives NaN and ``False``.
    """
    R = earth_radius_m
    rho = np.asarray(slant_range_m, np.float64)
    a = R + np.asarray(sensor_height_m, np.float64)
    b = R + np.asarray(target_height_m, np.float64)
    s2 = (rho**2 - (b - a) ** 2) / (4.0 * a * b)  # sin²(γ/2)
    ok = np.isfinite(s2) & (s2 >= 0.0) & (s2 <= 1.0) & (rho > 0.0)
    gamma = np.where(ok, 2.0 * np.arcsin(np.sqrt(np.clip(s2, 0.0, 1.0))), np.nan)
    g = R * gamma  # g = R·γ
    with np.errstate(divide="ignore", invalid="ignore"):
        sin_el = (b**2 - a**2 - rho**2) / (2.0 * a * rho)  # sin ε
        gain = R * rho / (a * b * np.sin(gamma))  # dg/dρ
    el = np.where(ok, np.arcsin(np.clip(sin_el, -1.0, 1.0)), np.nan)
    gain = np.where(ok & np.isfinite(gain), np.minimum(np.abs(gain), _MAX_RANGE_GAIN),
                    _MAX_RANGE_GAIN)
    return g, el, gain, ok


@dataclass(frozen=True, slots=True)
class RadarMeasurements:
    """Result of :func:`plots_to_measurements`.

    ``batch`` holds the plots of known sensors (``sensor`` = index in the sensor table);
    ``unknown_sensors`` counts the plots dropped per (SAC, SIC) absent from the table;
    ``invalid`` counts plots kept with ``valid = False`` (no position, impossible geometry).
    """

    batch: MeasurementBatch
    unknown_sensors: dict[tuple[int, int], int]
    invalid: int


def plots_to_measurements(
    plots: RadarPlots, sensors: SensorTable, frame: LocalFrame
) -> RadarMeasurements:
    """CAT048 plots → polar :class:`MeasurementBatch` rows in ``frame`` (see module doc).

    Identity: ``icao24`` (address type ICAO) from I048/220, ``mode3a`` when validated and
    not garbled, ``callsign``, ``alt_ft = FL·100`` when the flight level is valid. Source
    kind from I048/020 TYP, else from the sensor's kind. Never raises on unknown sensors.
    """
    idx = sensors.lookup(plots.sac, plots.sic)
    known = idx >= 0
    unknown = Counter(zip(plots.sac[~known].tolist(), plots.sic[~known].tolist(), strict=True))
    p = plots.take(known)
    idx = idx[known]
    m = len(p)
    rng = np.full(m, np.nan)
    az = np.full(m, np.nan)
    sig_r = np.zeros(m)
    sig_a = np.zeros(m)
    origin = np.zeros((m, 3))
    valid = np.zeros(m, np.bool_)
    source = _TYP_SOURCE[np.clip(p.detection_type, 0, 7)]
    alt_ft = np.where(p.fl_ok, p.fl * 100.0, np.nan)
    for i in np.unique(idx):
        s = sensors.sensors[int(i)]
        rows = np.flatnonzero(idx == i)
        R = gaussian_radius_m(s.lat_deg)
        rho = p.slant_range_m[rows] - s.range_bias_m
        theta = p.azimuth_deg[rows] - s.azimuth_bias_deg
        h_t = np.where(np.isfinite(alt_ft[rows]), alt_ft[rows] * FT_TO_M, s.height_m)
        _g, el, gain, ok = ground_range_m(rho, s.height_m, h_t, R)
        lat, lon, _h = pymap3d.aer2geodetic(
            np.where(ok, theta, 0.0), np.degrees(np.where(ok, el, 0.0)),
            np.where(ok, rho, 0.0), s.lat_deg, s.lon_deg, s.height_m)
        xy = frame.to_plane(lat, lon)
        o = frame.to_enu(s.lat_deg, s.lon_deg, 0.0)[0]
        d = xy - o[:2]
        rng[rows] = np.where(ok, np.hypot(d[:, 0], d[:, 1]), np.nan)
        az[rows] = np.where(ok, np.mod(np.arctan2(d[:, 0], d[:, 1]), 2 * np.pi), np.nan)
        origin[rows] = (o[0], o[1], frame.to_enu(s.lat_deg, s.lon_deg, s.height_m)[0, 2])
        sig_r[rows] = s.sigma_range_m * gain
        sig_a[rows] = np.radians(s.sigma_azimuth_deg)
        valid[rows] = ok
        src = source[rows]
        source[rows] = np.where(src == SourceKind.UNKNOWN, _KIND_SOURCE[s.kind], src)
    has_addr = p.icao24 >= 0
    batch = MeasurementBatch.polar(
        p.t_s, rng, az, origin, sig_r, sig_a,
        sensor=idx, source=source, icao24=p.icao24,
        addr_type=np.where(has_addr, AddressType.ICAO, AddressType.NONE),
        mode3a=np.where(p.mode3a_ok, p.mode3a, -1), callsign=p.callsign, alt_ft=alt_ft,
        valid=valid,
    )
    return RadarMeasurements(batch, dict(unknown), int(m - valid.sum()))


def rotation_periods_s(services: RadarServiceMessages) -> dict[tuple[int, int], float]:
    """Antenna rotation period per (SAC, SIC) from CAT034, seconds.

    I034/041 when sent (median); otherwise estimated from consecutive north markers
    (azimuth 0) and sector crossings of the same sensor: ``360° · Δt / Δazimuth`` with
    ``Δazimuth`` taken modulo 360 (the antenna turns clockwise), median over pairs.
    Sensors with no usable pair are absent. Pure function of the messages.
    """
    out: dict[tuple[int, int], float] = {}
    keys = sorted(set(zip(services.sac.tolist(), services.sic.tolist(), strict=True)))
    for sac, sic in keys:
        sel = (services.sac == sac) & (services.sic == sic)
        sent = services.rotation_period_s[sel]
        sent = sent[np.isfinite(sent) & (sent > 0)]
        if len(sent):
            out[(sac, sic)] = float(np.median(sent))
            continue
        mt = services.msg_type[sel]
        az = np.where(mt == 1, 0.0, services.sector_deg[sel])
        t = services.tod_s[sel]
        use = ((mt == 1) | (mt == 2)) & np.isfinite(az)
        t, az = t[use], az[use]
        order = np.argsort(t, kind="stable")
        t, az = t[order], az[order]
        dt = np.diff(t)
        dt = np.where(dt < -43200.0, dt + 86400.0, dt)  # midnight
        da = np.mod(np.diff(az), 360.0)
        ok = (dt > 0) & (da > 0)
        if ok.any():
            out[(sac, sic)] = float(np.median(360.0 * dt[ok] / da[ok]))
    return out
