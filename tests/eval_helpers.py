"""Synthetic truth and tracks for the evaluation tests (straight flights, exact geometry).

Positions are built in local metres about a reference point and converted with the WGS84
radii of curvature (:func:`skyfuse.eval.geo.radii_m`), so an offset of 200 m written here
is 200 m to the evaluation (to the 1e-7° of the CSV, ~1 cm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from skyfuse.eval.geo import radii_m

F64 = NDArray[np.float64]

LAT0, LON0 = 48.9, 2.4


def en_to_latlon(east_m: F64, north_m: F64, lat0: float = LAT0, lon0: float = LON0
                 ) -> tuple[F64, F64]:
    """Local metres → lat/lon (first order about lat0/lon0, plenty for tens of km)."""
    m, n = radii_m(np.asarray(lat0))
    lat = lat0 + np.degrees(np.asarray(north_m) / m)
    lon = lon0 + np.degrees(np.asarray(east_m) / (n * np.cos(np.radians(lat0))))
    return lat, lon


@dataclass
class Flight:
    """A straight, constant-speed flight sampled every ``dt_s`` from ``t0_s`` to ``t1_s``."""

    truth_id: str
    east0_m: float
    north0_m: float
    heading_deg: float
    speed_mps: float = 200.0
    t0_s: float = 1000.0
    t1_s: float = 1600.0
    dt_s: float = 1.0
    icao24: str = ""
    adsb: int | None = None
    t_s: F64 = field(init=False)

    def __post_init__(self) -> None:
        k = round((self.t1_s - self.t0_s) / self.dt_s)
        self.t_s = self.t0_s + self.dt_s * np.arange(k + 1)

    @property
    def velocity(self) -> tuple[float, float]:
        """(vx east, vy north), m/s."""
        h = np.radians(self.heading_deg)
        return self.speed_mps * float(np.sin(h)), self.speed_mps * float(np.cos(h))

    def en_at(self, t_s: F64) -> tuple[F64, F64]:
        """Local east/north (m) at ``t_s``."""
        vx, vy = self.velocity
        dt = np.asarray(t_s) - self.t0_s
        return self.east0_m + vx * dt, self.north0_m + vy * dt


def write_truth(path: Path, flights: list[Flight], *, adsb_column: bool = False) -> Path:
    """truth.csv of ``flights`` (CONTRACTS.md columns, optional ``adsb``)."""
    lines = ["t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps"
             + (",adsb" if adsb_column else "")]
    for f in flights:
        e, n = f.en_at(f.t_s)
        lat, lon = en_to_latlon(e, n)
        vx, vy = f.velocity
        for t, la, lo in zip(f.t_s.tolist(), lat.tolist(), lon.tolist(), strict=True):
            line = f"{t:.3f},{f.truth_id},{f.icao24},{la:.8f},{lo:.8f},30000,{vx:.4f},{vy:.4f}"
            if adsb_column:
                line += f",{'' if f.adsb is None else f.adsb}"
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class TrackRowsBuilder:
    """Collects TRACKS rows and writes them as the TRACKS CSV."""

    rows: list[tuple[float, str, str, float, float, str, float, float]] = field(
        default_factory=list)

    def add(self, track_id: str, t_s: F64, east_m: F64, north_m: F64, vx: float, vy: float,
            *, status: str = "confirmed", icao24: str = "") -> None:
        """Rows of one track at times ``t_s`` and local positions."""
        lat, lon = en_to_latlon(np.asarray(east_m, float), np.asarray(north_m, float))
        for t, la, lo in zip(np.atleast_1d(t_s).tolist(), np.atleast_1d(lat).tolist(),
                             np.atleast_1d(lon).tolist(), strict=True):
            self.rows.append((t, track_id, status, la, lo, icao24, vx, vy))

    def follow(self, track_id: str, flight: Flight, t_s: F64 | None = None, *,
               d_east_m: float = 0.0, d_north_m: float = 0.0, status: str = "confirmed",
               icao24: str = "") -> None:
        """Rows of a track on ``flight`` (offset by ``d_east_m, d_north_m``)."""
        t = flight.t_s if t_s is None else np.asarray(t_s, float)
        lat, lon = en_to_latlon(*flight.en_at(t))
        m, n = radii_m(lat)                       # the offset, at the truth point
        lat = lat + np.degrees(d_north_m / m)
        lon = lon + np.degrees(d_east_m / (n * np.cos(np.radians(lat - np.degrees(
            d_north_m / m)))))
        vx, vy = flight.velocity
        for tt, la, lo in zip(t.tolist(), lat.tolist(), lon.tolist(), strict=True):
            self.rows.append((tt, track_id, status, la, lo, icao24, vx, vy))

    def write(self, path: Path) -> Path:
        """The TRACKS CSV (rows sorted by time, as ``skyfuse replay`` writes them)."""
        lines = ["t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps"]
        for t, tid, st, la, lo, icao, vx, vy in sorted(self.rows, key=lambda r: r[0]):
            lines.append(f"{t:.3f},{tid},{st},{la:.8f},{lo:.8f},30000,{icao},,{vx:.3f},"
                         f"{vy:.3f}")
        path.write_text("\n".join(lines) + "\n")
        return path
