"""Association of track updates to truth objects: identity first, then position (COMPASS).

Every track update (row of TRACKS) is associated with **at most one** truth object, on its
own, after the truth is interpolated to the update's time (:class:`skyfuse.eval.geo.TruthCurve`):

1. **Identity.** When the update carries an ``icao24`` and a truth object alive at that time
   carries the same address, the update goes to that object, if it lies within the
   ``identity_gate_m`` of it (addresses can be duplicated or bogus; default 10 km). Several
   objects with the address: the nearest.
2. **Position.** Otherwise the update goes to the nearest truth object alive at that time
   within ``max_distance_m`` (default 2 km), never to an object whose address contradicts
   the update's (both known and different).
3. Otherwise the update is not associated (``truth = -1``).

All statuses are associated (tentative included, for the initiation delay); which rows
count for which metric is decided in :mod:`skyfuse.eval.metrics`.

Cost: candidate pairs first, so that no update is compared with every truth object:

* spatial candidates from one k-d tree over the truth positions on a coarse time grid
  (see :func:`_spatial_candidates`), searched with a radius that covers the gate plus
  the distance an object flies in one grid slot;
* identity candidates from the addresses (``searchsorted`` on the sorted addresses).

Then the truth is interpolated exactly for the candidate pairs only (one vectorised call),
the distances computed, and the best pair per update picked with one ``lexsort``: about
O(updates · log) for 250 aircraft over one hour (225k updates), a second or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from skyfuse.eval.csvio import TrackData, TruthData
from skyfuse.eval.geo import TruthCurve, local_offset_m, sphere_xyz_m

__all__ = ["Association", "associate"]

F64 = NDArray[np.float64]

MAX_SPEED_MPS = 1000.0
"""Truth speeds are capped at this for the candidate search radius (a bogus velocity must
not make every pair a candidate)."""


@dataclass(frozen=True, slots=True)
class Association:
    """Per track update (aligned with :class:`TrackData` rows).

    ``truth``: the associated object or -1; ``by_identity``: associated through its
    address; ``err_east_m, err_north_m``: track minus truth position; ``truth_vx_mps,
    truth_vy_mps``: the truth velocity at the update's time (NaN where not associated).
    """

    truth: NDArray[np.int64]
    by_identity: NDArray[np.bool_]
    err_east_m: F64
    err_north_m: F64
    truth_vx_mps: F64
    truth_vy_mps: F64

    @property
    def associated(self) -> NDArray[np.bool_]:
        """Mask of the associated updates."""
        return self.truth >= 0


def _spatial_candidates(tracks: TrackData, truth: TruthData, radius_m: float
                        ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(row, object) pairs where the object, on a coarse time grid, is near the row.

    The truth samples are taken on slots of ``G`` = max(10 s, 3 × the median sample
    interval) (the first sample of each object in each slot: at most ``G`` from any time
    in the slot); a track row is compared with the objects' positions in its slot, in a k-d tree
    over (x, y, z on the sphere, slot × a separation far larger than ``radius_m``). The
    search radius adds to ``radius_m`` the distance the fastest object flies in ``G``,
    and 2 % for sphere-vs-ellipsoid.
    """
    if len(tracks) == 0 or len(truth) == 0:
        e = np.empty(0, np.int64)
        return e, e.copy()
    dt = np.diff(truth.t_s)[np.diff(truth.obj) == 0]
    g = max(10.0, 3.0 * float(np.median(dt))) if len(dt) else 10.0
    t0 = float(truth.t_s.min())
    slot_t = np.round((truth.t_s - t0) / g)
    first = np.ones(len(truth), bool)                        # one sample per object and slot
    first[1:] = (truth.obj[1:] != truth.obj[:-1]) | (slot_t[1:] != slot_t[:-1])
    idx = np.flatnonzero(first)
    v_max = min(float(np.max(np.hypot(truth.vx_mps, truth.vy_mps))), MAX_SPEED_MPS)
    r = (radius_m + v_max * g) * 1.02 + 50.0
    sep = 10.0 * (r + 1.0)
    pts = np.column_stack([sphere_xyz_m(truth.lat_deg[idx], truth.lon_deg[idx]),
                           slot_t[idx] * sep])
    tree = cKDTree(pts)
    q = np.column_stack([sphere_xyz_m(tracks.lat_deg, tracks.lon_deg),
                         np.round((tracks.t_s - t0) / g) * sep])
    hits = tree.query_ball_point(q, r, return_sorted=False)
    counts = np.fromiter((len(h) for h in hits), np.int64, len(hits))
    rows = np.repeat(np.arange(len(tracks), dtype=np.int64), counts)
    cols = np.fromiter((i for h in hits for i in h), np.int64, int(counts.sum()))
    return rows, truth.obj[idx][cols]


