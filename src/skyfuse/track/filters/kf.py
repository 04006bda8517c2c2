"""The Kalman filter as a one-mode :class:`~skyfuse.track.filters.base.TrackFilter`.

Linear prediction with a motion model's ``F(dt)``, ``Q(dt)``; update linearised per report
kind (exact for Cartesian reports, EKF for polar radar plots: see
:mod:`skyfuse.track.models.measurement`), Joseph-form covariance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from skyfuse.track.filters.base import MixtureState, ReportRows
from skyfuse.track.filters.kalman import kf_predict, kf_update, linear_innovation
from skyfuse.track.models.measurement import linearise
from skyfuse.track.models.motion import ConstantVelocity, MotionModel

__all__ = ["KalmanFilter", "gaussian_loglik"]

F64 = NDArray[np.float64]
LOG_2PI = float(np.log(2.0 * np.pi))


def gaussian_loglik(d2: F64, logdet_S: F64, m: int) -> F64:
    """log N(ν; 0, S) = −(d² + log|S| + m log 2π)/2."""
    return -0.5 * (d2 + logdet_S + m * LOG_2PI)


@dataclass(frozen=True, slots=True)
class KalmanFilter:
    """Kalman filter over one motion model (default: NCV, q = 1 m²/s³, horizontal)."""

    model: MotionModel = field(default_factory=ConstantVelocity)

    @property
    def n_modes(self) -> int:
        """One mode."""
        return 1

    @property
    def ndim(self) -> int:
        """State dimension."""
        return self.model.ndim

    @property
    def d(self) -> int:
        """Spatial dimension."""
        return self.model.d

    def initial(self, x: F64, P: F64) -> MixtureState:
        """One-mode mixture of ``x``, ``P``."""
        return MixtureState(x[:, None, :].copy(), P[:, None, :, :].copy(), np.ones((len(x), 1)))

    def predict(self, state: MixtureState, dt_s: F64) -> MixtureState:
        """``x⁻ = F x``, ``P⁻ = F P Fᵀ + Q`` for ``dt_s`` seconds."""
        dt = np.asarray(dt_s, np.float64)
        x, P = kf_predict(state.xm[:, 0], state.Pm[:, 0], self.model.F(dt), self.model.Q(dt))
        return MixtureState(x[:, None], P[:, None], state.mu)

    def update(self, predicted: MixtureState, reports: ReportRows) -> tuple[MixtureState, F64]:
        """Joseph-form update with one report per row; returns the log-likelihoods too."""
        x, P = predicted.xm[:, 0], predicted.Pm[:, 0]
        nu, H, R = linearise(reports.kind, reports.z, reports.R, reports.origin_m, x, self.d)
        inn = linear_innovation(nu, P, H, R)
        x_new, P_new = kf_update(x, P, H, R, inn)
        ll = gaussian_loglik(inn.d2, inn.logdet_S, nu.shape[-1])
        return MixtureState(x_new[:, None], P_new[:, None], predicted.mu), ll

    def combine(self, state: MixtureState) -> tuple[F64, F64]:
        """The single mode."""
        return state.xm[:, 0], state.Pm[:, 0]
