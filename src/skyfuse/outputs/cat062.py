"""ASTERIX CAT062 (SDPS system track data, edition 1.19) over UDP.

Edition 1.19 is the one tshark (and skyfuse's decoders) read by default. One record per
track update; records are packed into data blocks (``CAT=62 u8 | LEN u16 | records``), one
block per UDP datagram of at most ``max_datagram_bytes`` (1400: under a 1500-byte Ethernet
MTU with IP/UDP headers, so nothing is fragmented).

Items sent (bit 1 = least significant; "s" two's complement; UAP order):

| item     | content                                               | when                      |
|----------|-------------------------------------------------------|---------------------------|
| I062/010 | SAC u8, SIC u8 of this system                          | always (mandatory)        |
| I062/015 | service identification u8 (``service_id``)              | always                    |
| I062/070 | time of track information u24, LSB 1/128 s (UTC tod)    | always (mandatory)        |
| I062/105 | LAT s32, LON s32, LSB 180/2^25 ° (WGS-84)               | position known            |
| I062/100 | X s24, Y s24, LSB 0.5 m, east/north of the system       | ``frame`` given, in range |
|          | reference point (the tracker's local plane)             | (±4194 km)                |
| I062/185 | VX s16, VY s16, LSB 0.25 m/s (east, north)              | velocity known            |
| I062/060 | V G CH spare, Mode 3/A 12 bits                          | Mode 3/A known            |
| I062/380 | compound: ADR (24-bit address), ID (8 × 6-bit chars)    | address / callsign known  |
| I062/040 | track number u16 (track_id mod 2^16)                    | always (mandatory)        |
| I062/080 | track status, extended: MON SPI MRH SRC(3) CNF FX;     | always (mandatory)        |
|          | for coasting tracks also the 2nd-4th octets with CST=1  |                           |
| I062/136 | measured flight level s16, LSB 1/4 FL (``alt_ft``/100)  | altitude known            |

Track status: CNF 1 for a tentative track, 0 otherwise; MON 1 when the ``sensors`` bitmask
(if the runtime supplies one) names exactly one sensor, else 0 (multisensor); SPI 0, MRH 0
(barometric altitude more reliable), SRC 0 (no calculated altitude sent). A coasting track
sets CST ("coasted track"), which lives in the 4th octet, so octets 2-3 are sent as zeros.

Scaled values are rounded to the nearest LSB by skyfuse (two's complement masked to the
field width); a value outside its field's range leaves the item out rather than wrapping.

Two serializers give the same bytes (``tests/test_cat062.py`` compares them on hundreds of
records with every optional item present and absent): ``engine="libasterix"`` builds each
record with libasterix (pure Python, about 0.2-0.3 ms per record here: ~4,000 records/s),
``engine="native"`` (the default) packs the same raw values with ``struct`` in the UAP order
written in :func:`_native_record` (~40,000 records/s on the loaded test machine). Decoding
(``decode_cat062``) always goes through libasterix, and tshark dissects what the sender sends
(``tests/test_cat062_tshark.py``). :class:`Cat062Sender` encodes on its own thread; when it
falls behind it drops whole old batches (counted in ``stats``), never blocking the tracker.
"""

from __future__ import annotations

import math
import socket
import struct
import threading
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from skyfuse.measure.geodesy import LocalFrame
from skyfuse.outputs.base import column
from skyfuse.runtime.tracks_csv import TrackRows

__all__ = ["CAT", "Cat062Sender", "decode_cat062", "encode_cat062", "encode_cat062_records",
           "ndarray_of", "pack_datagrams"]

CAT = 62
"""ASTERIX category number."""

_LSB_LATLON_DEG = 180.0 / 2**25
_LSB_XY_M = 0.5
_LSB_V_MPS = 0.25
_LSB_TOD_S = 1.0 / 128.0
_LSB_FL = 0.25
_DAY_S = 86_400.0


def _spec() -> Any:
    import asterix.generated as gen  # lazily: importing it takes ~0.5 s
    return gen.Cat_062_1_19