def _identity_candidates(tracks: TrackData, truth: TruthData
                         ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(row, object) pairs where the row's icao24 is the object's."""
    objs = np.flatnonzero(truth.obj_icao24 >= 0)
    rows_with = np.flatnonzero(tracks.icao24 >= 0)
    if len(objs) == 0 or len(rows_with) == 0:
        e = np.empty(0, np.int64)
        return e, e.copy()
    o = objs[np.argsort(truth.obj_icao24[objs], kind="stable")]
    keys = truth.obj_icao24[o]
    lo = np.searchsorted(keys, tracks.icao24[rows_with], side="left")
    hi = np.searchsorted(keys, tracks.icao24[rows_with], side="right")
    n = hi - lo
    rows = np.repeat(rows_with, n)
    first = np.repeat(np.cumsum(n) - n, n)
    cols = o[np.repeat(lo, n) + (np.arange(len(rows)) - first)]
    return rows.astype(np.int64), cols.astype(np.int64)


def _best_per_row(rows: NDArray[np.int64], d: F64, ok: NDArray[np.bool_]
                  ) -> NDArray[np.int64]:
    """Index (into the pairs) of the nearest acceptable pair of every row that has one."""
    cand = np.flatnonzero(ok)
    if len(cand) == 0:
        return cand
    o = cand[np.lexsort((d[cand], rows[cand]))]
    first = np.ones(len(o), bool)
    first[1:] = rows[o][1:] != rows[o][:-1]
    return o[first]


def associate(tracks: TrackData, truth: TruthData, *, max_distance_m: float = 2000.0,
              identity_gate_m: float = 10_000.0, curve: TruthCurve | None = None
              ) -> Association:
    """Associate each update of ``tracks`` with at most one object of ``truth`` (see module).

    ``curve``: the truth's :class:`~skyfuse.eval.geo.TruthCurve`, if already built.
    """
    n = len(tracks)
    r_s, j_s = _spatial_candidates(tracks, truth, max_distance_m)
    r_i, j_i = _identity_candidates(tracks, truth)
    rows = np.concatenate([r_s, r_i])
    objs = np.concatenate([j_s, j_i])
    # unique pairs
    key = np.sort(objs * max(n, 1) + rows)            # np.unique hashes: 100× slower here
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if len(key) else key
    objs, rows = key // max(n, 1), key % max(n, 1)
    curve = curve if curve is not None else TruthCurve.of(truth)
    inside, lat, lon, vx, vy = curve.at(objs, tracks.t_s[rows])
    de, dn = local_offset_m(tracks.lat_deg[rows], tracks.lon_deg[rows], lat, lon)
    d = np.where(inside, np.hypot(de, dn), np.inf)
    trk_icao = tracks.icao24[rows]
    obj_icao = truth.obj_icao24[objs]
    same = (trk_icao >= 0) & (trk_icao == obj_icao)
    conflict = (trk_icao >= 0) & (obj_icao >= 0) & ~same
    best_id = _best_per_row(rows, d, inside & same & (d <= identity_gate_m))
    best_pos = _best_per_row(rows, d, inside & ~conflict & (d <= max_distance_m))
    pick = np.full(n, -1, np.int64)
    pick[rows[best_pos]] = best_pos
    by_id = np.zeros(n, bool)
    pick[rows[best_id]] = best_id                         # identity overrides position
    by_id[rows[best_id]] = True
    has = pick >= 0
    p = pick[has]
    out = [np.full(n, np.nan) for _ in range(4)]
    for arr, src in zip(out, (de, dn, vx, vy), strict=True):
        arr[has] = src[p]
    truth_idx = np.full(n, -1, np.int64)
    truth_idx[has] = objs[p]
    return Association(truth=truth_idx, by_identity=by_id, err_east_m=out[0],
                       err_north_m=out[1], truth_vx_mps=out[2], truth_vy_mps=out[3])
