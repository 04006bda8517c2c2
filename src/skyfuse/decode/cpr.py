"""Compact Position Reporting (CPR): turn ADS-B 17-bit lat/lon fields into positions.

rs1090 extracts the fields (``lat_cpr``, ``lon_cpr``, ``parity``); this module resolves
them into WGS84 positions, which needs state across messages (an even/odd pair, or a
reference position), so it lives beside the streaming decoder. Formulas of DO-260B §A.1.7
(as written in pyModeS and in "The 1090 MHz Riddle", Sun 2021, ch. 5); all angles degrees.

| quantity      | airborne              | surface                    |
|---------------|-----------------------|----------------------------|
| field         | 17 bits: cpr / 2¹⁷    | 17 bits: cpr / 2¹⁷         |
| dLat (i=0/1)  | 360 / (60 - i)        | 90 / (60 - i)              |
| dLon          | 360 / max(NL - i, 1)  | 90 / max(NL - i, 1)        |
| unambiguous   | global from one pair  | to 90°: needs a reference  |
| local range   | ref within 180 NM     | ref within 45 NM           |

NL(lat), the number of longitude zones, follows the closed form of DO-260B with NZ = 15.
Every function returns ``None`` when the inputs cannot give a position (zone mismatch of a
pair straddling an NL boundary); none of them raises on finite inputs.
"""

from __future__ import annotations

import math

__all__ = ["global_airborne", "global_surface", "local", "nl"]

_CPR = 131072.0  # 2**17
_NZ = 15
_A = 1.0 - math.cos(math.pi / (2 * _NZ))


def nl(lat_deg: float) -> int:
    """Number of longitude zones at ``lat_deg`` (1..59)."""
    lat = abs(lat_deg)
    if lat == 0.0:
        return 59
    if lat == 87.0:
        return 2
    if lat > 87.0:
        return 1
    b = math.cos(math.radians(lat)) ** 2
    return math.floor(2.0 * math.pi / math.acos(1.0 - _A / b))


def _pair_lat(lat_e: int, lat_o: int, span: float) -> tuple[float, float]:
    ye, yo = lat_e / _CPR, lat_o / _CPR
    j = math.floor(59.0 * ye - 60.0 * yo + 0.5)
    rlat_e = span / 60.0 * (j % 60 + ye)
    rlat_o = span / 59.0 * (j % 59 + yo)
    return rlat_e, rlat_o


def _pair_lon(lat: float, lon_e: int, lon_o: int, odd_latest: bool, span: float) -> float:
    xe, xo = lon_e / _CPR, lon_o / _CPR
    n = nl(lat)
    ni = max(n - 1, 1) if odd_latest else max(n, 1)
    m = math.floor(xe * (n - 1) - xo * n + 0.5)
    return span / ni * (m % ni + (xo if odd_latest else xe))


def global_airborne(lat_e: int, lon_e: int, lat_o: int, lon_o: int,
                    odd_latest: bool) -> tuple[float, float] | None:
    """Airborne position from an even/odd pair; the position of the latest message."""
    rlat_e, rlat_o = _pair_lat(lat_e, lat_o, 360.0)
    if rlat_e >= 270.0:
        rlat_e -= 360.0
    if rlat_o >= 270.0:
        rlat_o -= 360.0
    if nl(rlat_e) != nl(rlat_o):
        return None
    lat = rlat_o if odd_latest else rlat_e
    lon = _pair_lon(lat, lon_e, lon_o, odd_latest, 360.0)
    if lon >= 180.0:
        lon -= 360.0
    return lat, lon


def global_surface(lat_e: int, lon_e: int, lat_o: int, lon_o: int, odd_latest: bool,
                   ref_lat: float, ref_lon: float) -> tuple[float, float] | None:
    """Surface position from an even/odd pair; the 90° ambiguity resolved by the reference."""
    rlat_e, rlat_o = _pair_lat(lat_e, lat_o, 90.0)
    if ref_lat < 0.0:
        rlat_e -= 90.0
        rlat_o -= 90.0
    if nl(rlat_e) != nl(rlat_o):
        return None
    lat = rlat_o if odd_latest else rlat_e
    lon0 = _pair_lon(lat, lon_e, lon_o, odd_latest, 90.0)
    best = min((((lon0 + k * 90.0 + 180.0) % 360.0) - 180.0 for k in range(4)),
               key=lambda x: abs(((x - ref_lon + 180.0) % 360.0) - 180.0))
    return lat, best


def local(lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float, ref_lon: float,
          surface: bool = False) -> tuple[float, float]:
    """Position of one message decoded against a reference within half a zone of it."""
    span = 90.0 if surface else 360.0
    i = 1 if odd else 0
    y, x = lat_cpr / _CPR, lon_cpr / _CPR
    dlat = span / (60 - i)
    j = math.floor(ref_lat / dlat) + math.floor(0.5 + (ref_lat % dlat) / dlat - y)
    lat = dlat * (j + y)
    dlon = span / max(nl(lat) - i, 1)
    m = math.floor(ref_lon / dlon) + math.floor(0.5 + (ref_lon % dlon) / dlon - x)
    lon = dlon * (m + x)
    return lat, ((lon + 180.0) % 360.0) - 180.0
