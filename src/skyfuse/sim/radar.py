r"""Rotating radars (PSR, SSR, Mode S) looking at truth trajectories → plots.

Antenna. It turns clockwise at constant speed; scan ``k`` starts (north marker, azimuth
0) at ``t_k = t_start + φ·T + k·T`` (``T`` the rotation period, ``φ`` a seeded phase).
The beam points at azimuth ``α(t) = 360°·(t − t_k)/T``. A target at azimuth ``θ(t)`` is
crossed when ``α(t) = θ(t)``; solved by fixed-point iteration from ``t = t_k``:

    t ← t_k + T·θ(t)/360°       (3 passes: θ moves ≪ the beam, converges to µs)

(a pair that has not settled, a target crossing north with the beam, is dropped: the
neighbouring scan's pair holds that crossing; two pairs settling on one crossing give one
plot), then rounded to the ASTERIX time-of-day
LSB (1/128 s), and the geometry is computed at that rounded time, so the plot's time
and position are exactly consistent.

Geometry (at the plot time): the target's ECEF position (truth height = barometric
altitude, as the reader assumes) in the radar's ENU frame gives the slant range
``ρ = |e, n, u|``, the azimuth ``θ = atan2(e, n)`` and the elevation ``ε = asin(u/ρ)``.

Coverage: ``min_range ≤ ρ ≤ max_range``; ``ε ≤ cone_of_silence``; line of sight over an
earth of radius ``k·R`` (refraction, k = 4/3): the ground distance ``g`` from the radar's
sub-point must satisfy ``g ≤ kR·(acos(kR/(kR+h_s)) + acos(kR/(kR+h_t)))``.

Detection: Bernoulli with ``Pd``, optionally falling linearly from ``pd`` at
``pd_falloff_from_nm`` to ``pd_at_max_range`` at ``max_range_nm``. A co-located PSR draws
its own detection over its own coverage. Outcomes per (target, scan):

| SSR | PSR | plot (SIC, I048/020 TYP)        | measurement | identity            |
|-----|-----|---------------------------------|-------------|---------------------|
| yes | yes | radar SIC, 7 (Mode S) / 3 (SSR) | SSR σ, bias | Mode A, C, S        |
| yes | no  | radar SIC, 5 (Mode S) / 2 (SSR) | SSR σ, bias | Mode A, C, S        |
| no  | yes | PSR SIC, 1                      | PSR σ, bias | none                |

(TYP 5 "single Mode S roll-call", 7 "Mode S roll-call + PSR": a Mode S radar interrogates
the targets it has acquired by roll-call.)

(a ``kind = "psr"`` radar makes only TYP 1 plots on its own SIC). Measurement noise:
``ρ_m = ρ + b_ρ + N(0, σ_ρ²)``, ``θ_m = θ + b_θ + N(0, σ_θ²)`` (mod 360). Mode S radars
report the 24-bit address and the callsign, SSR only Mode 3/A and C; Mode C is the
barometric altitude rounded to 25 ft (I048/090's LSB is 1/4 FL).

Clutter: per scan a Poisson number (mean ``clutter_per_scan``) of PSR plots uniform over
the PSR's coverage disc (``ρ = R·√u``, ``θ`` uniform), timed by the beam at ``θ``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymap3d
from numpy.typing import NDArray

from skyfuse.measure.geodesy import FT_TO_M
from skyfuse.sim.scenario import RadarConfig
from skyfuse.sim.trajectories import Trajectories

__all__ = ["NM_M", "TOD_LSB_S", "RadarPlotsSim", "coverage_mask", "radar_geometry",
           "simulate_radar"]

NM_M = 1852.0
TOD_LSB_S = 1.0 / 128.0
F64 = NDArray[np.float64]
_EARTH_R = 6_371_000.0


@dataclass(frozen=True, slots=True)
class RadarPlotsSim:
    """Simulated plots of one radar site, time-sorted (struct of arrays).

    ``truth_id`` is the segment index (-1 for clutter); ``typ`` the I048/020 TYP;
    ``icao24``/``mode3a`` -1 and ``fl`` NaN when absent; ``north_s`` the scan start times.
    ``true_range_m``/``true_azimuth_deg`` are the noise-free values (for tests).
    """

    t_s: F64
    sic: NDArray[np.int32]
    typ: NDArray[np.int8]
    range_m: F64
    azimuth_deg: F64
    true_range_m: F64
    true_azimuth_deg: F64
    truth_id: NDArray[np.int64]
    icao24: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    fl: F64
    callsign: NDArray[np.str_]
    north_s: F64

    def __len__(self) -> int:
        return len(self.t_s)


def radar_geometry(r: RadarConfig, ecef: F64) -> tuple[F64, F64, F64]:
    """Slant range (m), azimuth (deg), elevation (deg) of ECEF points from radar ``r``."""
    e, n, u = pymap3d.ecef2enu(ecef[:, 0], ecef[:, 1], ecef[:, 2], r.lat_deg, r.lon_deg,
                               r.height_m)
    rho = np.sqrt(e * e + n * n + u * u)
    az = np.mod(np.degrees(np.arctan2(e, n)), 360.0)
    el = np.degrees(np.arcsin(np.clip(u / np.maximum(rho, 1e-9), -1.0, 1.0)))
    return rho, az, el


def coverage_mask(r: RadarConfig, rho_m: F64, el_deg: F64, lat_deg: F64, lon_deg: F64,
                  h_m: F64, max_range_nm: float) -> NDArray[np.bool_]:
    """Targets the radar can see: range limits, cone of silence, line of sight (k·R)."""
    kr = r.refraction_k * _EARTH_R
    p1, p2 = np.radians(r.lat_deg), np.radians(lat_deg)
    dl = np.radians(lon_deg - r.lon_deg)
    hav = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    g = 2.0 * _EARTH_R * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))   # ground distance
    hs, ht = max(r.height_m, 0.0), np.maximum(h_m, 0.0)
    horizon = kr * (np.arccos(kr / (kr + hs)) + np.arccos(kr / (kr + ht)))
    return ((rho_m >= r.min_range_nm * NM_M) & (rho_m <= max_range_nm * NM_M)
            & (el_deg <= r.cone_of_silence_deg) & (g <= horizon))


def _pd(pd: float, pd_max: float | None, from_nm: float, max_nm: float, rho_m: F64) -> F64:
    if pd_max is None:
        return np.full(len(rho_m), pd)
    f = np.clip((rho_m / NM_M - from_nm) / max(max_nm - from_nm, 1e-9), 0.0, 1.0)
    return pd + (pd_max - pd) * f


def _scan_pairs(traj: Trajectories, north0: float, period: float, n_scans: int
                ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(segment, scan) pairs whose scan overlaps the segment."""
    k0 = np.clip(np.floor((traj.t0_s - north0) / period) - 1, 0, n_scans).astype(np.int64)
    k1 = np.clip(np.ceil((traj.t1_s - north0) / period) + 1, 0, n_scans).astype(np.int64)
    n = np.maximum(k1 - k0, 0)
    seg = np.repeat(np.arange(len(traj)), n)
    scan = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(k0, n)
    return seg, scan


