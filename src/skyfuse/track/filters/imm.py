"""Interacting Multiple Model (IMM) filter, batched over tracks *and* modes.

Each track carries ``r`` mode-conditioned Gaussians ``N(x_j, P_j)`` with probabilities
``μ_j`` (Blom & Bar-Shalom 1988; Bar-Shalom, Li & Kirubarajan 2001, §11.6.6). Every mode is
an exact Kalman filter (CV, or a coordinated turn at a *known* rate: see
:mod:`skyfuse.track.models.motion`), so the modes of all tracks are stacked into one
``[K·r]`` axis and run through the kernels of :mod:`skyfuse.track.filters.kalman` in one call.

**Mode switching in continuous time.** Reports reach a track at irregular intervals (several
sensors, rotating radars, coasting), so the mode chain is a continuous-time Markov chain with
generator ``G`` (off-diagonal switching rates, rows summing to zero) and
``Π(dt) = expm(G dt)``, ``Π_ij = P(mode j at t + dt | mode i at t)``. With one rate ``s``
(per second, the rate of *leaving* any mode) shared equally among the other ``r − 1`` modes::

    G = s/(r−1) · (1 1ᵀ − r I)
    Π(dt) = 1 1ᵀ / r + (I − 1 1ᵀ / r) · exp(−r s dt / (r − 1))       (closed form)

since ``1 1ᵀ/r`` is the projector on G's null space and G acts as ``−r s/(r−1)`` on its
complement. A general generator is exponentiated with :func:`scipy.linalg.expm`.

**Prediction** over ``dt`` (interaction, then mode-matched prediction)::

    c̄_j     = Σ_i Π_ij μ_i                                   predicted mode probability
    μ_{i|j} = Π_ij μ_i / c̄_j                                 mixing probabilities
    x0_j    = Σ_i μ_{i|j} x_i
    P0_j    = Σ_i μ_{i|j} [P_i + (x_i − x0_j)(x_i − x0_j)ᵀ]   (spread of means)
    x_j⁻    = F_j x0_j,   P_j⁻ = F_j P0_j F_jᵀ + Q_j

The predicted state's weights are ``c̄``, so :meth:`IMMFilter.combine` of a prediction is the
predicted moment-matched Gaussian (used for gating). Two predictions in a row are not one
prediction over the summed interval (each one mixes), but ``Π`` itself composes exactly.

**Update** with one report per track, mode-matched (Joseph form; EKF for polar plots via
:func:`~skyfuse.track.models.measurement.linearise`)::

    log Λ_j = log N(ν_j; 0, S_j)
    μ_j     = Λ_j c̄_j / Σ_i Λ_i c̄_i                            (in log space: log-sum-exp)
    log L   = log Σ_j Λ_j c̄_j                                  the track's measurement loglik

**Combination** (output, not fed back)::

    x = Σ_j μ_j x_j,   P = Σ_j μ_j [P_j + (x_j − x)(x_j − x)ᵀ]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from skyfuse.track.filters.base import MixtureState, ReportRows
from skyfuse.track.filters.kalman import kf_predict, kf_update, linear_innovation, symmetrize
from skyfuse.track.filters.kf import gaussian_loglik
from skyfuse.track.models.measurement import linearise
from skyfuse.track.models.motion import (
    ConstantVelocity,
    CoordinatedTurn,
    MotionModel,
)

__all__ = ["IMMFilter", "imm_cv_ct", "mixture_moments", "transition_matrix"]

F64 = NDArray[np.float64]


def transition_matrix(switch_rate_per_s: float | F64, r: int, dt_s: F64) -> F64:
    """Mode transition matrices ``Π(dt)[K,r,r]`` (rows: from, columns: to).

    ``switch_rate_per_s`` is either one rate ``s`` ≥ 0 (per second) of leaving a mode, split
    equally among the other modes (closed form, see the module docstring), or an ``[r,r]``
    matrix of switching rates whose off-diagonal entries are used (the diagonal is set to
    minus the row sum), exponentiated with :func:`scipy.linalg.expm`.
    """
    dt = np.asarray(dt_s, np.float64)
    k = len(dt)
    rate = np.asarray(switch_rate_per_s, np.float64)
    if rate.ndim == 0:
        if r == 1:
            return np.ones((k, 1, 1))
        e = np.exp(-r * float(rate) * dt / (r - 1))           # exp(−r s dt / (r−1))
        Pi = np.empty((k, r, r))
        Pi[:] = ((1.0 - e) / r)[:, None, None]                # Π_ij = (1−e)/r
        Pi.reshape(k, r * r)[:, ::r + 1] = 1.0 / r + (1.0 - 1.0 / r) * e[:, None]  # Π_ii =
        return Pi                                             #   1/r + (1 − 1/r) e
    if rate.shape != (r, r):
        raise ValueError(f"switching-rate matrix must be ({r},{r}), got {rate.shape}")
    import scipy.linalg  # only for matrix rates (start-up stays lean)

    G = rate - np.diag(np.diag(rate))
    G = G - np.diag(G.sum(axis=1))                            # G_ii = −Σ_{j≠i} G_ij
    uniq, inv = np.unique(dt, return_inverse=True)
    Pi_u = scipy.linalg.expm(G[None] * uniq[:, None, None])   # Π(dt) = expm(G dt)
    Pi_u = np.clip(Pi_u, 0.0, None)
    Pi_u /= Pi_u.sum(axis=-1, keepdims=True)                  # rows sum to 1 (rounding)
    return Pi_u[inv.reshape(-1)]


def mixture_moments(w: F64, xm: F64, Pm: F64) -> tuple[F64, F64]:
    """Moment-matched Gaussian of mixtures with weights ``w[K,r]`` (summing to 1).

    ``x = Σ_j w_j x_j``, ``P = Σ_j w_j [P_j + (x_j − x)(x_j − x)ᵀ]``.
    """
    k, r, n = xm.shape
    wr = w[:, None, :]                                        # [k,1,r]: matmul sums over j
    x = (wr @ xm)[:, 0]                                       # x = Σ w_j x_j
    dx = xm - x[:, None, :]                                   # x_j − x
    P = (wr @ Pm.reshape(k, r, n * n)).reshape(k, n, n)       # Σ w_j P_j
    P += np.swapaxes(w[:, :, None] * dx, 1, 2) @ dx           #   + Σ w_j (x_j − x)(x_j − x)ᵀ
    return x, symmetrize(P)


@dataclass(frozen=True, eq=False)
class IMMFilter:
    """IMM over motion ``models`` sharing one state layout (all ``d`` and ``ndim`` equal).

    ``switch_rate_per_s``: rate (1/s) of leaving a mode, shared equally by the others, or an
    ``[r,r]`` matrix of switching rates (see :func:`transition_matrix`).
    ``initial_mu``: mode probabilities given to new tracks (default: uniform).
    """

    models: tuple[MotionModel, ...]
    switch_rate_per_s: float | F64 = 0.05
    initial_mu: tuple[float, ...] | None = None
    _mu0: F64 = field(init=False, repr=False)
    _turns: slice | NDArray[np.intp] | None = field(init=False, repr=False)  # modes turning
    _turn_w: F64 = field(init=False, repr=False)                    # their rates, rad/s
    _q: F64 = field(init=False, repr=False)                         # per-mode PSD, m²/s³

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("IMMFilter needs at least one motion model")
        if len({(m.d, m.ndim) for m in self.models}) != 1:
            raise ValueError("IMM modes must share the state layout (same d)")
        r = len(self.models)
        mu0 = np.full(r, 1.0 / r) if self.initial_mu is None else np.asarray(self.initial_mu)
        if mu0.shape != (r,) or np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0):
            raise ValueError("initial_mu must be r non-negative probabilities summing to 1")
        object.__setattr__(self, "_mu0", mu0 / mu0.sum())
        turns = [j for j, m in enumerate(self.models)
                 if isinstance(m, CoordinatedTurn) and m.turn_rate_rps != 0.0]
        contiguous = bool(turns) and turns == list(range(turns[0], turns[-1] + 1))
        object.__setattr__(self, "_turns", (slice(turns[0], turns[-1] + 1) if contiguous
                                            else np.array(turns, np.intp) if turns else None))
        object.__setattr__(self, "_turn_w", np.array(
            [self.models[j].turn_rate_rps for j in turns], np.float64))  # type: ignore[union-attr]
        object.__setattr__(self, "_q", np.array([m.q for m in self.models], np.float64))

    @property
    def n_modes(self) -> int:
        """Number of modes ``r``."""
        return len(self.models)

    @property
    def ndim(self) -> int:
        """State dimension ``n``."""
        return self.models[0].ndim

    @property
    def d(self) -> int:
        """Spatial dimension."""
        return self.models[0].d

    def transition(self, dt_s: F64) -> F64:
        """``Π(dt)[K,r,r]`` for intervals ``dt_s[K]``."""
        return transition_matrix(self.switch_rate_per_s, self.n_modes, dt_s)

    def initial(self, x: F64, P: F64) -> MixtureState:
        """Every mode starts at ``x``, ``P`` with probabilities ``initial_mu``."""
        k, r = len(x), self.n_modes
        xm = np.broadcast_to(x[:, None, :], (k, r, x.shape[-1])).copy()
        Pm = np.broadcast_to(P[:, None, :, :], (k, r, *P.shape[-2:])).copy()
        return MixtureState(xm, Pm, np.broadcast_to(self._mu0, (k, r)).copy())

    def predict(self, state: MixtureState, dt_s: F64) -> MixtureState:
        """Interaction (mixing) with ``Π(dt)``, then mode-matched prediction over ``dt_s[K]``."""
        dt = np.asarray(dt_s, np.float64)
        xm, Pm, mu = state
        k, r, n = xm.shape
        Pi = self.transition(dt)                                   # Π_ij(dt)
        joint = Pi * mu[:, :, None]                                # Π_ij μ_i
        cbar = joint.sum(axis=1)                                   # c̄_j = Σ_i Π_ij μ_i
        if cbar.all():
            mixT = np.swapaxes(joint / cbar[:, None, :], 1, 2)     # μ_{i|j} = Π_ij μ_i / c̄_j
        else:                                                      # (c̄_j = 0: keep mode j)
            safe = cbar > 0.0
            mix = np.where(safe[:, None, :], joint / np.where(safe, cbar, 1.0)[:, None, :],
                           np.eye(r)[None])
            mixT = np.swapaxes(mix, 1, 2)                          # [k,j,i]
        x0 = mixT @ xm                                             # x0_j = Σ_i μ_{i|j} x_i
        dx = xm[:, None, :, :] - x0[:, :, None, :]                 # x_i − x0_j   [k,j,i,n]
        P0 = (mixT @ Pm.reshape(k, r, n * n)).reshape(k, r, n, n)  # P0_j = Σ_i μ_{i|j} P_i
        wdx = mixT[..., None] * dx                                 # μ_{i|j}(x_i − x0_j)
        P0 += np.swapaxes(wdx, 2, 3) @ dx                          #  + Σ_i μ_{i|j}(..)(..)ᵀ
        # mode-matched prediction: one kernel call over the stacked [K·r] axis
        F, Q = self._transition_noise(dt)                          # F_j(dt), Q_j(dt) [k,r,n,n]
        x_pred, P_pred = kf_predict(x0.reshape(k * r, n), P0.reshape(k * r, n, n),
                                    F.reshape(k * r, n, n), Q.reshape(k * r, n, n))
        return MixtureState(x_pred.reshape(k, r, n), P_pred.reshape(k, r, n, n), cbar)

    def _transition_noise(self, dt: F64) -> tuple[F64, F64]:
        """``F_j(dt)`` and ``Q_j(dt)`` of every mode, ``[K,r,n,n]``, all modes at once.

        The same formulas as :class:`~skyfuse.track.models.motion.ConstantVelocity` and
        :class:`~skyfuse.track.models.motion.CoordinatedTurn`, written entry by entry into
        the flattened ``n·n`` matrices (entry ``(a, b)`` is ``a·n + b``; the entries
        ``(i, i)``, ``(i, d+i)``, ``(d+i, i)``, ``(d+i, d+i)`` for ``i < d`` are strided
        slices with step ``n + 1``), so the values are exactly those of ``m.F(dt)``,
        ``m.Q(dt)``::

            F = I + dt [[0, I], [0, 0]]          (turning modes: the turn block below)
            Q = q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]]
        """
        d, n, r = self.d, self.ndim, self.n_modes
        k = len(dt)
        step = n + 1
        pp = slice(0, d * step, step)                              # (i, i)
        pv = slice(d, d + d * step, step)                          # (i, d+i)
        vp = slice(d * n, d * n + d * step, step)                  # (d+i, i)
        vv = slice(d * step, n * n, step)                          # (d+i, d+i)
        F = np.zeros((k, r, n * n))
        F[:, :, ::step] = 1.0                                      # I
        F[:, :, pv] = dt[:, None, None]                            # p += dt v
        turns = self._turns
        if turns is not None:
            w = self._turn_w                                       # [t] rad/s
            wdt = dt[:, None] * w[None, :]
            s, c = np.sin(wdt), np.cos(wdt)
            sw, cw = s / w, (1.0 - c) / w
            a, b = d * n + d, (d + 1) * n + d                      # rows d, d+1 at column d
            F[:, turns, d] = sw                                    # x += sin(w dt)/w vx
            F[:, turns, d + 1] = -cw                               #      − (1−cos(w dt))/w vy
            F[:, turns, n + d] = cw                                # y += (1−cos(w dt))/w vx
            F[:, turns, n + d + 1] = sw                            #      + sin(w dt)/w vy
            F[:, turns, a] = c                                     # vx' = cos vx − sin vy
            F[:, turns, a + 1] = -s
            F[:, turns, b] = s                                     # vy' = sin vx + cos vy
            F[:, turns, b + 1] = c
        q = self._q[None, :]                                       # per-mode PSD, [1,r]
        dtc = dt[:, None]
        Q = np.zeros((k, r, n * n))
        Q[:, :, pp] = (q * dtc**3 / 3.0)[:, :, None]               # q dt³/3
        q_pv = (q * dtc**2 / 2.0)[:, :, None]                      # q dt²/2
        Q[:, :, pv] = q_pv
        Q[:, :, vp] = q_pv
        Q[:, :, vv] = (q * dtc)[:, :, None]                        # q dt
        for j, m in enumerate(self.models):
            if d == 3 and m.q_vertical is not None and m.q_vertical != m.q:
                Q[:, j] = m.Q(dt).reshape(k, n * n)                # vertical PSD of its own
        return F.reshape(k, r, n, n), Q.reshape(k, r, n, n)

    def update(self, predicted: MixtureState, reports: ReportRows) -> tuple[MixtureState, F64]:
        """Mode-matched Joseph updates, mode probabilities ``μ_j ∝ Λ_j c̄_j``, and the
        track log-likelihood ``log Σ_j Λ_j c̄_j``."""
        xm, Pm, cbar = predicted
        k, r, n = xm.shape
        x, P = xm.reshape(k * r, n), Pm.reshape(k * r, n, n)

        def rep(a: F64) -> F64:
            return np.repeat(a, r, axis=0)                         # row k → rows k·r .. k·r+r−1

        nu, H, R = linearise(reports.kind, rep(reports.z), rep(reports.R),
                             rep(reports.origin_m), x, self.d)     # ν_j = z − h(x_j⁻), H_j
        inn = linear_innovation(nu, P, H, R)                       # S_j = H_j P_j Hᵀ + R
        x_new, P_new = kf_update(x, P, H, R, inn)                  # Joseph form per mode
        log_lam = gaussian_loglik(inn.d2, inn.logdet_S, nu.shape[-1]).reshape(k, r)
        if cbar.all():
            log_w = log_lam + np.log(cbar)                         # log Λ_j c̄_j
        else:
            with np.errstate(divide="ignore"):                     # c̄_j = 0: log 0 = −∞
                log_w = log_lam + np.log(cbar)
        top = log_w.max(axis=1, keepdims=True)
        total = top[:, 0] + np.log(np.exp(log_w - top).sum(axis=1))  # log Σ_j Λ_j c̄_j
        mu = np.exp(log_w - total[:, None])                        # μ_j = Λ_j c̄_j / Σ
        return MixtureState(x_new.reshape(k, r, n), P_new.reshape(k, r, n, n), mu), total

    def combine(self, state: MixtureState) -> tuple[F64, F64]:
        """Moment matching: ``x = Σ μ_j x_j``, ``P = Σ μ_j [P_j + (x_j − x)(x_j − x)ᵀ]``."""
        return mixture_moments(state.mu, state.xm, state.Pm)


def imm_cv_ct(
    q_cv: float,
    q_ct: float,
    turn_rate_dps: float = 3.0,
    d: int = 2,
    switch_rate_per_s: float = 0.05,
    q_vertical: float | None = None,
    initial_mu: Sequence[float] = (0.8, 0.1, 0.1),
) -> IMMFilter:
    """A three-mode IMM: CV (PSD ``q_cv``), then coordinated turns at ``+turn_rate_dps`` (left,
    counter-clockwise) and ``−turn_rate_dps`` (right), PSD ``q_ct`` (m²/s³).

    The default 3 °/s is the ICAO standard-rate turn; ``switch_rate_per_s = 0.05`` means a
    mean sojourn of 20 s in a mode.
    """
    w = np.deg2rad(turn_rate_dps)
    models: tuple[MotionModel, ...] = (
        ConstantVelocity(q_cv, d, q_vertical),
        CoordinatedTurn(+w, q_ct, d, q_vertical),
        CoordinatedTurn(-w, q_ct, d, q_vertical),
    )
    return IMMFilter(models, switch_rate_per_s, tuple(initial_mu))
