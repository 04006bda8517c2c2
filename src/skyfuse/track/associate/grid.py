"""A uniform-grid spatial index in numpy: all (query, point) pairs closer than a radius.

Points are hashed to square cells of side ``h`` and sorted by cell key. A query with radius
``r ≤ h`` can only meet points in its own cell or the 8 around it, so one vectorised
``searchsorted`` over the 9 neighbouring keys of every query gives index ranges, which are
expanded into candidate pairs and cut to the exact radius. ``h`` is the 95th percentile of
the radii; the few queries with a larger radius (uncertain, long-coasting tracks) are
checked against every point by brute force. Cost: O((Q + P) log P) plus the candidates,
with no Python loop over queries or points (scipy's k-d tree returns a Python list per
query, and importing scipy.spatial costs more than this whole module does at run time).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["pairs_within"]

I = NDArray[np.intp]
F64 = NDArray[np.float64]

_OFFSETS = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)], np.int64)
_SPAN = np.int64(1) << 31                                 # key = cx · 2³¹ + cy


def _keys(cx: NDArray[np.int64], cy: NDArray[np.int64]) -> NDArray[np.int64]:
    return cx * _SPAN + cy


def pairs_within(query_xy: F64, radius: F64, point_xy: F64) -> tuple[I, I]:
    """All ``(q, p)`` with ``|point_xy[p] − query_xy[q]| ≤ radius[q]``, sorted by q then p.

    ``radius`` is a scalar or one value per query (metres, ≥ 0).
    """
    nq, npt = len(query_xy), len(point_xy)
    e = np.empty(0, np.intp)
    if nq == 0 or npt == 0:
        return e, e
    r = np.broadcast_to(np.asarray(radius, np.float64), (nq,))
    k95 = (95 * (nq - 1)) // 100
    h = float(np.partition(r, k95)[k95]) if nq > 20 else float(r.max())
    lo_xy = np.minimum(point_xy.min(axis=0), query_xy.min(axis=0))
    hi_xy = np.maximum(point_xy.max(axis=0), query_xy.max(axis=0))
    h = max(h, float((hi_xy - lo_xy).max()) / 2.0**29, 1e-6)  # cell indices stay below 2³⁰
    origin = lo_xy
    pc = np.floor((point_xy - origin) / h).astype(np.int64)
    pkey = _keys(pc[:, 0], pc[:, 1])
    order = np.argsort(pkey, kind="stable")
    skey = pkey[order]
    small = np.flatnonzero(r <= h)
    qc = np.floor((query_xy[small] - origin) / h).astype(np.int64)
    k9 = _keys(qc[None, :, 0] + _OFFSETS[:, 0, None], qc[None, :, 1] + _OFFSETS[:, 1, None])
    lo = np.searchsorted(skey, k9.ravel(), "left")
    n = np.searchsorted(skey, k9.ravel(), "right") - lo
    total = int(n.sum())
    qi = np.repeat(np.broadcast_to(small, (9, len(small))).ravel(), n)
    start = np.repeat(lo - (np.cumsum(n) - n), n)
    pi = order[start + np.arange(total)]
    big = np.flatnonzero(r > h)
    if len(big):                                          # few: brute force against all
        qi = np.concatenate([qi, np.repeat(big, npt)])
        pi = np.concatenate([pi, np.tile(np.arange(npt), len(big))])
    d = point_xy[pi] - query_xy[qi]
    keep = d[:, 0] ** 2 + d[:, 1] ** 2 <= r[qi] ** 2
    qi, pi = qi[keep], pi[keep]
    o = np.lexsort((pi, qi))
    return qi[o].astype(np.intp), pi[o].astype(np.intp)
