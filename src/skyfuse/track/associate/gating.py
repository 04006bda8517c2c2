"""Gating: candidate track-report pairs from a spatial index, pruned by a chi-square gate.

1. A spatial index (a uniform grid, :func:`pairs_within`) over the reports' positions
   answers, for every track, which reports lie within a Euclidean radius ``r_i`` of its
   predicted position. The
   radius bounds the Mahalanobis gate from outside: for a 2x2 innovation covariance ``S``,
   ``νᵀS⁻¹ν ≤ γ  ⇒  |ν|² ≤ γ λ_max(S) ≤ γ trace(S)``, so
   ``r_i² = γ (trace P_pos,i + max_j trace R_j)`` never drops a pair the gate would keep.
   The tracker doubles this bound (the trace of the prediction is itself bounded from
   above, and an IMM's modes spread) and caps it by what an aircraft at the maximum speed
   can fly since the track's last update.
   No dense tracks × reports loop exists anywhere.
2. The exact gate ``d² = νᵀS⁻¹ν ≤ γ`` is then applied to the surviving pairs, with each
   track predicted to each report's own time (see :mod:`skyfuse.track.tracker`).

Chi-square thresholds come from :func:`chi2_gate` (closed form for 2 degrees of freedom).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["DENSE_PAIRS", "candidate_pairs", "chi2_gate", "pairs_within"]

DENSE_PAIRS = 4096
"""Up to this many (query, point) combinations :func:`pairs_within` tests them all at once
(a few vectorised operations beat any index there); beyond, it uses its grid."""


def chi2_gate(probability: float, dof: int) -> float:
    """Threshold ``γ`` with ``P(χ²_dof ≤ γ) = probability``."""
    if dof == 2:
        return float(-2.0 * np.log1p(-probability))     # χ²₂ survival is exp(−γ/2)
    from scipy.special import chdtri  # inverse survival function

    return float(chdtri(dof, 1.0 - probability))


def pairs_within(
    query_xy: NDArray[np.float64], radius_m: NDArray[np.float64] | float,
    point_xy: NDArray[np.float64],
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All ``(q, p)`` with ``|point_xy[p] − query_xy[q]| ≤ radius_m[q]``, sorted by q then p.

    Small problems (at most :data:`DENSE_PAIRS` combinations) are tested all at once. When
    the radii are small against the spread of the points, a sort and sweep along x
    (:func:`_pairs_in_strips`) does it. Otherwise a uniform grid over the points, in numpy
    (no Python object per point or query):

    1. cell side ``c`` = twice the mean radius (bounded so that the grid has at most
       ~10⁶ columns); points are sorted by cell key ``col · n_rows + row``, so the cells of
       one grid column, rows ``lo..hi``, are one contiguous run of the sorted points;
    2. every query spans the columns ``⌊(x − r)/c⌋ .. ⌊(x + r)/c⌋``; for each (query,
       column) two ``searchsorted`` calls find the run of points in its rows;
    3. the runs are expanded into candidate pairs and the exact test ``|Δ|² ≤ r²`` keeps
       the pairs inside the circle.

    Points or queries that are not finite never pair (an infinite radius takes every point).
    """
    e = np.empty(0, np.intp)
    nq, n_pts = len(query_xy), len(point_xy)
    if nq == 0 or n_pts == 0:
        return e, e
    q_xy = np.asarray(query_xy, np.float64)
    p_xy = np.asarray(point_xy, np.float64)
    r = np.asarray(radius_m, np.float64)
    if r.shape != (nq,):
        r = np.full(nq, float(r))                                    # one radius for all
    if not np.isfinite(p_xy).all():                              # drop such points
        keep = np.flatnonzero(np.isfinite(p_xy).all(axis=1))
        qi, pi = pairs_within(q_xy, r, p_xy[keep])
        return qi, keep[pi]
    if not (np.isfinite(q_xy).all() and (r >= 0).all()):         # NaN radius: False
        keep = np.flatnonzero(np.isfinite(q_xy).all(axis=1) & (r >= 0))
        qi, pi = pairs_within(q_xy[keep], r[keep], p_xy)
        return keep[qi], pi
    if nq * n_pts <= DENSE_PAIRS:                        # small: every pair, no index
        dx = p_xy[None, :, 0] - q_xy[:, None, 0]
        dy = p_xy[None, :, 1] - q_xy[:, None, 1]
        qi, pi = np.nonzero(dx * dx + dy * dy <= (r * r)[:, None])   # |Δ|² ≤ r², sorted
        return qi.astype(np.intp), pi.astype(np.intp)
    # expected candidates of an x-strip search: Σ 2r_i / x-extent · n_pts (inf: never)
    px = p_xy[:, 0]
    if 2.0 * float(r.sum()) * n_pts <= 4.0 * (nq + n_pts) * float(px.max() - px.min()):
        return _pairs_in_strips(q_xy, r, p_xy)
    lo = p_xy.min(axis=0)
    extent = float((p_xy.max(axis=0) - lo).max())
    finite_r = r[np.isfinite(r)]
    typical_m = float(finite_r.mean()) if len(finite_r) else extent
    c = max(2.0 * typical_m, extent * 1e-6, 1e-9)               # cell side, m
    cell = np.floor((p_xy - lo) / c).astype(np.int64)           # [n_pts, 2] (col, row)
    n_rows = int(cell[:, 1].max()) + 1
    n_cols = int(cell[:, 0].max()) + 1
    key = cell[:, 0] * n_rows + cell[:, 1]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    # cell span of every query, clipped to the grid
    q_lo = np.floor((q_xy - r[:, None] - lo) / c)
    q_hi = np.floor((q_xy + r[:, None] - lo) / c)
    c_lo = np.clip(q_lo[:, 0], 0, n_cols - 1).astype(np.int64)
    c_hi = np.clip(q_hi[:, 0], -1, n_cols - 1).astype(np.int64)
    r_lo = np.clip(q_lo[:, 1], 0, n_rows - 1).astype(np.int64)
    r_hi = np.clip(q_hi[:, 1], -1, n_rows - 1).astype(np.int64)
    n_span = np.where((q_hi[:, 0] >= 0) & (q_lo[:, 0] < n_cols) & (q_hi[:, 1] >= 0)
                      & (q_lo[:, 1] < n_rows), c_hi - c_lo + 1, 0)
    total = int(n_span.sum())
    if total == 0:
        return e, e
    # one (query, column) per entry
    qc = np.repeat(np.arange(nq, dtype=np.intp), n_span)
    col = c_lo[qc] + (np.arange(total) - np.repeat(np.cumsum(n_span) - n_span, n_span))
    start = np.searchsorted(sorted_key, col * n_rows + r_lo[qc], "left")
    stop = np.searchsorted(sorted_key, col * n_rows + r_hi[qc], "right")
    n_run = stop - start
    n_cand = int(n_run.sum())
    if n_cand == 0:
        return e, e
    qi = np.repeat(qc, n_run)
    at = np.repeat(start - (np.cumsum(n_run) - n_run), n_run) + np.arange(n_cand)
    pi = order[at]
    d = p_xy[pi] - q_xy[qi]
    inside = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] <= r[qi] * r[qi]   # |Δ|² ≤ r²
    qi, pi = qi[inside], pi[inside]
    srt = np.argsort(qi.astype(np.int64) * n_pts + pi, kind="stable")
    return qi[srt].astype(np.intp), pi[srt].astype(np.intp)


