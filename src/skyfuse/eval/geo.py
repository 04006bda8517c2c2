"""Local geometry for the evaluation: metre offsets between nearby points, truth interpolation.

Offsets. The error of a track position against the truth is a few metres to a few
kilometres, so it is measured in the local east/north plane *at the truth point*, with the
WGS84 radii of curvature (exact to first order in the offset, anywhere on the earth)::

    M(φ) = a (1 − e²) / (1 − e² sin²φ)^(3/2)        meridian radius
    N(φ) = a / √(1 − e² sin²φ)                       prime-vertical radius
    Δnorth_m = (φ_track − φ_truth) · M(φ_truth)
    Δeast_m  = wrap(λ_track − λ_truth) · N(φ_truth) · cos φ_truth

(angles in radians). Heights are ignored: horizontal errors are on the ellipsoid (at 10 km
altitude they would be 0.16 % larger).

Truth interpolation. Truth is sampled regularly (1 s or 10 s) with its velocity, so it is
interpolated to a track update's time with a cubic Hermite spline through the two
neighbouring samples and their velocities (``dφ/dt = v_north / M``,
``dλ/dt = v_east / (N cos φ)``): linear interpolation of 10 s samples would misplace a
turning aircraft by up to ~150 m, the Hermite curve by a few metres. With ``h = t1 − t0``
and ``s = (t − t0) / h``::

    p(s) = (2s³ − 3s² + 1) p0 + (s³ − 2s² + s) h ṗ0 + (−2s³ + 3s²) p1 + (s³ − s²) h ṗ1

The velocity is interpolated linearly. A time is *inside* an object's life when it lies
between its first and last sample and its two neighbours are at most ``max_gap_s`` apart
(3 × the object's median sample interval): no interpolation across holes in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skyfuse.eval.csvio import TruthData
from skyfuse.measure.geodesy import radii_of_curvature_m as radii_m

__all__ = ["EARTH_R_M", "TruthCurve", "local_offset_m", "radii_m",
           "sphere_xyz_m", "truth_at"]

F64 = NDArray[np.float64]

EARTH_R_M = 6_371_000.0
"""Mean earth radius, m (for neighbour searches only)."""




def sphere_xyz_m(lat_deg: F64, lon_deg: F64) -> F64:
    """Points on the sphere of radius :data:`EARTH_R_M`, [K, 3], for k-d tree searches.

    The chord between two points is their distance to within ~0.5 % (sphere against
    ellipsoid) at the kilometre scales searched; exact distances come from
    :func:`local_offset_m`.
    """
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    c = np.cos(la)
    return EARTH_R_M * np.stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)], axis=-1)


def local_offset_m(lat_deg: F64, lon_deg: F64, lat0_deg: F64, lon0_deg: F64
                   ) -> tuple[F64, F64]:
    """(east_m, north_m) of points ``lat/lon`` from reference points ``lat0/lon0``.

    Arrays broadcast; accurate for offsets up to tens of kilometres (used beyond that only
    to tell that a point is far).
    """
    m, n = radii_m(lat0_deg)
    dlon = (np.asarray(lon_deg) - lon0_deg + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * n * np.cos(np.radians(lat0_deg))
    north = np.radians(np.asarray(lat_deg) - lat0_deg) * m
    return east, north


@dataclass(frozen=True, slots=True)
class TruthCurve:
    """All truth objects, ready to interpolate at any (object, time) pairs in one call.

    Built once per evaluation (:meth:`of`): the angular rates of every sample, the largest
    interpolable gap of every object (3 × its median sample interval) and a sorted search
    key ``obj · span + (t − t_min)`` over all samples, so that :meth:`at` finds the samples
    around every query with one ``searchsorted`` (the key is built the same way for queries
    and samples, so a query at a sample time finds that sample exactly).
    """

    truth: TruthData
    key: F64
    span_s: float
    t_min_s: float
    dlat_dps: F64
    dlon_dps: F64
    max_gap_s: F64

    @classmethod
    def of(cls, truth: TruthData) -> TruthCurve:
        """Precompute the curve of ``truth``."""
        t = truth.t_s
        t_min = float(t.min()) if len(t) else 0.0
        span = float(np.ceil(float(t.max()) - t_min)) + 10.0 if len(t) else 10.0
        m, n = radii_m(truth.lat_deg)
        dlat = np.degrees(truth.vy_mps / m)
        dlon = np.degrees(truth.vx_mps / (n * np.cos(np.radians(truth.lat_deg))))
        same = truth.obj[1:] == truth.obj[:-1]
        d, do = np.diff(t)[same], truth.obj[1:][same]
        o = np.lexsort((d, do))                          # per-object sorted gaps: median
        d, do = d[o], do[o]
        mobj = truth.n_objects
        lo = np.searchsorted(do, np.arange(mobj))
        cnt = np.bincount(do, minlength=mobj)
        med = np.full(mobj, np.inf)
        has = cnt > 0
        i1 = lo[has] + (cnt[has] - 1) // 2
        i2 = lo[has] + cnt[has] // 2
        med[has] = 0.5 * (d[i1] + d[i2])
        key = truth.obj * span + (t - t_min)
        return cls(truth=truth, key=key, span_s=span, t_min_s=t_min, dlat_dps=dlat,
                   dlon_dps=dlon, max_gap_s=3.0 * med)

    def at(self, obj: NDArray[np.int64], t_s: F64
           ) -> tuple[NDArray[np.bool_], F64, F64, F64, F64]:
        """Objects ``obj`` at times ``t_s`` (pairs): (inside, lat_deg, lon_deg, vx, vy).

        ``inside`` is False outside an object's life or in a hole of its samples; the
        other arrays are NaN there.
        """
        tr = self.truth
        obj = np.asarray(obj, np.int64)
        t = np.asarray(t_s, np.float64)
        if len(t) == 0:
            e = np.empty(0)
            return np.zeros(0, bool), e, e.copy(), e.copy(), e.copy()
        a, b = tr.starts[obj], tr.starts[obj + 1]
        i = np.searchsorted(self.key, obj * self.span_s + (t - self.t_min_s), side="right") - 1
        i = np.clip(i, a, np.maximum(b - 2, a))
        i1 = np.minimum(i + 1, b - 1)
        t0, t1 = tr.t_s[i], tr.t_s[i1]
        h = t1 - t0
        single = i1 == i                                   # an object with one sample
        inside = np.where(single, t == t0,
                          (t >= tr.t_s[a]) & (t <= tr.t_s[b - 1]) & (h <= self.max_gap_s[obj]))
        s = np.clip((t - t0) / np.where(single, 1.0, h), 0.0, 1.0)
        hh = np.where(single, 0.0, h)
        s2, s3 = s * s, s * s * s
        h00, h10 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s
        h01, h11 = -2 * s3 + 3 * s2, s3 - s2
        lat, lon = tr.lat_deg, tr.lon_deg
        lon1 = lon[i] + (lon[i1] - lon[i] + 180.0) % 360.0 - 180.0   # unwrap across ±180
        lat_t = (h00 * lat[i] + h10 * hh * self.dlat_dps[i] + h01 * lat[i1]
                 + h11 * hh * self.dlat_dps[i1])
        lon_t = (h00 * lon[i] + h10 * hh * self.dlon_dps[i] + h01 * lon1
                 + h11 * hh * self.dlon_dps[i1])
        lon_t = (lon_t + 180.0) % 360.0 - 180.0
        vx = tr.vx_mps[i] + s * (tr.vx_mps[i1] - tr.vx_mps[i])
        vy = tr.vy_mps[i] + s * (tr.vy_mps[i1] - tr.vy_mps[i])
        nan = np.nan
        return (inside, np.where(inside, lat_t, nan), np.where(inside, lon_t, nan),
                np.where(inside, vx, nan), np.where(inside, vy, nan))


def truth_at(truth: TruthData, j: int, t_s: F64
             ) -> tuple[NDArray[np.bool_], F64, F64, F64, F64]:
    """Truth object ``j`` at times ``t_s`` (see :class:`TruthCurve`; builds one per call:
    for many calls build a :class:`TruthCurve` once)."""
    t = np.asarray(t_s, np.float64)
    return TruthCurve.of(truth).at(np.full(len(t), j, np.int64), t)