def _raw(v: float, lsb: float, bits: int) -> int | None:
    """``v / lsb`` rounded, as a ``bits``-wide two's complement field; None if out of range."""
    q = round(v / lsb)
    lim = 1 << (bits - 1)
    if not -lim <= q < lim:
        return None
    return q & ((1 << bits) - 1)


def encode_cat062_records(rows: TrackRows, *, sac: int, sic: int,
                          time_of_day_s: ArrayLike | None = None,
                          frame: LocalFrame | None = None, service_id: int = 1,
                          engine: str = "native") -> list[bytes]:
    """One encoded CAT062 record per row (items as in the module docstring).

    ``time_of_day_s``: UTC seconds since midnight per row (or one value for all); default
    ``t_s mod 86400`` (every row needs a finite time: ValueError otherwise). ``frame``:
    the system reference point for I062/100 (omitted if None). ``engine``: ``"native"``
    (skyfuse's serializer, :func:`_native_record`) or ``"libasterix"``; both give the
    same bytes (tested). Pure: no clock, no I/O.
    """
    if not (0 <= sac <= 255 and 0 <= sic <= 255 and 0 <= service_id <= 255):
        raise ValueError("sac, sic and service_id must be 0..255")
    if engine not in ("native", "libasterix"):
        raise ValueError("engine must be 'native' or 'libasterix'")
    n = len(rows)
    if n == 0:
        return []
    spec = _spec() if engine == "libasterix" else None
    t_s = np.asarray(rows.t_s, np.float64)
    tod = np.mod(t_s, _DAY_S) if time_of_day_s is None else np.broadcast_to(
        np.asarray(time_of_day_s, np.float64), (n,))
    lat = np.asarray(rows.lat_deg, np.float64)
    lon = np.asarray(rows.lon_deg, np.float64)
    if frame is not None:
        ok = np.isfinite(lat) & np.isfinite(lon)
        xy = np.full((n, 2), np.nan)
        if ok.any():
            xy[ok] = frame.to_plane(lat[ok], lon[ok])
        x_m, y_m = xy[:, 0].tolist(), xy[:, 1].tolist()
    else:
        x_m = y_m = [math.nan] * n
    mode3a = column(rows, "mode3a", -1, np.int64).tolist()
    sensors = column(rows, "sensors", 0, np.int64)
    mono = ((sensors > 0) & ((sensors & (sensors - 1)) == 0)).tolist()   # one bit set
    out: list[bytes] = []
    for (td, tid, st, la, lo, x, y, vx, vy, alt, a, cs, m3a, mon) in zip(
            tod.tolist(), rows.track_id.tolist(), rows.status.tolist(), lat.tolist(),
            lon.tolist(), x_m, y_m, rows.vx_mps.tolist(), rows.vy_mps.tolist(),
            rows.alt_ft.tolist(), rows.icao24.tolist(), rows.callsign.tolist(), mode3a, mono,
            strict=True):
        items: dict[str, Any] = {
            "010": (("SAC", sac), ("SIC", sic)),
            "015": service_id,
            "070": round(np.mod(td, _DAY_S) / _LSB_TOD_S) % (1 << 24),
            "040": int(tid) & 0xFFFF,
        }
        g1 = (int(mon), 0, 0, 0, 1 if st == 0 else 0, None)       # MON SPI MRH SRC CNF FX
        items["080"] = ((g1, (0,) * 7 + (None,), (0,) * 5 + (None,),
                         (1,) + (0,) * 6 + (None,)) if st == 2 else (g1,))
        if math.isfinite(la) and math.isfinite(lo):
            rla = _raw(la, _LSB_LATLON_DEG, 32)
            rlo = _raw(((lo + 180.0) % 360.0) - 180.0, _LSB_LATLON_DEG, 32)
            if rla is not None and rlo is not None:
                items["105"] = (("LAT", rla), ("LON", rlo))
        if math.isfinite(x) and math.isfinite(y):
            rx, ry = _raw(x, _LSB_XY_M, 24), _raw(y, _LSB_XY_M, 24)
            if rx is not None and ry is not None:
                items["100"] = (("X", rx), ("Y", ry))
        if math.isfinite(vx) and math.isfinite(vy):
            rvx, rvy = _raw(vx, _LSB_V_MPS, 16), _raw(vy, _LSB_V_MPS, 16)
            if rvx is not None and rvy is not None:
                items["185"] = (("VX", rvx), ("VY", rvy))
        if 0 <= m3a <= 0o7777:
            items["060"] = (0, 0, 0, 0, ("MODE3A", m3a))
        i380: dict[str, Any] = {}
        if a >= 0:
            i380["ADR"] = int(a) & 0xFFFFFF
        call = _icao_chars(cs)
        if call:
            i380["ID"] = call
        if i380:
            items["380"] = i380
        if math.isfinite(alt):
            fl = _raw(alt / 100.0, _LSB_FL, 16)
            if fl is not None:
                items["136"] = fl
        if spec is None:
            out.append(_native_record(items))
        else:
            out.append(bytes(spec.cv_record.create(items).unparse().to_bytes()))
    return out


