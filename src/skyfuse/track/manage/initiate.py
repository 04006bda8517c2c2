"""Two-point track initiation from reports no track could use.

A report that fell in no track's gate waits in a *pool*. When a later report lies within
reach of a pooled one — ``|z_j − z_i| ≤ v_max Δt + 3 sqrt(tr R_i + tr R_j)`` with
``0 < Δt ≤ max_dt`` and no address conflict — the two start a tentative track by two-point
differencing (Bar-Shalom et al. 2001, §5.5.3)::

    p = z_j                      P_pp = R_j
    v = (z_j − z_i) / Δt         P_vv = (R_i + R_j) / Δt²      P_pv = R_j / Δt

Pooled reports expire after ``max_dt``. Clutter therefore costs a row in the pool, not a
track: tentative tracks are only made from pairs that a real aircraft could have flown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from skyfuse.measure.batch import MeasurementBatch
from skyfuse.track.associate.gating import pairs_within
from skyfuse.track.associate.identity import address_conflict

__all__ = ["InitiationPool", "PoolRows", "two_point_pairs", "two_point_state"]

F64 = NDArray[np.float64]


class PoolRows(NamedTuple):
    """The columns of a pooled report that initiation needs (MeasurementBatch columns:
    time, and what :func:`~skyfuse.track.tracker` copies onto a new track's identity)."""

    t_s: F64
    sensor: NDArray[np.int32]
    icao24: NDArray[np.int32]
    addr_type: NDArray[np.int8]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    alt_ft: F64

    @classmethod
    def of(cls, reports: MeasurementBatch | PoolRows,
           idx: NDArray[np.intp] | slice | None = None) -> PoolRows:
        """Rows ``idx`` (all if None) of a MeasurementBatch or of PoolRows."""
        if idx is None:
            return cls(*(getattr(reports, f) for f in cls._fields))
        return cls(*(getattr(reports, f)[idx] for f in cls._fields))

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_] | slice) -> PoolRows:
        """Rows ``idx``."""
        return PoolRows(*(a[idx] for a in self))


@dataclass(slots=True)
class InitiationPool:
    """Reports waiting for a partner: their rows, converted positions and covariances.

    Rows are appended in time order, so expiry is a cheap prefix cut; a row that started a
    track is flagged ``used`` rather than removed. Only the columns initiation needs are
    kept (:class:`PoolRows`): appending copies 10 small columns, not a whole batch.
    """

    reports: PoolRows
    xy: F64
    Rxy: F64
    used: NDArray[np.bool_]
    identity: bool = False                                # any row with identity fields

    @classmethod
    def empty(cls) -> InitiationPool:
        """An empty pool."""
        return cls(PoolRows.of(MeasurementBatch.empty()), np.empty((0, 2)),
                   np.empty((0, 2, 2)), np.empty(0, np.bool_))

    def __len__(self) -> int:
        return len(self.xy)

    def since(self, t_s: float) -> InitiationPool:
        """Only the rows not older than ``t_s``."""
        first = int(np.searchsorted(self.reports.t_s, t_s, "left"))
        if first == 0:
            return self
        cut = slice(first, None)
        return InitiationPool(self.reports.take(cut), self.xy[cut], self.Rxy[cut],
                              self.used[cut], self.identity and len(self.xy) > first)

    def add(self, reports: MeasurementBatch | PoolRows, xy: F64, Rxy: F64,
            identity: bool = True, rows: NDArray[np.intp] | None = None) -> InitiationPool:
        """The pool with ``reports`` added, rows kept in time order (late reports too).

        ``identity``: whether any of ``reports`` carries identity fields. ``rows``: add only
        these rows of ``reports`` (``xy``, ``Rxy`` are then already those rows').
        """
        n_new = len(xy)
        if n_new == 0:
            return self
        t_new = reports.t_s if rows is None else reports.t_s[rows]
        if n_new > 1 and not (t_new[1:] >= t_new[:-1]).all():
            order = np.argsort(t_new, kind="stable")
            picked = order if rows is None else rows[order]
            new, xy, Rxy = PoolRows.of(reports, picked), xy[order], Rxy[order]
        else:
            new = PoolRows.of(reports, rows)
        if len(self) == 0:
            return InitiationPool(PoolRows(*map(np.array, new)) if rows is None else new,
                                  np.array(xy), np.array(Rxy), np.zeros(n_new, np.bool_),
                                  identity)
        pool = InitiationPool(PoolRows(*(np.concatenate([a, b])
                                         for a, b in zip(self.reports, new, strict=True))),
                              np.concatenate([self.xy, xy]),
                              np.concatenate([self.Rxy, Rxy]),
                              np.concatenate([self.used, np.zeros(n_new, np.bool_)]),
                              self.identity or identity)
        if new.t_s[0] < self.reports.t_s[-1]:             # late reports: keep time order,
            o = np.argsort(pool.reports.t_s, kind="stable")   # or since() cuts fresh rows
            pool = InitiationPool(pool.reports.take(o), pool.xy[o], pool.Rxy[o], pool.used[o],
                                  pool.identity)
        return pool


