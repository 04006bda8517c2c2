"""The interface every track filter implements, batched over tracks.

A filter keeps, per track, a Gaussian mixture over ``r`` motion modes (``r = 1`` for a plain
Kalman filter): mode means ``xm[K,r,n]``, covariances ``Pm[K,r,n,n]`` and mode
probabilities ``mu[K,r]``. The tracker stores these arrays in its TrackTable and never
looks inside them except through :meth:`TrackFilter.combine`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["MixtureState", "ReportRows", "TrackFilter"]

F64 = NDArray[np.float64]


class MixtureState(NamedTuple):
    """Per-track mode means ``xm[K,r,n]``, covariances ``Pm[K,r,n,n]``, weights ``mu[K,r]``."""

    xm: F64
    Pm: F64
    mu: F64

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> MixtureState:
        """Rows ``idx``."""
        return MixtureState(self.xm[idx], self.Pm[idx], self.mu[idx])


class ReportRows(NamedTuple):
    """Reports of one measurement kind, one per track row being updated.

    ``kind`` is a :class:`~skyfuse.measure.MeasKind`; ``z[K,3]``, ``R[K,3,3]``,
    ``origin_m[K,3]`` are MeasurementBatch columns.
    """

    kind: int
    z: F64
    R: F64
    origin_m: F64


class TrackFilter(Protocol):
    """Predict/update/combine over a leading axis of tracks."""

    @property
    def n_modes(self) -> int:
        """Number of motion modes ``r``."""
        ...

    @property
    def ndim(self) -> int:
        """State dimension ``n``."""
        ...

    @property
    def d(self) -> int:
        """Spatial dimension (2 or 3)."""
        ...

    def initial(self, x: F64, P: F64) -> MixtureState:
        """The mixture for new tracks with mean ``x[K,n]`` and covariance ``P[K,n,n]``."""
        ...

    def predict(self, state: MixtureState, dt_s: F64) -> MixtureState:
        """State predicted ``dt_s[K]`` seconds ahead (``dt_s`` ≥ 0)."""
        ...

    def update(self, predicted: MixtureState, reports: ReportRows) -> tuple[MixtureState, F64]:
        """Posterior after one report per row, and each row's measurement log-likelihood."""
        ...

    def combine(self, state: MixtureState) -> tuple[F64, F64]:
        """Moment-matched single Gaussian ``(x[K,n], P[K,n,n])`` of each row's mixture."""
        ...
