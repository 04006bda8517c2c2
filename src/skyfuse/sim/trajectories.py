"""Truth trajectories: real recorded flights, cleaned, smoothed and put on a regular grid.

Input: a derived sample of the ``traffic`` package (``data/trajectories/*.npz``, see its
README): rows of (time, aircraft, lat, lon, baro altitude, on-ground flag, callsign,
squawk). Output: :class:`Trajectories`, one *segment* per continuous airborne flight
(``truth_id``), sampled every ``dt_s`` (1 s) on a shared struct-of-arrays grid.

Per aircraft, vectorised over its rows:

1. **drop** on-ground rows, rows without position or altitude, and spikes: a row whose
   implied ground speed to both neighbours exceeds ``max_speed_mps`` (350 m/s), or whose
   altitude is more than 1,000 ft off the median of its 7 neighbours;
2. **split** where consecutive kept rows are more than ``max_gap_s`` (120 s) apart; drop
   segments shorter than ``min_duration_s`` (60 s);
3. **resample** east/north (a tangent plane at the segment's first point) and altitude
   linearly onto the grid ``t0 + k·dt``, then **smooth** with a Gaussian kernel of
   ``smooth_s`` (``σ`` in seconds; samples recorded at 1 s carry ~5-10 m of noise and
   10 s samples have polygon corners; the kernel is normalised near the ends, so no edge
   shrinkage);
4. velocity east/north from the smoothed geodetic track:
   ``v_e = dλ/dt·(N+h)·cos φ``, ``v_n = dφ/dt·(M+h)`` (``M``, ``N`` the WGS84 radii).

:meth:`Trajectories.at` interpolates any (segment, time) pairs linearly on the 1 s grid
(error ≤ ``a·dt²/8``, 2 m in a 3 °/s turn at 250 m/s). Heights: the barometric altitude
(pressure altitude) is used as the height above the ellipsoid, exactly as the radar reader
(:mod:`skyfuse.measure.radar`) turns Mode C into a height; the simulation and the slant →
ground correction are thereby consistent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pymap3d
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d, median_filter

from skyfuse.measure.geodesy import FT_TO_M, LocalFrame, radii_of_curvature_m

__all__ = ["Sample", "Trajectories", "TrajectoryConfig", "build_trajectories", "load_sample"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Sample:
    """Raw recorded rows (column-wise), sorted by (aircraft, time)."""

    t_s: F64
    aircraft: NDArray[np.int32]
    icao24: NDArray[np.str_]
    callsign: NDArray[np.str_]
    squawk: NDArray[np.int16]
    lat_deg: F64
    lon_deg: F64
    alt_ft: F64
    onground: NDArray[np.bool_]
    window_s: tuple[float, float]


def load_sample(name_or_path: str | Path) -> Sample:
    """A packaged sample (``"quickstart"``, ``"switzerland"``) or a ``.npz`` file path."""
    p = Path(name_or_path)
    if p.suffix != ".npz":
        p = Path(str(resources.files("skyfuse") / "data" / "trajectories" / f"{p.name}.npz"))
    with np.load(p) as z:
        calls = z["callsigns"][z["callsign_index"]]
        return Sample(
            t_s=z["t_ms"].astype(np.float64) / 1e3, aircraft=z["aircraft"].astype(np.int32),
            icao24=z["icao24"], callsign=calls, squawk=z["squawk"].astype(np.int16),
            lat_deg=z["lat_deg"].astype(np.float64), lon_deg=z["lon_deg"].astype(np.float64),
            alt_ft=z["alt_ft"].astype(np.float64), onground=z["onground"].astype(bool),
            window_s=(float(z["window_ms"][0]) / 1e3, float(z["window_ms"][1]) / 1e3))


@dataclass(frozen=True, slots=True)
class TrajectoryConfig:
    """Cleaning and smoothing settings (seconds, metres, feet)."""

    dt_s: float = 1.0
    smooth_s: float = 4.0
    max_gap_s: float = 120.0
    min_duration_s: float = 60.0
    max_speed_mps: float = 350.0
    max_alt_jump_ft: float = 1000.0


@dataclass(frozen=True, slots=True)
class Trajectories:
    """Truth segments on a regular grid (struct of arrays; see the module docstring).

    Per segment ``f`` (``truth_id = f + 1``): ``t0_s[f]``, ``start[f]``, ``count[f]`` (grid
    rows ``start .. start+count``), ``icao24[f]`` (int), ``callsign[f]``, ``squawk[f]``
    (Mode 3/A, -1 unknown). Per grid row: ``lat_deg``, ``lon_deg``, ``alt_ft``, ``h_m``
    (height used for geometry), ``vx_mps``/``vy_mps`` (east/north), ``vz_mps``, ``ecef_m``.
    """

    dt_s: float
    t0_s: F64
    start: NDArray[np.int64]
    count: NDArray[np.int64]
    icao24: NDArray[np.int32]
    callsign: NDArray[np.str_]
    squawk: NDArray[np.int16]
    lat_deg: F64
    lon_deg: F64
    alt_ft: F64
    vx_mps: F64
    vy_mps: F64
    vz_mps: F64
    ecef_m: F64

    def __len__(self) -> int:
        return len(self.t0_s)

    @property
    def t1_s(self) -> F64:
        """Last grid time of each segment."""
        return self.t0_s + (self.count - 1) * self.dt_s

    @property
    def segment_of_row(self) -> NDArray[np.int64]:
        """Segment index of every grid row."""
        return np.repeat(np.arange(len(self)), self.count)

    @property
    def t_row_s(self) -> F64:
        """Time of every grid row."""
        seg = self.segment_of_row
        return self.t0_s[seg] + (np.arange(len(seg)) - self.start[seg]) * self.dt_s

    def at(self, seg: NDArray[np.integer], t_s: F64) -> dict[str, F64]:
        """Linear interpolation of every grid column at (segment, time) pairs.

        Times are clipped to the segment; returns ``lat_deg, lon_deg, alt_ft, vx_mps,
        vy_mps, vz_mps, ecef_m`` arrays.
        """
        seg = np.asarray(seg, np.int64)
        u = np.clip((np.asarray(t_s, np.float64) - self.t0_s[seg]) / self.dt_s,
                    0.0, (self.count[seg] - 1).astype(np.float64))
        k = np.minimum(np.floor(u).astype(np.int64), np.maximum(self.count[seg] - 2, 0))
        w = u - k
        i0 = self.start[seg] + k
        i1 = np.minimum(i0 + 1, self.start[seg] + self.count[seg] - 1)
        out: dict[str, F64] = {}
        for name in ("lat_deg", "lon_deg", "alt_ft", "vx_mps", "vy_mps", "vz_mps"):
            col = getattr(self, name)
            out[name] = col[i0] * (1.0 - w) + col[i1] * w
        out["ecef_m"] = self.ecef_m[i0] * (1.0 - w)[:, None] + self.ecef_m[i1] * w[:, None]
        return out


def _clean(t: F64, lat: F64, lon: F64, alt: F64, ground: NDArray[np.bool_],
           cfg: TrajectoryConfig) -> NDArray[np.bool_]:
    """Rows of one aircraft kept by step 1 of the module docstring."""
    ok = ~ground & np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt)
    idx = np.flatnonzero(ok)
    if len(idx) < 3:
        return np.zeros(len(t), bool)
    for _ in range(2):
        if len(idx) < 3:
            break
        frame = LocalFrame(float(lat[idx[0]]), float(lon[idx[0]]))
        xy = frame.to_plane(lat[idx], lon[idx])
        dt = np.maximum(np.diff(t[idx]), 1e-3)
        v = np.hypot(*np.diff(xy, axis=0).T) / dt
        fast = v > cfg.max_speed_mps
        spike = np.zeros(len(idx), bool)
        spike[1:-1] = fast[:-1] & fast[1:]
        spike[0] = fast[0] and len(idx) > 1
        spike[-1] = fast[-1]
        med = median_filter(alt[idx], size=7, mode="nearest")
        spike |= np.abs(alt[idx] - med) > cfg.max_alt_jump_ft
        if not spike.any():
            break
        idx = idx[~spike]
    keep = np.zeros(len(t), bool)
    keep[idx] = True
    return keep


def _smooth(x: F64, sig: float) -> F64:
    """Gaussian smoothing with point-symmetric padding (``2·x₀ − x_k``): a straight,
    steady path is left unchanged up to its ends (no lag, no shrinkage there)."""
    pad = min(int(4 * sig) + 1, len(x) - 1)
    left = 2.0 * x[0] - x[1:pad + 1][::-1]
    right = 2.0 * x[-1] - x[-pad - 1:-1][::-1]
    y = gaussian_filter1d(np.concatenate([left, x, right]), sig, mode="nearest")
    return y[pad:pad + len(x)]


def _segment_grid(t: F64, lat: F64, lon: F64, alt: F64,
                  cfg: TrajectoryConfig) -> tuple[float, dict[str, F64]]:
    """Resample + smooth one segment (steps 3-4); returns (t0, columns)."""
    t0 = np.ceil(t[0] / cfg.dt_s) * cfg.dt_s
    grid = np.arange(t0, t[-1] + 1e-9, cfg.dt_s)
    frame = LocalFrame(float(lat[0]), float(lon[0]))
    xy = frame.to_plane(lat, lon)
    cols = [np.interp(grid, t, c) for c in (xy[:, 0], xy[:, 1], alt)]
    sig = cfg.smooth_s / cfg.dt_s
    if sig > 0 and len(grid) > 2:
        cols = [_smooth(c, sig) for c in cols]
    e, n, a = cols
    la, lo = frame.from_plane(e, n)
    h = a * FT_TO_M
    if len(grid) > 1:
        phi = np.radians(la)
        M, N = radii_of_curvature_m(la)
        v_e = np.gradient(np.unwrap(np.radians(lo)), cfg.dt_s) * (N + h) * np.cos(phi)
        v_n = np.gradient(phi, cfg.dt_s) * (M + h)
        v_z = np.gradient(h, cfg.dt_s)
    else:
        v_e = v_n = v_z = np.zeros(1)
    return float(t0), {"lat_deg": la, "lon_deg": lo, "alt_ft": a, "vx_mps": v_e,
                       "vy_mps": v_n, "vz_mps": v_z}


def build_trajectories(sample: Sample, start_s: float, end_s: float,
                       cfg: TrajectoryConfig | None = None) -> Trajectories:
    """Truth segments of ``sample`` within ``[start_s, end_s)`` (UTC epoch seconds)."""
    cfg = cfg or TrajectoryConfig()
    sel = (sample.t_s >= start_s) & (sample.t_s < end_s)
    ac = sample.aircraft[sel]
    cuts = np.flatnonzero(np.diff(ac)) + 1
    bounds = np.concatenate([[0], cuts, [len(ac)]])
    rows = np.flatnonzero(sel)
    segs: list[tuple[float, int, str, int, dict[str, F64]]] = []
    for b0, b1 in itertools.pairwise(bounds):
        r = rows[b0:b1]
        t, lat, lon, alt = sample.t_s[r], sample.lat_deg[r], sample.lon_deg[r], sample.alt_ft[r]
        keep = np.flatnonzero(_clean(t, lat, lon, alt, sample.onground[r], cfg))
        if len(keep) < 2:
            continue
        brk = np.flatnonzero(np.diff(t[keep]) > cfg.max_gap_s) + 1
        for part in np.split(keep, brk):
            if len(part) < 2 or t[part[-1]] - t[part[0]] < cfg.min_duration_s:
                continue
            t0, cols = _segment_grid(t[part], lat[part], lon[part], alt[part], cfg)
            icao = int(str(sample.icao24[ac[b0]]), 16)
            calls = [c for c in sample.callsign[r[part]] if c]
            sq = sample.squawk[r[part]]
            sq = sq[sq >= 0]
            squawk = int(np.bincount(sq).argmax()) if len(sq) else -1
            segs.append((t0, icao, calls[-1] if calls else "", squawk, cols))
    return _assemble(segs, cfg.dt_s)


def _assemble(segs: list[tuple[float, int, str, int, dict[str, F64]]],
              dt_s: float) -> Trajectories:
    segs.sort(key=lambda s: (s[0], s[1]))
    count = np.array([len(s[4]["lat_deg"]) for s in segs], np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)

    def cat(name: str) -> F64:
        if not segs:
            return np.empty(0)
        return np.concatenate([s[4][name] for s in segs])

    lat, lon, alt = cat("lat_deg"), cat("lon_deg"), cat("alt_ft")
    x, y, z = pymap3d.geodetic2ecef(lat, lon, alt * FT_TO_M)
    return Trajectories(
        dt_s=dt_s, t0_s=np.array([s[0] for s in segs], np.float64), start=start,
        count=count, icao24=np.array([s[1] for s in segs], np.int32),
        callsign=np.array([s[2] for s in segs], dtype="U8"),
        squawk=np.array([s[3] for s in segs], np.int16), lat_deg=lat, lon_deg=lon,
        alt_ft=alt, vx_mps=cat("vx_mps"), vy_mps=cat("vy_mps"), vz_mps=cat("vz_mps"),
        ecef_m=np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1).reshape(-1, 3))