def simulate_radar(traj: Trajectories, r: RadarConfig, t_start_s: float, t_end_s: float,
                   rng: np.random.Generator) -> RadarPlotsSim:
    """All plots of radar site ``r`` (and its PSR) in ``[t_start_s, t_end_s)``."""
    period = r.rotation_period_s
    north0 = t_start_s + rng.random() * period
    n_scans = int(np.ceil((t_end_s - north0) / period))
    north = north0 + period * np.arange(n_scans)
    seg, scan = _scan_pairs(traj, north0, period, n_scans)
    t = north[scan].copy()
    for _ in range(3):                                     # t ← t_k + T·θ(t)/360
        _rho, az, _el = radar_geometry(r, traj.at(seg, t)["ecef_m"])
        t = north[scan] + period * az / 360.0
    t = np.round(t / TOD_LSB_S) * TOD_LSB_S
    inside = (t >= traj.t0_s[seg]) & (t <= traj.t1_s[seg]) & (t >= t_start_s) & (t < t_end_s)
    seg, t, scan = seg[inside], t[inside], scan[inside]
    s = traj.at(seg, t)
    rho, az, el = radar_geometry(r, s["ecef_m"])
    # a target crossing north as the beam does can flip between the scan's two ends
    # without converging: that (target, scan) pair is the neighbouring scan's plot
    beam = 360.0 * (t - north[scan]) / period
    settled = np.abs((beam - az + 180.0) % 360.0 - 180.0) < 0.5 + 360.0 * TOD_LSB_S / period
    # ... and when both neighbouring pairs settle on one crossing, keep it once: a
    # target's plots are at least half a revolution apart
    ok = np.flatnonzero(settled)
    order = ok[np.lexsort((t[ok], seg[ok]))]
    settled[order[1:]] &= ~((seg[order[1:]] == seg[order[:-1]])
                            & (t[order[1:]] - t[order[:-1]] < 0.5 * period))
    seg, t, rho, az, el = seg[settled], t[settled], rho[settled], az[settled], el[settled]
    s = {k: v[settled] for k, v in s.items()}
    h = s["alt_ft"] * FT_TO_M
    secondary = r.kind != "psr"
    if secondary:
        cov = coverage_mask(r, rho, el, s["lat_deg"], s["lon_deg"], h, r.max_range_nm)
        det_s = cov & (rng.random(len(t)) < _pd(r.pd, r.pd_at_max_range,
                                                r.pd_falloff_from_nm, r.max_range_nm, rho))
    else:
        det_s = np.zeros(len(t), bool)
    p = r.psr
    if p is not None or not secondary:
        pd, pd_max, from_nm, max_nm = ((p.pd, p.pd_at_max_range, p.pd_falloff_from_nm,
                                        p.max_range_nm) if p is not None else
                                       (r.pd, r.pd_at_max_range, r.pd_falloff_from_nm,
                                        r.max_range_nm))
        cov_p = coverage_mask(r, rho, el, s["lat_deg"], s["lon_deg"], h, max_nm)
        det_p = cov_p & (rng.random(len(t)) < _pd(pd, pd_max, from_nm, max_nm, rho))
    else:
        det_p = np.zeros(len(t), bool)
    keep = det_s | det_p
    psr_only = det_p & ~det_s
    modes = r.kind == "modes"
    typ = np.where(det_s & det_p, 7 if modes else 3, 5 if modes else 2).astype(np.int8)
    typ[psr_only] = 1
    psr_sic = p.sic if p is not None else r.sic
    sr = np.where(psr_only, p.sigma_range_m if p else r.sigma_range_m, r.sigma_range_m)
    sa = np.where(psr_only, p.sigma_azimuth_deg if p else r.sigma_azimuth_deg,
                  r.sigma_azimuth_deg)
    br = np.where(psr_only, p.range_bias_m if p else r.range_bias_m, r.range_bias_m)
    ba = np.where(psr_only, p.azimuth_bias_deg if p else r.azimuth_bias_deg,
                  r.azimuth_bias_deg)
    n = len(t)
    rho_m = rho + br + sr * rng.standard_normal(n)
    az_m = np.mod(az + ba + sa * rng.standard_normal(n), 360.0)
    ident = ~psr_only
    icao = np.where(ident & modes, traj.icao24[seg], -1).astype(np.int32)
    mode3a = np.where(ident, traj.squawk[seg], -1).astype(np.int16)
    fl = np.where(ident, np.round(s["alt_ft"] / 25.0) * 0.25, np.nan)
    calls = np.where(ident & modes, traj.callsign[seg], "")
    sic = np.where(psr_only, psr_sic, r.sic).astype(np.int32)
    cols = dict(t_s=t, sic=sic, typ=typ, range_m=rho_m, azimuth_deg=az_m, true_range_m=rho,
                true_azimuth_deg=az, truth_id=seg, icao24=icao, mode3a=mode3a, fl=fl,
                callsign=calls)
    cols = {k: v[keep] for k, v in cols.items()}
    clutter_mean = (p.clutter_per_scan if p is not None else
                    (r.clutter_per_scan if not secondary else 0.0))
    if clutter_mean > 0:
        cols = _with_clutter(cols, r, north, period, clutter_mean, psr_sic,
                             (p.max_range_nm if p is not None else r.max_range_nm) * NM_M,
                             t_start_s, t_end_s, rng)
    order = np.argsort(cols["t_s"], kind="stable")
    return RadarPlotsSim(**{k: v[order] for k, v in cols.items()}, north_s=north)


