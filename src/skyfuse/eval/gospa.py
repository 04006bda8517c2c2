"""GOSPA over time (Rahmathullah, García-Fernández, Svensson 2017), horizontal, α = 2.

At each time ``t_k = T0 + k·P`` of the truth time grid (``T0`` the first truth sample, ``P``
the nominal period, up to the last truth sample), with ``X`` the truth objects alive at
``t_k`` (interpolated, :class:`skyfuse.eval.geo.TruthCurve`) and ``Y`` the tracks in the
picture (confirmed or coasting) whose last row at or before ``t_k`` is less than ``P`` old
(updated within the last period, ``(t_k − P, t_k]``), predicted to ``t_k`` with their
velocity (a track that missed one update is absent for that step: GOSPA then counts the
truth as missed, so it also reflects the probability of update)::

    GOSPA = ( min_γ Σ_{(i,j)∈γ} d(x_i, y_j)^p  +  c^p/α · (|X| + |Y| − 2|γ|) )^(1/p)

over partial assignments γ with every assigned distance < c (here p = 1, α = 2,
c = 1000 m). With p = 1 it splits into three additive parts, reported separately:
localisation ``Σ d`` over γ, missed ``c/2 · (|X| − |γ|)`` and false ``c/2 · (|Y| − |γ|)``.

The minimisation: pairs at ≥ c never help (assigning them costs ``c``, the same as leaving
both alone), so the bipartite graph of pairs closer than ``c`` is split into connected
components and each component solved exactly with ``scipy.optimize.linear_sum_assignment``
on ``min(d, c) − c`` (single pairs need no solver). Distances are local east/north metres
at the truth point; the close pairs come from a dense matrix for small steps and from a
k-d tree for large ones (≥ 40,000 truth × track pairs), so 10,000 aircraft stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from skyfuse.eval.csvio import TrackData, TruthData
from skyfuse.eval.geo import TruthCurve, local_offset_m, radii_m, sphere_xyz_m

__all__ = ["GospaSeries", "gospa_pairs", "gospa_series", "gospa_step"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class GospaSeries:
    """GOSPA and its parts per time step ``t_s`` (m), with the set sizes."""

    t_s: F64
    gospa_m: F64
    localisation_m: F64
    missed_m: F64
    false_m: F64
    n_truth: NDArray[np.int64]
    n_tracks: NDArray[np.int64]


def gospa_pairs(n: int, m: int, ri: NDArray[np.int64], ci: NDArray[np.int64], d_m: F64,
                c_m: float = 1000.0, alpha: float = 2.0) -> tuple[float, float, float, float]:
    """(gospa, localisation, missed, false) for one step, p = 1, from the sparse pairs
    ``(ri[k], ci[k])`` of truth ``ri`` and track ``ci`` at ``d_m[k] < c_m`` (``n`` truth
    objects, ``m`` tracks; absent pairs are ≥ c apart)."""
    loc, assigned = 0.0, 0
    if len(ri):
        g = coo_matrix((np.ones(len(ri)), (ri, ci + n)), shape=(n + m, n + m))
        _ncomp, lab = connected_components(g, directed=False)
        comp_of_pair = lab[ri]
        order = np.argsort(comp_of_pair, kind="stable")
        cuts = np.flatnonzero(np.diff(comp_of_pair[order])) + 1
        single = [grp[0] for grp in np.split(order, cuts) if len(grp) == 1]
        loc += float(d_m[single].sum())
        assigned += len(single)
        for grp in np.split(order, cuts):
            if len(grp) == 1:
                continue
            rows, r_at = np.unique(ri[grp], return_inverse=True)
            cols, c_at = np.unique(ci[grp], return_inverse=True)
            sub = np.zeros((len(rows), len(cols)))          # min(d, c) − c: 0 when ≥ c
            sub[r_at, c_at] = d_m[grp] - c_m
            r, c = linear_sum_assignment(sub)
            good = sub[r, c] < 0
            loc += float((sub[r, c][good] + c_m).sum())
            assigned += int(good.sum())
    missed = c_m / alpha * (n - assigned)
    false = c_m / alpha * (m - assigned)
    return loc + missed + false, loc, missed, false


def gospa_step(d_m: F64, c_m: float = 1000.0, alpha: float = 2.0
               ) -> tuple[float, float, float, float]:
    """(gospa, localisation, missed, false) for one step, p = 1, from the |X|×|Y| distances."""
    n, m = d_m.shape
    ri, ci = np.nonzero(d_m < c_m)
    return gospa_pairs(n, m, ri, ci, d_m[ri, ci], c_m, alpha)


def _close_pairs(latx: F64, lonx: F64, laty: F64, lony: F64, c_m: float
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], F64]:
    """Pairs (truth, track, distance) closer than ``c_m``: dense for small sets, else a
    k-d tree on the sphere (chord within 2 % of the distance, then the exact metric)."""
    n, m = len(latx), len(laty)
    if n * m <= 40_000:
        de, dn = local_offset_m(laty[None, :], lony[None, :], latx[:, None], lonx[:, None])
        d = np.hypot(de, dn)
        ri, ci = np.nonzero(d < c_m)
        return ri, ci, d[ri, ci]
    tree = cKDTree(sphere_xyz_m(laty, lony))
    hits = tree.query_ball_point(sphere_xyz_m(latx, lonx), c_m * 1.02 + 1.0,
                                 return_sorted=False)
    cnt = np.fromiter((len(h) for h in hits), np.int64, n)
    ri = np.repeat(np.arange(n, dtype=np.int64), cnt)
    ci = np.fromiter((i for h in hits for i in h), np.int64, int(cnt.sum()))
    de, dn = local_offset_m(laty[ci], lony[ci], latx[ri], lonx[ri])
    d = np.hypot(de, dn)
    keep = d < c_m
    return ri[keep], ci[keep], d[keep]


def _truth_on_grid(curve: TruthCurve, t0_s: float, period_s: float, k_max: int
                   ) -> tuple[NDArray[np.int64], F64, F64]:
    """(step index, lat, lon) of every truth object alive at every grid step."""
    truth = curve.truth
    first = truth.t_s[truth.starts[:-1]]
    last = truth.t_s[truth.starts[1:] - 1]
    k0 = np.maximum(0, np.ceil((first - t0_s) / period_s - 1e-9)).astype(np.int64)
    k1 = np.minimum(k_max, np.floor((last - t0_s) / period_s + 1e-9)).astype(np.int64)
    cnt = np.maximum(k1 - k0 + 1, 0)
    obj = np.repeat(np.arange(truth.n_objects, dtype=np.int64), cnt)
    k = np.repeat(k0, cnt) + (np.arange(len(obj)) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    inside, lat, lon, _vx, _vy = curve.at(obj, t0_s + k * period_s)
    return k[inside], lat[inside], lon[inside]


def _tracks_on_grid(tracks: TrackData, t0_s: float, period_s: float, k_max: int
                    ) -> tuple[NDArray[np.int64], F64, F64]:
    """(step index, lat, lon) of every picture track at every grid step it is fresh at."""
    m = (tracks.status == 1) | (tracks.status == 2)
    idx = np.flatnonzero(m)
    o = np.lexsort((tracks.t_s[idx], tracks.track[idx]))
    idx = idx[o]
    t, tk = tracks.t_s[idx], tracks.track[idx]
    t_next = np.full(len(t), np.inf)
    same = tk[1:] == tk[:-1]
    t_next[:-1][same] = t[1:][same]
    k_lo = np.ceil((t - t0_s) / period_s - 1e-9).astype(np.int64).clip(min=0)
    k_hi = (np.ceil((t + period_s - t0_s) / period_s - 1e-9) - 1).astype(np.int64)  # age < P
    # a grid time at or after the next row belongs to the next row
    k_next = np.ceil((t_next - t0_s) / period_s - 1e-9)
    k_next = np.where(np.isfinite(k_next), k_next, np.iinfo(np.int64).max // 2)
    k_hi = np.minimum(np.minimum(k_hi, k_next.astype(np.int64) - 1), k_max)
    cnt = np.maximum(k_hi - k_lo + 1, 0)
    row = np.repeat(np.arange(len(t)), cnt)
    first = np.repeat(np.cumsum(cnt) - cnt, cnt)
    k = k_lo[row] + (np.arange(len(row)) - first)
    src = idx[row]
    dt = t0_s + k * period_s - tracks.t_s[src]
    lat0, lon0 = tracks.lat_deg[src], tracks.lon_deg[src]
    vx = np.nan_to_num(tracks.vx_mps[src])
    vy = np.nan_to_num(tracks.vy_mps[src])
    mr, nr = radii_m(lat0)
    lat = lat0 + np.degrees(vy * dt / mr)
    lon = lon0 + np.degrees(vx * dt / (nr * np.cos(np.radians(lat0))))
    return k, lat, lon


def gospa_series(tracks: TrackData, truth: TruthData, period_s: float, *,
                 c_m: float = 1000.0, alpha: float = 2.0, curve: TruthCurve | None = None
                 ) -> GospaSeries:
    """GOSPA at every step of the truth time grid (see the module docstring)."""
    if len(truth) == 0:
        e = np.empty(0)
        z = np.empty(0, np.int64)
        return GospaSeries(e, e, e, e, e, z, z)
    t0, t1 = float(truth.t_s.min()), float(truth.t_s.max())
    k_max = int(np.floor((t1 - t0) / period_s + 1e-9))
    grid = t0 + np.arange(k_max + 1) * period_s
    curve = curve if curve is not None else TruthCurve.of(truth)
    kx, latx, lonx = _truth_on_grid(curve, t0, period_s, k_max)
    ky, laty, lony = _tracks_on_grid(tracks, t0, period_s, k_max)
    ox, oy = np.argsort(kx, kind="stable"), np.argsort(ky, kind="stable")
    kx, latx, lonx = kx[ox], latx[ox], lonx[ox]
    ky, laty, lony = ky[oy], laty[oy], lony[oy]
    bx = np.searchsorted(kx, np.arange(k_max + 2))
    by = np.searchsorted(ky, np.arange(k_max + 2))
    out = np.zeros((4, k_max + 1))
    for k in range(k_max + 1):
        sx, sy = slice(bx[k], bx[k + 1]), slice(by[k], by[k + 1])
        n, m = sx.stop - sx.start, sy.stop - sy.start
        if n and m:
            ri, ci, d = _close_pairs(latx[sx], lonx[sx], laty[sy], lony[sy], c_m)
        else:
            ri = ci = np.empty(0, np.int64)
            d = np.empty(0)
        out[:, k] = gospa_pairs(n, m, ri, ci, d, c_m, alpha)
    return GospaSeries(t_s=grid, gospa_m=out[0], localisation_m=out[1], missed_m=out[2],
                       false_m=out[3], n_truth=np.diff(bx)[:k_max + 1].astype(np.int64),
                       n_tracks=np.diff(by)[:k_max + 1].astype(np.int64))
