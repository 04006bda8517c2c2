r"""DF17 extended squitter encoder (ADS-B version 2), vectorised over messages.

Written from the bit tables of ICAO Doc 9871 / DO-260B; checked against rs1090 in
``tests/test_sim_modes.py``. Messages are built as 56-bit ME integers (``uint64`` arrays),
then framed:

DF17 frame, 112 bits::

    DF(5)=17 | CA(3)=5 | AA(24) ICAO address | ME(56) | PI(24) parity

PI is the CRC-24 remainder of the first 88 bits, generator polynomial
``G(x) = 0x1FFF409`` (x²⁴ + x²³ + ... + x¹⁰ + x³ + 1), computed byte-wise with a 256-entry
table over all frames at once.

ME layouts (bit 1 = most significant of the 56):

| message              | fields (bits)                                                     |
|----------------------|-------------------------------------------------------------------|
| identification TC 4  | TC 5, CA 3, 8 × 6-bit chars (``#ABC..Z##### ###..#0..9######``)   |
| position TC 9-18     | TC 5, SS 2, SAF 1, ALT 12, T 1, F 1 (0 even, 1 odd), LAT 17, LON 17 |
| velocity TC 19, ST 1 | TC 5, ST 3, IC 1, IFR 1, NUCv 3, Sew 1, Vew 10, Sns 1, Vns 10,    |
|                      | VrSrc 1, Svr 1, VR 9, reserved 2, SDif 1, dAlt 7                  |
| op. status TC 31/0   | TC 5, ST 3, CC 16, OM 16, VER 3 = 2, NICa 1, NACp 4, GVA 2,       |
|                      | SIL 2, NICbaro 1, HRD 1, SILs 1, reserved 1                       |

ALT (Q = 1, 25 ft): ``N = round((alt_ft + 1000) / 25)``; the 12 bits are N's upper 7 bits,
then Q, then N's lower 4 bits. Velocity (subsonic): ``Vew = |v_east_kt| + 1`` with Sew = 1
for west, ``Vns = |v_north_kt| + 1`` with Sns = 1 for south (0 = no information; capped
at 1022 kt); ``VR = |vrate_fpm| / 64 + 1``, Svr = 1 for down.

Compact Position Reporting (airborne, ``Nb = 17``, ``NZ = 15``), for ``i = 0`` (even) or 1
(odd)::

    Dlat_i = 360 / (4·NZ − i)
    YZ_i   = floor(2¹⁷ · mod(lat, Dlat_i) / Dlat_i + 1/2)
    Rlat_i = Dlat_i · (YZ_i / 2¹⁷ + floor(lat / Dlat_i))          (the latitude decoded)
    Dlon_i = 360 / max(NL(Rlat_i) − i, 1)
    XZ_i   = floor(2¹⁷ · mod(lon, Dlon_i) / Dlon_i + 1/2)
    LAT, LON = YZ_i mod 2¹⁷, XZ_i mod 2¹⁷

``NL`` (number of longitude zones) must be taken at ``Rlat_i``, the latitude the receiver
will decode, not at the true latitude: near a zone boundary the two differ, and a wrong NL
puts the longitude kilometres off (the mistake of adsb-generator's ``encode_cpr``)::

    NL(lat) = floor(2π / acos(1 − (1 − cos(π / (2·NZ))) / cos²(π·lat / 180)))
    NL(0) = 59,  NL(±87) = 2,  NL(|lat| > 87) = 1

Resolution: ``Dlat/2¹⁷`` in latitude (5.1 m even, 5.2 m odd) and ``Dlon/2¹⁷`` in longitude.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MS_TO_KT",
    "airborne_position_me",
    "altitude_code",
    "cpr_encode_airborne",
    "crc24",
    "df17_frames",
    "identification_me",
    "nl",
    "operational_status_me",
    "velocity_me",
]

U64 = NDArray[np.uint64]
MS_TO_KT = 3600.0 / 1852.0
_NZ = 15
_NB = 1 << 17
_GENERATOR = 0x1FFF409
_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def _crc_table() -> NDArray[np.uint32]:
    table = np.zeros(256, np.uint32)
    for b in range(256):
        c = b << 16
        for _ in range(8):
            c = (c << 1) ^ _GENERATOR if c & 0x800000 else c << 1
        table[b] = c & 0xFFFFFF
    return table


_TABLE = _crc_table()


def crc24(data: NDArray[np.uint8]) -> NDArray[np.uint32]:
    """CRC-24 (Mode S parity) of each row of ``data`` ``[K, n]`` bytes."""
    data = np.atleast_2d(np.asarray(data, np.uint8))
    crc = np.zeros(len(data), np.uint32)
    for j in range(data.shape[1]):
        idx = ((crc >> 16) ^ data[:, j]) & 0xFF           # top byte of the register ⊕ input
        crc = ((crc << 8) & 0xFFFFFF) ^ _TABLE[idx]
    return crc


def nl(lat_deg: ArrayLike) -> NDArray[np.int64]:
    """Number of longitude zones at ``lat_deg`` (formula in the module docstring)."""
    lat = np.abs(np.asarray(lat_deg, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 - (1.0 - np.cos(np.pi / (2 * _NZ))) / np.cos(np.radians(lat)) ** 2
        n = np.floor(2.0 * np.pi / np.arccos(a))
    n = np.where(lat == 0.0, 59, n)
    n = np.where(lat == 87.0, 2, n)
    n = np.where(lat > 87.0, 1, n)
    return n.astype(np.int64)


def cpr_encode_airborne(lat_deg: ArrayLike, lon_deg: ArrayLike,
                        odd: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """17-bit airborne CPR (LAT, LON) for positions and parities (True = odd)."""
    lat = np.asarray(lat_deg, np.float64)
    lon = np.asarray(lon_deg, np.float64)
    i = np.asarray(odd, bool).astype(np.int64)
    dlat = 360.0 / (4 * _NZ - i)                                  # Dlat_i
    yz = np.floor(_NB * np.mod(lat, dlat) / dlat + 0.5)           # YZ_i
    rlat = dlat * (yz / _NB + np.floor(lat / dlat))               # Rlat_i
    dlon = 360.0 / np.maximum(nl(rlat) - i, 1)                    # Dlon_i, NL at Rlat_i
    xz = np.floor(_NB * np.mod(lon, dlon) / dlon + 0.5)           # XZ_i
    return (yz.astype(np.int64) % _NB), (xz.astype(np.int64) % _NB)


def altitude_code(alt_ft: ArrayLike) -> NDArray[np.int64]:
    """12-bit ALT field, Q = 1 (25 ft steps), for -1000 .. 50,175 ft (clipped)."""
    n = np.clip(np.round((np.asarray(alt_ft, np.float64) + 1000.0) / 25.0), 0, 2047)
    n = n.astype(np.int64)
    return ((n & 0x7F0) << 1) | 0x10 | (n & 0xF)


def _u64(v: ArrayLike) -> U64:
    return np.asarray(v).astype(np.uint64)


def airborne_position_me(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_ft: ArrayLike,
                         odd: ArrayLike, tc: int | ArrayLike = 11) -> U64:
    """ME of airborne positions (TC 9-18, barometric altitude, SS 0, SAF 0, T 0)."""
    yz, xz = cpr_encode_airborne(lat_deg, lon_deg, odd)
    f = np.asarray(odd, bool).astype(np.int64)
    me = (_u64(np.broadcast_to(tc, yz.shape)) << np.uint64(51)) \
        | (_u64(altitude_code(alt_ft)) << np.uint64(36)) \
        | (_u64(f) << np.uint64(34)) | (_u64(yz) << np.uint64(17)) | _u64(xz)
    return me


def identification_me(callsign: list[str], category: int = 3, tc: int = 4) -> U64:
    """ME of identification messages (TC 4 = category set A; ``category`` 3: medium)."""
    out = np.zeros(len(callsign), np.uint64)
    for k, cs in enumerate(callsign):
        v = (tc << 3) | category
        for ch in (cs.upper() + " " * 8)[:8]:
            code = _CHARSET.find(ch) if ch != "#" else -1
            v = (v << 6) | (code if code > 0 or ch == " " else 32)
        out[k] = v
    return out


def velocity_me(v_east_mps: ArrayLike, v_north_mps: ArrayLike, vrate_fpm: ArrayLike,
                nuc_v: int = 1) -> U64:
    """ME of airborne velocity, subtype 1 (ground speed, subsonic), baro vertical rate."""
    ve = np.asarray(v_east_mps, np.float64) * MS_TO_KT
    vn = np.asarray(v_north_mps, np.float64) * MS_TO_KT
    vr = np.asarray(vrate_fpm, np.float64)
    vew = np.clip(np.round(np.abs(ve)), 0, 1021).astype(np.int64) + 1
    vns = np.clip(np.round(np.abs(vn)), 0, 1021).astype(np.int64) + 1
    vvr = np.clip(np.round(np.abs(vr) / 64.0), 0, 510).astype(np.int64) + 1
    me = (np.uint64(19) << np.uint64(51)) | (np.uint64(1) << np.uint64(48)) \
        | (np.uint64(nuc_v) << np.uint64(43)) \
        | (_u64(ve < 0) << np.uint64(42)) | (_u64(vew) << np.uint64(32)) \
        | (_u64(vn < 0) << np.uint64(31)) | (_u64(vns) << np.uint64(21)) \
        | (_u64(vr < 0) << np.uint64(19)) | (_u64(vvr) << np.uint64(10))
    return np.asarray(me, np.uint64)


def operational_status_me(nacp: ArrayLike, sil: int = 3) -> U64:
    """ME of airborne operational status (TC 31, subtype 0, version 2) with ``nacp``."""
    n = _u64(np.clip(np.asarray(nacp, np.int64), 0, 15))
    me = (np.uint64(31) << np.uint64(51)) | (np.uint64(2) << np.uint64(13)) \
        | (n << np.uint64(8)) | (np.uint64(sil) << np.uint64(4)) | np.uint64(1 << 3)
    return np.asarray(me, np.uint64)


def df17_frames(icao24: ArrayLike, me: U64, ca: int = 5) -> NDArray[np.uint8]:
    """DF17 frames ``[K, 14]`` bytes for addresses and ME fields, parity included."""
    icao = np.asarray(icao24, np.int64)
    me = np.asarray(me, np.uint64)
    k = len(me)
    out = np.zeros((k, 14), np.uint8)
    out[:, 0] = (17 << 3) | ca
    for j in range(3):
        out[:, 1 + j] = (icao >> (16 - 8 * j)) & 0xFF
    for j in range(7):
        out[:, 4 + j] = ((me >> np.uint64(48 - 8 * j)) & np.uint64(0xFF)).astype(np.uint8)
    pi = crc24(out[:, :11])
    for j in range(3):
        out[:, 11 + j] = (pi >> (16 - 8 * j)) & 0xFF
    return out