def two_point_pairs(
    pool: InitiationPool, t_s: F64, icao24: NDArray[np.int32], xy: F64, Rxy: F64,
    max_speed_mps: float, max_dt_s: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each new report (times ``t_s``, addresses ``icao24``, positions ``xy[M,2]``,
    covariances ``Rxy[M,2,2]``), its partner in the pool if any: ``(pool_idx, new_idx)``.

    The partner is the most recent admissible pooled report, the closest one on ties;
    one with the same address is always preferred.
    """
    e = np.empty(0, np.intp)
    m = len(t_s)
    if len(pool) == 0 or m == 0:
        return e, e
    var_p = pool.Rxy[:, 0, 0] + pool.Rxy[:, 1, 1]
    var_n = Rxy[:, 0, 0] + Rxy[:, 1, 1]
    radius = max_speed_mps * max_dt_s + 3.0 * np.sqrt(var_p.max() + var_n.max())
    ni, pi = pairs_within(xy, radius, pool.xy)
    if len(ni) == 0:
        return e, e
    dt = t_s[ni] - pool.reports.t_s[pi]
    diff = xy[ni] - pool.xy[pi]
    dist2 = diff[:, 0] ** 2 + diff[:, 1] ** 2
    reach = max_speed_mps * dt + 3.0 * np.sqrt(var_p[pi] + var_n[ni])
    ok = (dt > 0) & (dt <= max_dt_s) & (dist2 <= reach * reach) & ~pool.used[pi]
    ok &= ~address_conflict(pool.reports.icao24[pi], icao24[ni])
    if not ok.any():
        return e, e
    pi, ni, dt, dist2 = pi[ok], ni[ok], dt[ok], dist2[ok]
    same = (icao24[ni] >= 0) & (icao24[ni] == pool.reports.icao24[pi])
    order = np.lexsort((pi, dist2, dt, ~same, ni))        # per new report: best first
    pi, ni = pi[order], ni[order]
    first = np.ones(len(ni), np.bool_)
    first[1:] = ni[1:] != ni[:-1]
    return pi[first], ni[first]


def two_point_state(
    z_i: F64, R_i: F64, z_j: F64, R_j: F64, dt_s: F64, d: int,
    alt_m: F64 | None = None, sigma_alt_m: float = 100.0,
) -> tuple[F64, F64]:
    """State ``x[K,2d]`` and covariance ``P[K,2d,2d]`` from two horizontal positions.

    ``d = 3`` adds height from ``alt_m`` (unknown heights: 0 m with a 10 km sigma) and zero
    vertical speed with a 20 m/s sigma.
    """
    k = len(dt_s)
    n = 2 * d
    x = np.zeros((k, n))
    P = np.zeros((k, n, n))
    dt = dt_s[:, None]
    x[:, 0:2] = z_j                                       # p = z_j
    x[:, d:d + 2] = (z_j - z_i) / dt                      # v = (z_j − z_i)/Δt
    P[:, 0:2, 0:2] = R_j                                  # P_pp = R_j
    P[:, 0:2, d:d + 2] = R_j / dt[:, :, None]             # P_pv = R_j/Δt
    P[:, d:d + 2, 0:2] = R_j / dt[:, :, None]
    P[:, d:d + 2, d:d + 2] = (R_i + R_j) / (dt**2)[:, :, None]   # P_vv = (R_i+R_j)/Δt²
    if d == 3:
        known = alt_m is not None
        h = np.nan_to_num(alt_m, nan=np.nan) if known else np.full(k, np.nan)
        x[:, 2] = np.where(np.isnan(h), 0.0, h)
        P[:, 2, 2] = np.where(np.isnan(h), 1e4**2, sigma_alt_m**2)
        P[:, 5, 5] = 20.0**2
    return x, P
