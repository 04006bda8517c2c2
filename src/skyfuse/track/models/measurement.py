"""Measurement models: what a report measures of a track state ``x = [p_1..p_d, v_1..v_d]``.

Cartesian position (ADS-B, MLAT, plot files)::

    h(x) = H x,   H = [I_m  0]                    (m = 2 horizontal, or 3 with height)

Polar plot from a sensor at ``o`` (ground range ``r``, azimuth ``a`` clockwise from north)::

    dx, dy = x₁ − o₁, x₂ − o₂
    h(x)   = [ sqrt(dx² + dy²),  atan2(dx, dy) ]
    H      = ∂h/∂x = [[ dx/r,  dy/r, 0…],
                      [ dy/r², −dx/r², 0…]]       (EKF linearisation at the prediction)

The azimuth residual is wrapped to (−π, π].

Converted measurements with debiasing (for gating and initiation): the plain conversion
``x = r sin a, y = r cos a`` is biased by the factor ``λ = E[cos ε] = exp(−σ_a²/2)``;
dividing by λ removes the bias, and the converted covariance is the
"unbiased converted measurement" one of Bar-Shalom, Willett & Tian (2011, §9.2.2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "linearise", "polar_h", "polar_jacobian", "polar_to_cartesian", "position_H", "wrap_angle",
]

F64 = NDArray[np.float64]


def position_H(k: int, m: int, n: int) -> F64:
    """``H = [I_m 0]`` repeated for ``k`` rows: [k, m, n]."""
    H = np.zeros((m, n))
    H[:, :m] = np.eye(m)
    return np.broadcast_to(H, (k, m, n))


def wrap_angle(a: F64) -> F64:
    """Angles wrapped to (−π, π]."""
    return np.pi - np.mod(np.pi - a, 2.0 * np.pi)


def polar_h(x: F64, origin_m: F64) -> F64:
    """Predicted ``[range_m, azimuth_rad]`` of states ``x[K,n]`` from ``origin_m[K,≥2]``."""
    dx = x[:, 0] - origin_m[:, 0]
    dy = x[:, 1] - origin_m[:, 1]
    return np.stack([np.hypot(dx, dy), np.arctan2(dx, dy)], axis=-1)


def polar_jacobian(x: F64, origin_m: F64) -> F64:
    """``H = ∂h/∂x`` of :func:`polar_h` at ``x[K,n]``: [K, 2, n]."""
    k, n = x.shape
    dx = x[:, 0] - origin_m[:, 0]
    dy = x[:, 1] - origin_m[:, 1]
    r2 = np.maximum(dx * dx + dy * dy, 1e-6)
    r = np.sqrt(r2)
    H = np.zeros((k, 2, n))
    H[:, 0, 0] = dx / r                                  # ∂r/∂x
    H[:, 0, 1] = dy / r                                  # ∂r/∂y
    H[:, 1, 0] = dy / r2                                 # ∂a/∂x  (a = atan2(dx, dy))
    H[:, 1, 1] = -dx / r2                                # ∂a/∂y
    return H


def polar_to_cartesian(
    range_m: F64, azimuth_rad: F64, var_range: F64, var_azimuth: F64, origin_m: F64
) -> tuple[F64, F64]:
    """Debiased converted position ``xy[K,2]`` and covariance ``R[K,2,2]`` of polar plots.

    x = o + r (sin a, cos a) / λ with λ = exp(−σ_a²/2)  (unbiased conversion); the covariance
    is the exact second moment of that estimate given the measured r, a.
    """
    r, a = range_m, azimuth_rad
    s2 = var_azimuth
    lam = np.exp(-s2 / 2.0)                              # λ  = E[cos ε]
    lam2 = np.exp(-2.0 * s2)                             # λ' = E[cos 2ε]
    sa, ca = np.sin(a), np.cos(a)
    xy = np.stack([origin_m[:, 0] + r * sa / lam, origin_m[:, 1] + r * ca / lam], axis=-1)
    # Bar-Shalom, Willett & Tian (2011) eq. 9.2.2-6..8 with x ↔ sin, y ↔ cos (azimuth from north)
    q = r * r + var_range
    c2, s2a = np.cos(2 * a), np.sin(2 * a)
    k1 = (1.0 / lam**2 - 2.0)
    R = np.empty((len(r), 2, 2))
    R[:, 0, 0] = k1 * r * r * sa * sa + 0.5 * q * (1.0 - lam2 * c2)
    R[:, 1, 1] = k1 * r * r * ca * ca + 0.5 * q * (1.0 + lam2 * c2)
    R[:, 0, 1] = R[:, 1, 0] = k1 * r * r * sa * ca + 0.5 * q * lam2 * s2a
    return xy, R


def linearise(
    kind: int, z: F64, R: F64, origin_m: F64, x: F64, d: int
) -> tuple[F64, F64, F64]:
    """Residual ``ν[K,m]``, model ``H[K,m,n]`` and covariance ``R[K,m,m]`` of reports of one
    :class:`~skyfuse.measure.MeasKind` ``kind`` against predicted states ``x[K,n]``.

    For Cartesian reports ``H = [I 0]`` comes as a read-only view of a cached stack.

    ``z[K,3]``, ``R[K,3,3]`` and ``origin_m[K,3]`` are MeasurementBatch columns; ``d`` is the
    state's spatial dimension (2 or 3). Cartesian 3-D reports update height only when
    ``d == 3``.
    """
    n = x.shape[1]
    if kind == _POLAR:
        H = polar_jacobian(x, origin_m)
        nu = z[:, :2] - polar_h(x, origin_m)             # ν = z − h(x⁻)
        nu[:, 1] = wrap_angle(nu[:, 1])
        return nu, H, R[:, :2, :2]
    m = 3 if (kind == _CARTESIAN_3D and d == 3) else 2
    H = _position_H(len(x), m, n)
    nu = z[:, :m] - x[:, :m]                             # ν = z − H x⁻
    return nu, H, R[:, :m, :m]


_POLAR, _CARTESIAN_3D = 2, 1          # MeasKind.POLAR, MeasKind.CARTESIAN_3D (measure.batch)
_H_CACHE: dict[tuple[int, int], F64] = {}


def _position_H(k: int, m: int, n: int) -> F64:
    """:func:`position_H` as a read-only view of a cached stack (no work per call)."""
    H = _H_CACHE.get((m, n))
    if H is None or len(H) < k:
        H = np.array(position_H(max(k, 2 * len(H) if H is not None else 64), m, n))
        H.flags.writeable = False
        _H_CACHE[(m, n)] = H
    return H[:k]
