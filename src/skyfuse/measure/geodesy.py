"""WGS84 geodetic ⇄ local east-north-up (ENU) plane about the system centre.

The tracker works in one local tangent plane (metres, x east, y north, z up) about a
reference point. Conversions go through ECEF with pymap3d (vectorised over numpy arrays).
One tangent plane is accurate to metres within a few hundred kilometres of its centre;
continent-wide networks need region frames (DESIGN.md, "Frames and geodesy").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymap3d
from numpy.typing import ArrayLike, NDArray

__all__ = ["FT_TO_M", "M_TO_FT", "WGS84_A_M", "WGS84_E2", "LocalFrame", "radii_of_curvature_m"]

FT_TO_M = 0.3048
M_TO_FT = 1.0 / FT_TO_M
WGS84_A_M = 6_378_137.0
"""WGS84 semi-major axis, m."""
WGS84_E2 = 6.69437999014e-3
"""WGS84 first eccentricity squared."""


def radii_of_curvature_m(lat_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(M, N): the WGS84 meridian and prime-vertical radii of curvature at ``lat_deg``, m.

    ``w = 1 − e² sin²φ``, ``N = a / √w``, ``M = a (1 − e²) / w^(3/2) = N (1 − e²) / w``;
    a small step (dφ, dλ) at height h is (M + h)·dφ north and (N + h)·cos φ·dλ east.
    """
    s = np.sin(np.radians(lat_deg))
    w = 1.0 - WGS84_E2 * s * s
    n = WGS84_A_M / np.sqrt(w)
    return n * (1.0 - WGS84_E2) / w, n


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """An ENU tangent plane at ``lat0_deg, lon0_deg, h0_m`` (WGS84 ellipsoidal height)."""

    lat0_deg: float
    lon0_deg: float
    h0_m: float = 0.0

    def to_enu(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike = 0.0
    ) -> NDArray[np.float64]:
        """Geodetic → ENU metres, [K, 3]."""
        e, n, u = pymap3d.geodetic2enu(
            np.asarray(lat_deg, np.float64), np.asarray(lon_deg, np.float64),
            np.asarray(h_m, np.float64), self.lat0_deg, self.lon0_deg, self.h0_m)
        return np.stack(np.broadcast_arrays(e, n, u), axis=-1).reshape(-1, 3)

    def to_plane(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
        """The tracker's horizontal plane: east/north of the point on the ellipsoid, [K, 2].

        The up coordinate is dropped: it is far from 0 away from the centre (about −d²/2R,
        −28 km at 600 km), which :meth:`from_plane` accounts for.
        """
        return self.to_enu(lat_deg, lon_deg, 0.0)[:, :2]

    def from_plane(
        self, east_m: ArrayLike, north_m: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Inverse of :meth:`to_plane`: (lat_deg, lon_deg) of plane points on the ellipsoid.

        Converting back with up = 0 would misplace a point by about ``d·u/R`` (2.6 km at
        600 km), so the up coordinate is solved for: start from the sphere's ``−d²/2R`` and
        correct twice by the resulting ellipsoidal height (each pass shrinks the error by the
        square of the slope, ~d/R; millimetres within 1000 km).
        """
        e = np.asarray(east_m, np.float64)
        n = np.asarray(north_m, np.float64)
        up = -(e * e + n * n) / (2.0 * 6_371_000.0)
        for _ in range(2):
            _lat, _lon, h = self.to_geodetic(e, n, up)
            up = up - h
        lat, lon, _h = self.to_geodetic(e, n, up)
        return lat, lon

    def to_geodetic(
        self, east_m: ArrayLike, north_m: ArrayLike, up_m: ArrayLike = 0.0
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """ENU metres → (lat_deg, lon_deg, h_m) arrays."""
        lat, lon, h = pymap3d.enu2geodetic(
            np.asarray(east_m, np.float64), np.asarray(north_m, np.float64),
            np.asarray(up_m, np.float64), self.lat0_deg, self.lon0_deg, self.h0_m)
        return (np.atleast_1d(np.asarray(lat, np.float64)),
                np.atleast_1d(np.asarray(lon, np.float64)),
                np.atleast_1d(np.asarray(h, np.float64)))
