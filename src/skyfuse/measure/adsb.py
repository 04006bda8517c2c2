"""ADS-B / MLAT / SBS positions → :class:`MeasurementBatch` in the local frame.

Each validated position becomes one CARTESIAN_2D report: ``z = [east_m, north_m]`` of the
position projected onto the ellipsoid (height 0, so that the TRACKS output's conversion
back to latitude/longitude is exact), with an isotropic covariance from NACp.

NACp → EPU (estimated position uncertainty, 95 % horizontal bound; DO-260B Table 2-14)
and σ per axis = EPU / 2.45 (for a circular 2-D Gaussian, 95 % of the mass lies within
2.45 σ):

| NACp | EPU        | NACp | EPU        |
|------|------------|------|------------|
| 11   | 3 m        | 5    | 0.5 NM     |
| 10   | 10 m       | 4    | 1 NM       |
| 9    | 30 m       | 3    | 2 NM       |
| 8    | 0.05 NM    | 2    | 4 NM       |
| 7    | 0.1 NM     | 1    | 10 NM      |
| 6    | 0.3 NM     | 0    | unknown: report kept, ``valid`` False |

Reports with no NACp at all (SBS, unknown) use ``default_nacp`` (8). Identity: icao24 and
its address type, the aircraft's latest callsign and Mode A code (never an identity),
barometric altitude of the message.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from skyfuse.decode.modes import DecodedBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.measure.batch import AddressType, MeasurementBatch, SourceKind
from skyfuse.measure.geodesy import LocalFrame

__all__ = ["EPU_M", "adsb_measurements", "nacp_sigma_m", "sbs_measurements"]

_NM = 1852.0
EPU_M = np.array([np.inf, 10 * _NM, 4 * _NM, 2 * _NM, 1 * _NM, 0.5 * _NM, 0.3 * _NM,
                  0.1 * _NM, 0.05 * _NM, 30.0, 10.0, 3.0])
"""95 % horizontal position bound (m) indexed by NACp 0..11."""


def nacp_sigma_m(nacp: NDArray[np.integer], default_nacp: int = 8) -> NDArray[np.float64]:
    """σ per axis (m) for each NACp; absent (-1) or out of range uses ``default_nacp``."""
    n = np.asarray(nacp, np.int64)
    n = np.where((n < 0) | (n > 11), default_nacp, n)
    return EPU_M[n] / 2.45


def adsb_measurements(dec: DecodedBatch, frame: LocalFrame, default_nacp: int = 8,
                      mlat: bool = False) -> MeasurementBatch:
    """One report per validated position of ``dec`` (rows with finite lat/lon)."""
    idx = np.flatnonzero(np.isfinite(dec.lat_deg) & np.isfinite(dec.lon_deg))
    if len(idx) == 0:
        return MeasurementBatch.empty()
    xy = frame.to_plane(dec.lat_deg[idx], dec.lon_deg[idx])
    nacp = dec.nacp[idx]
    sigma = nacp_sigma_m(nacp, default_nacp)
    valid = np.isfinite(sigma)
    sigma = np.where(valid, sigma, 1e6)
    src = SourceKind.MLAT if mlat else SourceKind.ADSB
    return MeasurementBatch.cartesian(
        dec.t_s[idx], xy, sigma,
        sensor=dec.sensor[idx], source=np.full(len(idx), src, np.int8),
        icao24=dec.icao24[idx], addr_type=dec.addr_type[idx], mode3a=dec.mode3a[idx],
        callsign=dec.callsign[idx], alt_ft=dec.alt_ft[idx], nacp=nacp, valid=valid)


def sbs_measurements(sbs: SbsBatch, frame: LocalFrame, sensor: int = 0,
                     default_nacp: int = 8,
                     callsigns: dict[int, bytes] | None = None,
                     squawks: dict[int, int] | None = None) -> MeasurementBatch:
    """One report per SBS line with a plausible position (MSG,2 / MSG,3).

    ``callsigns`` / ``squawks`` (icao → latest value) are updated from MSG,1 / MSG,6 lines
    and carried onto positions when given.
    """
    calls = callsigns if callsigns is not None else {}
    sqs = squawks if squawks is not None else {}
    for a, cs in zip(sbs.icao24.tolist(), sbs.callsign.tolist(), strict=True):
        if cs:
            calls[a] = cs
    for a, sq in zip(sbs.icao24.tolist(), sbs.squawk.tolist(), strict=True):
        if sq >= 0:
            sqs[a] = sq
    lat, lon = sbs.lat_deg, sbs.lon_deg
    ok = (np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
          & np.isfinite(sbs.t_s))
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return MeasurementBatch.empty()
    xy = frame.to_plane(lat[idx], lon[idx])
    icao = sbs.icao24[idx]
    sigma = nacp_sigma_m(np.full(len(idx), -1), default_nacp)
    return MeasurementBatch.cartesian(
        sbs.t_s[idx], xy, sigma, sensor=np.full(len(idx), sensor, np.int32),
        source=np.full(len(idx), SourceKind.ADSB, np.int8), icao24=icao,
        addr_type=np.full(len(idx), AddressType.ICAO, np.int8),
        mode3a=np.array([sqs.get(a, -1) for a in icao.tolist()], np.int16),
        callsign=np.array([calls.get(a, b"") for a in icao.tolist()], "S8"),
        alt_ft=sbs.alt_ft[idx])
