"""Kalman filter kernels, batched over a leading axis (tracks, or track-report pairs).

Shapes: K rows, state dimension n, measurement dimension m.
``x[K,n]``, ``P[K,n,n]``, ``F[K,n,n]``, ``Q[K,n,n]``, ``H[K,m,n]``, ``R[K,m,m]``.

The covariance update uses the Joseph form,
``P+ = (I − K H) P (I − K H)ᵀ + K R Kᵀ``, which stays symmetric positive semi-definite
for *any* gain and under rounding, where the short form ``(I − K H) P`` can lose symmetry
and definiteness (Bucy & Joseph 1968; Bar-Shalom et al. 2001 §5.2.3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Innovation",
    "inv_sym",
    "kf_predict",
    "kf_update",
    "linear_innovation",
    "symmetrize",
]

F64 = NDArray[np.float64]


def symmetrize(P: F64) -> F64:
    """``(P + Pᵀ)/2`` over the last two axes."""
    return 0.5 * (P + np.swapaxes(P, -1, -2))


def inv_sym(S: F64) -> tuple[F64, F64]:
    """Inverse and log-determinant of symmetric positive definite matrices ``S[...,m,m]``.

    m = 2 is done in closed form (the common case: horizontal position innovations).
    """
    m = S.shape[-1]
    if m == 2:
        a, b, d = S[..., 0, 0], S[..., 0, 1], S[..., 1, 1]
        det = a * d - b * b                              # |S| = ad − b²
        inv = np.empty_like(S)
        inv[..., 0, 0] = d / det                         # S⁻¹ = [[d, −b], [−b, a]] / |S|
        inv[..., 0, 1] = -b / det
        inv[..., 1, 0] = -b / det
        inv[..., 1, 1] = a / det
        return inv, np.log(det)
    if m == 1:
        return 1.0 / S, np.log(S[..., 0, 0])
    _, logdet = np.linalg.slogdet(S)
    return np.linalg.inv(S), logdet


def kf_predict(x: F64, P: F64, F: F64, Q: F64) -> tuple[F64, F64]:
    """Prediction: ``x⁻ = F x``, ``P⁻ = F P Fᵀ + Q``."""
    x_pred = np.einsum("kij,kj->ki", F, x)               # x⁻ = F x
    P_pred = F @ P @ np.swapaxes(F, -1, -2) + Q          # P⁻ = F P Fᵀ + Q
    return x_pred, symmetrize(P_pred)


class Innovation(NamedTuple):
    """Innovation ``nu = z − h(x⁻)``, its covariance ``S``, ``S⁻¹``, log|S| and ``d² = νᵀS⁻¹ν``."""

    nu: F64
    S: F64
    S_inv: F64
    logdet_S: F64
    d2: F64


def linear_innovation(nu: F64, P: F64, H: F64, R: F64) -> Innovation:
    """Innovation statistics for residual ``nu[K,m]`` of a (linearised) model ``H``."""
    S = symmetrize(H @ P @ np.swapaxes(H, -1, -2) + R)   # S = H P Hᵀ + R
    S_inv, logdet = inv_sym(S)
    d2 = np.einsum("ki,kij,kj->k", nu, S_inv, nu)        # d² = νᵀ S⁻¹ ν
    return Innovation(nu, S, S_inv, logdet, d2)


def kf_update(x: F64, P: F64, H: F64, R: F64, inn: Innovation) -> tuple[F64, F64]:
    """Update with a precomputed :class:`Innovation` (Joseph form). Returns ``(x+, P+)``."""
    HT = np.swapaxes(H, -1, -2)
    K = P @ HT @ inn.S_inv                               # K = P Hᵀ S⁻¹
    x_new = x + np.einsum("kij,kj->ki", K, inn.nu)       # x+ = x⁻ + K ν
    n = x.shape[-1]
    IKH = np.eye(n) - K @ H                              # (I − K H)
    P_new = (IKH @ P @ np.swapaxes(IKH, -1, -2)          # P+ = (I−KH) P (I−KH)ᵀ
             + K @ R @ np.swapaxes(K, -1, -2))           #      + K R Kᵀ
    return x_new, symmetrize(P_new)