_ICAO_CODE = {c: (c - 64 if 65 <= c <= 90 else c) for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "}


def _native_record(items: dict[str, Any]) -> bytes:
    """Serialize the items dict built by :func:`encode_cat062_records` (raw integers) as
    one CAT062 1.19 record, without libasterix (≈ 50× faster; byte-identical, tested).

    FSPEC (UAP 1.19; FX = bit 1 of each octet): octet 1 = 010 · spare · 015 · 070 · 105 ·
    100 · 185 · FX; octet 2 = 210 · 060 · 245 · 380 · 040 · 080 · 290 · FX; octet 3 = 200 ·
    295 · 136 · 130 · 135 · 220 · 390 · FX. Items follow in that order. I062/380 has its own
    FSPEC: ADR (bit 8) · ID (bit 7). I062/080 octet 1 = MON SPI MRH SRC(3) CNF FX; a
    coasting track adds octets 2, 3 (zeros + FX) and 4 (CST in bit 8).
    """
    (_, sac), (_, sic) = items["010"]
    f1, f2, f3 = 0x80 | 0x20 | 0x10, 0x08 | 0x04, 0
    body = [bytes((sac, sic, items["015"])), items["070"].to_bytes(3, "big")]
    if "105" in items:
        f1 |= 0x08
        (_, la), (_, lo) = items["105"]
        body.append(struct.pack(">II", la, lo))
    if "100" in items:
        f1 |= 0x04
        (_, x), (_, y) = items["100"]
        body.append(x.to_bytes(3, "big") + y.to_bytes(3, "big"))
    if "185" in items:
        f1 |= 0x02
        (_, vx), (_, vy) = items["185"]
        body.append(struct.pack(">HH", vx, vy))
    if "060" in items:
        f2 |= 0x40
        body.append(struct.pack(">H", items["060"][4][1] & 0x0FFF))
    if "380" in items:
        f2 |= 0x10
        sub = items["380"]
        sf = (0x80 if "ADR" in sub else 0) | (0x40 if "ID" in sub else 0)
        part = bytes((sf,))
        if "ADR" in sub:
            part += sub["ADR"].to_bytes(3, "big")
        if "ID" in sub:
            v = 0
            for c in sub["ID"].ljust(8).encode("ascii")[:8]:
                v = (v << 6) | _ICAO_CODE[c]
            part += v.to_bytes(6, "big")
        body.append(part)
    body.append(struct.pack(">H", items["040"]))
    groups = items["080"]
    mon, spi, mrh, src, cnf, _ = groups[0]
    o1 = mon << 7 | spi << 6 | mrh << 5 | src << 2 | cnf << 1
    if len(groups) == 1:
        body.append(bytes((o1,)))
    else:                                    # coasting: octets 2, 3 zero, 4 holds CST
        body.append(bytes((o1 | 1, 0x01, 0x01, groups[3][0] << 7)))
    if "136" in items:
        f3 |= 0x20
        body.append(struct.pack(">H", items["136"]))
    fspec = bytes((f1 | 1, f2 | 1, f3)) if f3 else bytes((f1 | 1, f2))
    return fspec + b"".join(body)


_ICAO_OK = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")


def _icao_chars(cs: bytes) -> str:
    """Callsign as the ICAO 6-bit alphabet allows (A-Z, 0-9, space); other bytes dropped."""
    s = bytes(c for c in cs.upper() if c in _ICAO_OK).decode("ascii").strip()
    return s[:8]


def pack_datagrams(records: list[bytes], max_datagram_bytes: int = 1400) -> list[bytes]:
    """Pack records into CAT062 data blocks of at most ``max_datagram_bytes`` each (one
    block per datagram; a record is never split)."""
    out: list[bytes] = []
    cur: list[bytes] = []
    size = 3
    for r in records:
        if len(r) + 3 > max_datagram_bytes:
            raise ValueError(f"a {len(r)}-byte record does not fit {max_datagram_bytes} bytes")
        if size + len(r) > max_datagram_bytes:
            out.append(struct.pack(">BH", CAT, size) + b"".join(cur))
            cur, size = [], 3
        cur.append(r)
        size += len(r)
    if cur:
        out.append(struct.pack(">BH", CAT, size) + b"".join(cur))
    return out


def encode_cat062(rows: TrackRows, *, sac: int, sic: int,
                  time_of_day_s: ArrayLike | None = None, frame: LocalFrame | None = None,
                  service_id: int = 1, max_block_bytes: int = 1400) -> bytes:
    """The rows as CAT062 data blocks back to back (each ≤ ``max_block_bytes``): what
    :class:`Cat062Sender` sends, one block per datagram. Pure."""
    recs = encode_cat062_records(rows, sac=sac, sic=sic, time_of_day_s=time_of_day_s,
                                 frame=frame, service_id=service_id)
    return b"".join(pack_datagrams(recs, max_block_bytes))


class Cat062Sender:
    """Sends published track updates as CAT062 datagrams to ``host:port`` (unicast or
    multicast) from a worker thread.

    ``publish(rows)`` enqueues (at most ``max_pending_batches`` waiting: the oldest is
    dropped and counted beyond that); ``close()`` sends what is queued, then stops.
    :attr:`stats`: ``records_sent``, ``datagrams_sent``, ``batches_dropped``,
    ``send_errors`` (failed sends, and batches that could not be encoded: the thread goes
    on), ``records_skipped`` (updates without a finite time: I062/070 is mandatory).
    """

    def __init__(self, host: str, port: int, *, sac: int, sic: int,
                 frame: LocalFrame | None = None, service_id: int = 1,
                 max_datagram_bytes: int = 1400, max_pending_batches: int = 4,
                 multicast_ttl: int = 1) -> None:
        if not (0 <= sac <= 255 and 0 <= sic <= 255):
            raise ValueError("sac and sic must be 0..255")
        self.address = (host, int(port))
        self.sac, self.sic, self.frame, self.service_id = sac, sic, frame, service_id
        self.max_datagram_bytes = int(max_datagram_bytes)
        self.stats: dict[str, int] = {"records_sent": 0, "datagrams_sent": 0,
                                      "batches_dropped": 0, "send_errors": 0,
                                      "records_skipped": 0}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, multicast_ttl)
        self._queue: deque[TrackRows] = deque()
        self._max_pending = max(1, int(max_pending_batches))
        self._cv = threading.Condition()
        self._closing = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="skyfuse-cat062", daemon=True)
        self._thread.start()

    def publish(self, rows: TrackRows) -> None:
        """Queue ``rows`` for sending (never blocks; drops the oldest batch when full)."""
        if len(rows) == 0:
            return
        with self._cv:
            if self._closing:
                return
            if len(self._queue) >= self._max_pending:
                self._queue.popleft()
                self.stats["batches_dropped"] += 1
            self._queue.append(rows)
            self._cv.notify()

    def flush(self, timeout_s: float | None = 30.0) -> bool:
        """Wait until every queued batch is sent; True if done within ``timeout_s``."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._queue and not self._busy, timeout_s)

    def close(self) -> None:
        """Send what is queued, stop the thread, close the socket (idempotent)."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._thread.join()
        self._sock.close()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    self._cv.notify_all()
                    return
                rows = self._queue.popleft()
                self._busy = True
            try:
                self._send(rows)
            except Exception:                    # a bad batch: lose it, not the thread
                self.stats["send_errors"] += 1
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _send(self, rows: TrackRows) -> None:
        ok = np.isfinite(np.asarray(rows.t_s, np.float64))   # I062/070 is mandatory
        if not ok.all():
            self.stats["records_skipped"] += int((~ok).sum())
            rows = rows.take(ok)
            if len(rows) == 0:
                return
        recs = encode_cat062_records(rows, sac=self.sac, sic=self.sic, frame=self.frame,
                                     service_id=self.service_id)
        for dgram in pack_datagrams(recs, self.max_datagram_bytes):
            try:
                self._sock.sendto(dgram, self.address)
            except OSError:
                self.stats["send_errors"] += 1
                continue
            self.stats["datagrams_sent"] += 1
        self.stats["records_sent"] += len(recs)


