"""Gating: candidate track-report pairs from a spatial index, pruned by a chi-square gate.

1. A spatial index (a k-d tree) over the reports' positions answers, for every track,
   which reports lie within a Euclidean radius ``r_i`` of its predicted position. The
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

from itertools import chain

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["candidate_pairs", "chi2_gate", "pairs_within"]


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

    A k-d tree over the points (built unbalanced: faster to build, as fast to query for
    spread-out positions) answers every query's radius.
    """
    nq = len(query_xy)
    if nq == 0 or len(point_xy) == 0:
        e = np.empty(0, np.intp)
        return e, e
    tree = cKDTree(point_xy, balanced_tree=False, compact_nodes=False)
    hits = tree.query_ball_point(query_xy, radius_m, return_sorted=True)
    counts = np.fromiter(map(len, hits), np.intp, nq)
    points = np.fromiter(chain.from_iterable(hits), np.intp, int(counts.sum()))
    return np.repeat(np.arange(nq, dtype=np.intp), counts), points


def candidate_pairs(
    track_xy: NDArray[np.float64], radius_m: NDArray[np.float64], report_xy: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All (track, report) index pairs with ``|report − track| ≤ radius_m[track]``.

    Pairs come out sorted by track, then report, whatever the input order.
    """
    return pairs_within(track_xy, radius_m, report_xy)
