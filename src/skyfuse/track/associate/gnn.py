"""Global nearest neighbour on a sparse cost list, split into connected components.

Input: gated pairs ``(track, report, cost)``. Tracks and reports that share gated pairs
form a bipartite graph whose connected components are independent assignment problems.

* A component of one pair (most of them, in air traffic) is assigned directly.
* All larger components are solved together as one *sparse* optimal assignment
  (``scipy.sparse.csgraph.min_weight_full_bipartite_matching``, LAPJVsp): since no edge
  joins two components, the joint optimum is the optimum of each component, and the
  solver never materialises a dense matrix. Every track row gets a private "no report"
  column costing ``big`` (more than all real edges together), so a full matching always
  exists and the number of assigned pairs is maximised first, then the summed cost is
  minimised (the usual GNN choice: a gated report is better used than not).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

__all__ = ["components", "gnn_assign"]

I = NDArray[np.intp]


def components(tracks: I, reports: I, n_tracks: int, n_reports: int) -> I:
    """Component label of every pair (graph nodes: tracks, then reports)."""
    n = n_tracks + n_reports
    g = coo_matrix((np.ones(len(tracks), np.int8), (tracks, n_tracks + reports)), shape=(n, n))
    _, label = connected_components(g, directed=False)
    return label[tracks]


def gnn_assign(
    tracks: I, reports: I, cost: NDArray[np.float64], n_tracks: int, n_reports: int
) -> NDArray[np.bool_]:
    """Mask of the chosen pairs: each track and each report in at most one pair.

    Pairs must be unique. ``cost`` is any real number per pair (lower is better).
    """
    chosen = np.zeros(len(tracks), np.bool_)
    if len(tracks) == 0:
        return chosen
    t_deg = np.bincount(tracks, minlength=n_tracks)
    r_deg = np.bincount(reports, minlength=n_reports)
    lone = (t_deg[tracks] == 1) & (r_deg[reports] == 1)  # a component of one pair
    chosen[lone] = True
    rest = np.flatnonzero(~lone)
    if len(rest) == 0:
        return chosen
    ut, it = np.unique(tracks[rest], return_inverse=True)
    ur, ir = np.unique(reports[rest], return_inverse=True)
    nt, nr = len(ut), len(ur)
    c = cost[rest]
    w = c - c.min() + 1.0                                 # > 0: csgraph edges are non-zero
    big = float(w.sum()) + 1.0                            # "no report" for a track
    rows = np.concatenate([it, np.arange(nt)])
    cols = np.concatenate([ir, nr + np.arange(nt)])
    vals = np.concatenate([w, np.full(nt, big + 1.0)])
    g = csr_matrix((vals, (rows, cols)), shape=(nt, nr + nt))
    row_ind, col_ind = min_weight_full_bipartite_matching(g)
    real = col_ind < nr
    pick = np.full((nt, nr), -1, np.intp) if nt * nr <= 4_000_000 else None
    if pick is not None:
        pick[it, ir] = rest
        chosen[pick[row_ind[real], col_ind[real]]] = True
    else:                                                 # huge: look pairs up by key
        key = it.astype(np.int64) * nr + ir
        order = np.argsort(key)
        want = row_ind[real].astype(np.int64) * nr + col_ind[real]
        chosen[rest[order[np.searchsorted(key[order], want)]]] = True
    return chosen
