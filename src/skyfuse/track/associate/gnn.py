"""Global nearest neighbour on a sparse cost list, split into connected components.

Input: gated pairs ``(track, report, cost)``. Tracks and reports that share gated pairs
form a bipartite graph whose connected components are independent assignment problems.

* A component of one pair (most of them, in air traffic) is assigned directly.
* All larger components are solved together as one optimal assignment: since no edge
  joins two components, the joint optimum is the optimum of each component. When they
  hold at most :data:`SMALL_TRACKS` tracks (nearly always: two aircraft close together, a
  clutter plot in a gate), a dense Hungarian solver in plain Python does it; otherwise a
  *sparse* one (``scipy.sparse.csgraph.min_weight_full_bipartite_matching``, LAPJVsp) that
  never materialises a dense matrix. scipy is imported only then, so the start-up of
  ``skyfuse track`` carries no scipy. Every track row gets a private "no report"
  column costing ``big`` (more than all real edges together), so a full matching always
  exists and the number of assigned pairs is maximised first, then the summed cost is
  minimised (the usual GNN choice: a gated report is better used than not).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["components", "gnn_assign"]

SMALL_TRACKS = 12
"""Up to this many tracks in non-trivial components: the dense solver below, no scipy."""

I = NDArray[np.intp]


def components(tracks: I, reports: I, n_tracks: int, n_reports: int) -> I:
    """Component label of every pair (graph nodes: tracks, then reports)."""
    from scipy.sparse import coo_matrix  # imported when first needed (start-up stays lean)
    from scipy.sparse.csgraph import connected_components

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
    if nt <= SMALL_TRACKS:                                # small: dense, in Python
        dense = np.full((nt, nr + nt), np.inf)
        dense[it, ir] = w
        dense[np.arange(nt), nr + np.arange(nt)] = big + 1.0
        col_of = _min_cost_rows_matched(dense)
        row_ind, col_ind = np.arange(nt), np.array(col_of, np.intp)
    else:
        from scipy.sparse import csr_matrix  # imported when first needed
        from scipy.sparse.csgraph import min_weight_full_bipartite_matching

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


def _min_cost_rows_matched(cost: NDArray[np.float64]) -> list[int]:
    """Column of every row in the minimum-cost matching that matches all rows.

    ``cost[n, m]`` (n ≤ m), ``inf`` where a row may not take a column; a full matching of the
    rows must exist (the callers' private "no report" columns guarantee it). The Hungarian
    method with potentials, one shortest augmenting path per row (Kuhn 1955; Jonker &
    Volgenant 1987): O(n² m), in plain Python for the small components where scipy's call
    overhead and import dominate. Reduced costs ``cost[i,j] − u_i − v_j`` stay ≥ 0 and are
    0 along the matching, which proves it optimal.
    """
    n, m = cost.shape
    c = cost.tolist()
    inf = float("inf")
    u = [0.0] * (n + 1)                                   # row potentials (1-based)
    v = [0.0] * (m + 1)                                   # column potentials; v[0]: the root
    row_of = [0] * (m + 1)                                # row matched to column j (0: none)
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        row_of[0] = i
        j0 = 0
        min_v = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:                                       # grow the shortest-path tree
            used[j0] = True
            i0 = row_of[j0]
            ci = c[i0 - 1]
            ui = u[i0]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = ci[j - 1] - ui - v[j]            # reduced cost
                    if cur < min_v[j]:
                        min_v[j], way[j] = cur, j0
                    if min_v[j] < delta:
                        delta, j1 = min_v[j], j
            for j in range(m + 1):                        # shift the potentials by delta
                if used[j]:
                    u[row_of[j]] += delta
                    v[j] -= delta
                else:
                    min_v[j] -= delta
            j0 = j1
            if row_of[j0] == 0:                           # a free column: augment
                break
        while j0:                                         # flip the path back to the root
            j1 = way[j0]
            row_of[j0] = row_of[j1]
            j0 = j1
    col_of = [0] * n
    for j in range(1, m + 1):
        if row_of[j]:
            col_of[row_of[j] - 1] = j - 1
    return col_of
