"""Motion models: transition matrices ``F(dt)`` and process noise ``Q(dt)``, batched over dt.

State layout for a ``d``-dimensional model (d = 2: horizontal; d = 3: with height)::

    x = [p_1 .. p_d, v_1 .. v_d]        positions (m) then velocities (m/s), east/north/up

Nearly constant velocity (NCV), continuous white-noise acceleration with power spectral
density ``q`` (m²/s³) per axis (Bar-Shalom, Li & Kirubarajan 2001, §6.2.2)::

    F = [[I, dt·I], [0, I]]
    Q = q · [[dt³/3·I, dt²/2·I], [dt²/2·I, dt·I]]

Coordinated turn with a *known* turn rate ``w`` (rad/s, positive = counter-clockwise in the
east-north plane), horizontal axes only, the vertical axis staying NCV
(Bar-Shalom et al. §11.7.1)::

    p' = p + [ sin(w dt)/w · vx − (1 − cos(w dt))/w · vy ,
               (1 − cos(w dt))/w · vx + sin(w dt)/w · vy ]
    v' = [[cos(w dt), −sin(w dt)], [sin(w dt), cos(w dt)]] · v

Both are linear in ``x`` for a fixed ``w``, so a bank of them (CV, CT left, CT right) is an
IMM whose every mode is an exact Kalman filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ConstantVelocity", "CoordinatedTurn", "MotionModel", "cv_process_noise"]


def _blocks(d: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Constant matrices ``[[I,0],[0,0]]``, ``[[0,I],[I,0]]``, ``[[0,0],[0,I]]`` of size 2d."""
    eye, zero = np.eye(d), np.zeros((d, d))
    return (np.block([[eye, zero], [zero, zero]]), np.block([[zero, eye], [eye, zero]]),
            np.block([[zero, zero], [zero, eye]]))


_BLOCKS = {d: _blocks(d) for d in (1, 2, 3)}
_SHIFT = {d: np.triu(_BLOCKS[d][1]) for d in (1, 2, 3)}     # [[0, I], [0, 0]]


def cv_process_noise(dt: NDArray[np.float64], q: float, d: int) -> NDArray[np.float64]:
    """``Q(dt)`` for NCV with acceleration PSD ``q`` (m²/s³), shape [K, 2d, 2d].

    Q = q (dt³/3 [[I,0],[0,0]] + dt²/2 [[0,I],[I,0]] + dt [[0,0],[0,I]])
    """
    dt = np.asarray(dt, np.float64)[:, None, None]
    pp, pv, vv = _BLOCKS[d]
    return (q * dt**3 / 3.0) * pp + (q * dt**2 / 2.0) * pv + (q * dt) * vv


@dataclass(frozen=True, slots=True)
class ConstantVelocity:
    """Nearly-constant-velocity model in ``d`` dimensions with acceleration PSD ``q``.

    ``q`` in m²/s³; ``q_vertical`` (default ``q``) is used for the third axis when d = 3.
    """

    q: float = 1.0
    d: int = 2
    q_vertical: float | None = None

    @property
    def ndim(self) -> int:
        """State dimension (2d)."""
        return 2 * self.d

    def F(self, dt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Transition matrices, [K, n, n]."""
        dt = np.asarray(dt, np.float64)
        n = self.ndim
        return np.eye(n) + dt[:, None, None] * _SHIFT[self.d]   # F = I + dt [[0,I],[0,0]]

    def Q(self, dt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Process noise, [K, n, n]."""
        Q = cv_process_noise(dt, self.q, self.d)
        if self.d == 3 and self.q_vertical is not None and self.q_vertical != self.q:
            Qv = cv_process_noise(dt, self.q_vertical, 1)
            Q[:, 2, 2], Q[:, 2, 5], Q[:, 5, 2], Q[:, 5, 5] = (
                Qv[:, 0, 0], Qv[:, 0, 1], Qv[:, 1, 0], Qv[:, 1, 1])
        return Q


@dataclass(frozen=True, slots=True)
class CoordinatedTurn:
    """Coordinated turn at a known rate ``turn_rate_rps`` (rad/s) in the horizontal plane.

    Process noise is NCV's with PSD ``q`` (a common, simple choice for known-rate turns).
    """

    turn_rate_rps: float
    q: float = 1.0
    d: int = 2
    q_vertical: float | None = None

    @property
    def ndim(self) -> int:
        """State dimension (2d)."""
        return 2 * self.d

    def F(self, dt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Transition matrices, [K, n, n]."""
        dt = np.asarray(dt, np.float64)
        d, w = self.d, self.turn_rate_rps
        F = ConstantVelocity(self.q, d).F(dt)
        if w == 0.0:
            return F
        s, c = np.sin(w * dt), np.cos(w * dt)
        F[:, 0, d + 0] = s / w            # x += sin(w dt)/w vx − (1−cos(w dt))/w vy
        F[:, 0, d + 1] = -(1.0 - c) / w
        F[:, 1, d + 0] = (1.0 - c) / w    # y += (1−cos(w dt))/w vx + sin(w dt)/w vy
        F[:, 1, d + 1] = s / w
        F[:, d + 0, d + 0] = c            # vx' = cos vx − sin vy
        F[:, d + 0, d + 1] = -s
        F[:, d + 1, d + 0] = s            # vy' = sin vx + cos vy
        F[:, d + 1, d + 1] = c
        return F

    def Q(self, dt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Process noise, [K, n, n]."""
        return ConstantVelocity(self.q, self.d, self.q_vertical).Q(dt)


MotionModel = ConstantVelocity | CoordinatedTurn