def _pairs_in_strips(q_xy: NDArray[np.float64], r: NDArray[np.float64],
                     p_xy: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """:func:`pairs_within` by sort and sweep: points sorted by x; each query's strip
    ``x − r ≤ x_p ≤ x + r`` is one run of them (two ``searchsorted``), then the exact test.
    Cheap when the strips hold few points (small radii against the spread of the points)."""
    e = np.empty(0, np.intp)
    nq, n_pts = len(q_xy), len(p_xy)
    order = np.argsort(p_xy[:, 0], kind="stable")
    xs = p_xy[order, 0]
    start = np.searchsorted(xs, q_xy[:, 0] - r, "left")
    n_run = np.searchsorted(xs, q_xy[:, 0] + r, "right") - start
    n_cand = int(n_run.sum())
    if n_cand == 0:
        return e, e
    qi = np.repeat(np.arange(nq, dtype=np.intp), n_run)
    pi = order[np.repeat(start - (np.cumsum(n_run) - n_run), n_run) + np.arange(n_cand)]
    d = p_xy[pi] - q_xy[qi]
    inside = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] <= r[qi] * r[qi]   # |Δ|² ≤ r²
    qi, pi = qi[inside], pi[inside]
    srt = np.argsort(qi.astype(np.int64) * n_pts + pi, kind="stable")
    return qi[srt], pi[srt].astype(np.intp)


def candidate_pairs(
    track_xy: NDArray[np.float64], radius_m: NDArray[np.float64], report_xy: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All (track, report) index pairs with ``|report − track| ≤ radius_m[track]``.

    Pairs come out sorted by track, then report, whatever the input order.
    """
    return pairs_within(track_xy, radius_m, report_xy)