def decode_cat062(data: bytes) -> list[dict[str, Any]]:
    """Decode CAT062 blocks back with libasterix into plain values (for tests/debugging):
    per record ``sac, sic, track_number, tod_s, lat_deg, lon_deg, x_m, y_m, vx_mps,
    vy_mps, fl, mode3a, icao24, callsign, cnf, cst`` (None when absent)."""
    from asterix.base import Bits

    spec = _spec()
    out: list[dict[str, Any]] = []
    off = 0
    while off + 3 <= len(data):
        cat, ln = struct.unpack_from(">BH", data, off)
        if cat != CAT or ln < 3 or off + ln > len(data):
            raise ValueError(f"bad CAT062 block header at offset {off}")
        recs = spec.cv_uap.parse(Bits.from_bytes(data[off + 3:off + ln]))
        if isinstance(recs, ValueError):
            raise recs
        out.extend(_values(r) for r in recs)
        off += ln
    return out


def _sgn(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def _values(rec: Any) -> dict[str, Any]:
    def u(name: str) -> int | None:
        it = rec.get_item(name)
        return None if it is None else int(it.as_uint())

    i010, i105, i100, i185 = u("010"), u("105"), u("100"), u("185")
    i060, i136, i070, i080 = u("060"), u("136"), u("070"), rec.get_item("080")
    st = bytes(i080.unparse().to_bytes()) if i080 is not None else b""
    i380 = rec.get_item("380")
    adr = ident = None
    if i380 is not None:
        a = i380.variation.get_item("ADR")
        adr = None if a is None else int(a.as_uint())
        c = i380.variation.get_item("ID")
        if c is not None:
            from asterix.base import StringICAO
            ident = StringICAO.to_string(48, int(c.as_uint())).strip()
    return {
        "sac": None if i010 is None else i010 >> 8,
        "sic": None if i010 is None else i010 & 0xFF,
        "track_number": u("040"), "tod_s": None if i070 is None else i070 * _LSB_TOD_S,
        "lat_deg": None if i105 is None else _sgn(i105 >> 32, 32) * _LSB_LATLON_DEG,
        "lon_deg": None if i105 is None else _sgn(i105 & 0xFFFFFFFF, 32) * _LSB_LATLON_DEG,
        "x_m": None if i100 is None else _sgn(i100 >> 24, 24) * _LSB_XY_M,
        "y_m": None if i100 is None else _sgn(i100 & 0xFFFFFF, 24) * _LSB_XY_M,
        "vx_mps": None if i185 is None else _sgn(i185 >> 16, 16) * _LSB_V_MPS,
        "vy_mps": None if i185 is None else _sgn(i185 & 0xFFFF, 16) * _LSB_V_MPS,
        "fl": None if i136 is None else _sgn(i136, 16) * _LSB_FL,
        "mode3a": None if i060 is None else i060 & 0o7777,
        "icao24": adr, "callsign": ident,
        "cnf": None if not st else (st[0] >> 1) & 1,
        "cst": 0 if len(st) < 4 else (st[3] >> 7) & 1,
    }


def ndarray_of(values: list[dict[str, Any]], key: str) -> NDArray[np.float64]:
    """One decoded field over records as floats (NaN where absent); a test helper."""
    return np.array([np.nan if v[key] is None else v[key] for v in values], np.float64)