def _with_clutter(cols: dict[str, NDArray], r: RadarConfig, north: F64, period: float,
                  mean: float, sic: int, max_range_m: float, t0: float, t1: float,
                  rng: np.random.Generator) -> dict[str, NDArray]:
    counts = rng.poisson(mean, len(north))
    m = int(counts.sum())
    scan = np.repeat(np.arange(len(north)), counts)
    az = rng.random(m) * 360.0
    rmin = r.min_range_nm * NM_M
    rho = np.sqrt(rmin**2 + rng.random(m) * (max_range_m**2 - rmin**2))   # uniform in area
    t = np.round((north[scan] + period * az / 360.0) / TOD_LSB_S) * TOD_LSB_S
    ok = (t >= t0) & (t < t1)
    clutter = dict(t_s=t, sic=np.full(m, sic, np.int32), typ=np.ones(m, np.int8),
                   range_m=rho, azimuth_deg=az, true_range_m=np.full(m, np.nan),
                   true_azimuth_deg=np.full(m, np.nan), truth_id=np.full(m, -1, np.int64),
                   icao24=np.full(m, -1, np.int32), mode3a=np.full(m, -1, np.int16),
                   fl=np.full(m, np.nan), callsign=np.full(m, "", dtype="U8"))
    return {k: np.concatenate([cols[k], v[ok]]) for k, v in clutter.items()}
