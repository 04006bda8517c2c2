"""ASTERIX datagrams → typed struct-of-arrays reports, with libasterix doing the parsing.

libasterix (pure Python, MIT) parses each data block's records (FSPEC, item lengths,
extensions) against the editions tshark decodes by default: CAT048 1.31, CAT034 1.29,
CAT021 2.6, CAT020 1.10. This module walks the datagram's blocks itself (so one bad block
loses only itself), picks the items below out of each record and scales them.

Data block: ``CAT u8 | LEN u16 (whole block, header included) | records``. A datagram may
hold several blocks. A block of a category not listed below is counted in
``AsterixStats.unknown_category`` and skipped; a block libasterix rejects is counted in
``rejected_blocks`` and reported in ``errors``; a broken block header (``LEN < 3`` or past the
datagram's end) ends that datagram, keeping the blocks before it.

Items read (bit 1 = least significant; "s" two's complement; LSBs as in the specs):

| item     | layout                                                          | column            |
|----------|-----------------------------------------------------------------|-------------------|
| I048/010 | SAC u8, SIC u8                                                  | sac, sic          |
| I048/140 | time of day u24, LSB 1/128 s                                    | tod_s             |
| I048/020 | octet 1 bits 8-6: TYP (extended item, FX)                       | detection_type    |
| I048/040 | RHO u16 LSB 1/256 NM, THETA u16 LSB 360/2^16 °                  | slant_range_m, az |
| I048/070 | V G L spare, Mode 3/A 12 bits (4 octal digits)                  | mode3a, mode3a_ok |
| I048/090 | V G, FL s14 LSB 1/4 FL (libasterix 0.36.3 says unsigned: we     | fl, fl_ok         |
|          | apply the spec's two's complement ourselves)                    |                   |
| I048/220 | 24-bit aircraft address                                         | icao24            |
| I048/240 | 8 × 6-bit ICAO characters                                       | callsign          |
| I048/161 | spare 4, TRN u12                                                | track_number      |
| I034/000 | message type u8                                                 | msg_type          |
| I034/010 | SAC, SIC;  I034/030 time of day u24 LSB 1/128 s                 | sac, sic, tod_s   |
| I034/020 | sector azimuth u8, LSB 360/2^8 °                                | sector_deg        |
| I034/041 | antenna rotation period u16, LSB 1/128 s                        | rotation_period_s |
| I034/050 | compound; COM octet: NOGO RDPC RDPR OVLRDP OVLXMT MSC TSV spare | nogo, overload .. |
| I021/010 | SAC, SIC;  I021/040 octet 1 bits 8-6: ATP                       | address_type      |
| I021/071 | time of applicability for position (else /073 reception, /077)  | tod_s             |
| I021/131 | LAT s32, LON s32, LSB 180/2^30 ° (else I021/130: s24, 180/2^23) | lat_deg, lon_deg  |
| I021/080 | target address u24;  I021/170 8 × 6-bit characters              | icao24, callsign  |
| I021/145 | FL s16 LSB 1/4 FL                                               | fl                |
| I021/090 | quality; octet 2 bits 5-2: NACp (first extension)               | nacp              |
| I020/010 | SAC, SIC;  I020/140 time of day u24 LSB 1/128 s                 | sac, sic, tod_s   |
| I020/041 | LAT s32, LON s32, LSB 180/2^25 °                                | lat_deg, lon_deg  |
| I020/042 | X s24, Y s24, LSB 0.5 m                                         | x_m, y_m          |
| I020/220 | target address u24;  I020/245 STI 2, spare 6, 8 × 6-bit chars   | icao24, callsign  |
| I020/090 | V G, FL s14 LSB 1/4 FL;  I020/161 spare 4, TRN u12              | fl, track_number  |

Redundant copies (radar LANs send each stream on two multicast groups) are dropped by
default: a record whose category and bytes equal one among the last ``dedup_capacity``
records is counted in ``duplicates`` and skipped. Records carry their own time of day, so
two distinct reports are never byte-identical in practice.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import asterix.generated as _gen
from asterix.base import Bits, StringICAO

from skyfuse.decode.asterix_records import (
    NM_TO_M,
    AdsbReports,
    AsterixBatch,
    ColumnBuffer,
    MlatReports,
    RadarPlots,
    RadarServiceMessages,
)

__all__ = [
    "EDITIONS",
    "AsterixDecoder",
    "AsterixStats",
    "BlockError",
    "TimeOfDayClock",
    "decode_datagrams",
    "iter_json_records",
    "reference_from_date",
]

EDITIONS: dict[int, Any] = {
    48: _gen.Cat_048_1_31,
    34: _gen.Cat_034_1_29,
    21: _gen.Cat_021_2_6,
    20: _gen.Cat_020_1_10,
}
"""Category → libasterix edition class used to parse it (tshark's defaults)."""

DAY_S = 86400.0
_TOD_LSB = 1.0 / 128.0
_NAN = math.nan


def reference_from_date(day: date | str) -> float:
    """Reference epoch for :class:`TimeOfDayClock` so that the first record falls on ``day``.

    Returns noon UTC of ``day`` (any time of day is then within 12 h of it).
    """
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp()


class TimeOfDayClock:
    """Turns ASTERIX time of day (s since UTC midnight) into UTC epoch seconds.

    The day comes from a reference epoch: for each record the capture timestamp when known
    (``hint_s``), else the last resolved time, else ``reference_epoch_s`` (see
    :func:`reference_from_date`), else noon of 1970-01-01 (``t_s`` is then the time of day of the
    first day). The result is the time with that time of day nearest to the reference, so
    a recording crossing midnight keeps increasing:
    ``t = midnight(ref) + tod + k·86400``, ``k ∈ {-1, 0, 1}`` minimising ``|t − ref|``.
    """

    __slots__ = ("_last", "_ref")

    def __init__(self, reference_epoch_s: float | None = None) -> None:
        self._ref = reference_epoch_s
        self._last: float | None = None

    def resolve(self, tod_s: float, hint_s: float = _NAN) -> float:
        """UTC epoch seconds of time of day ``tod_s`` (see the class docstring)."""
        if hint_s == hint_s:  # finite capture time
            ref = hint_s
        elif self._last is not None:
            ref = self._last
        elif self._ref is not None:
            ref = self._ref
        else:
            ref = DAY_S / 2  # noon of 1970-01-01: any time of day stays on that day
        t = math.floor(ref / DAY_S) * DAY_S + tod_s
        if t - ref > DAY_S / 2:
            t -= DAY_S
        elif ref - t > DAY_S / 2:
            t += DAY_S
        self._last = t
        return t


class BlockError(NamedTuple):
    """One rejected block or datagram tail: where, which category, what libasterix said."""

    datagram: int
    offset: int
    category: int
    message: str


@dataclass(slots=True)
class AsterixStats:
    """Counters of an :class:`AsterixDecoder`."""

    datagrams: int = 0
    blocks: int = 0
    records: dict[int, int] = field(default_factory=dict)
    """Records decoded per category (duplicates excluded)."""
    duplicates: int = 0
    unknown_category: dict[int, int] = field(default_factory=dict)
    """Blocks skipped per unknown category."""
    bad_framing: int = 0
    """Datagrams whose block headers are broken (the rest of the datagram is dropped)."""
    rejected_blocks: int = 0
    """Blocks libasterix could not parse (skipped whole)."""
    bad_records: int = 0
    """Records parsed but with impossible content (e.g. time of day ≥ 24 h, no SAC/SIC)."""
    errors: deque[BlockError] = field(default_factory=lambda: deque(maxlen=1000))
    """The last 1000 problems, for reporting."""
    errors_total: int = 0
    """Problems reported since the start (``errors`` keeps only the last ones)."""

    def report(self, err: BlockError) -> None:
        """Record one problem."""
        self.errors.append(err)
        self.errors_total += 1

    @property
    def bad(self) -> int:
        """All input counted as bad (framing, rejected blocks, bad records)."""
        return self.bad_framing + self.rejected_blocks + self.bad_records

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (for ``skyfuse decode``'s final stderr line)."""
        return {
            "datagrams": self.datagrams, "blocks": self.blocks,
            "records": {f"CAT{c:03d}": n for c, n in sorted(self.records.items())},
            "duplicates": self.duplicates,
            "unknown_categories": {str(c): n for c, n in sorted(self.unknown_category.items())},
            "bad_framing": self.bad_framing, "rejected_blocks": self.rejected_blocks,
            "bad_records": self.bad_records,
        }


class _BadRecordError(Exception):
    """A record whose content cannot be used."""


def _u(rec: Any, name: str) -> int | None:
    it = rec.get_item(name)
    return None if it is None else int(it.as_uint())


def _raw(rec: Any, name: str) -> bytes | None:
    it = rec.get_item(name)
    return None if it is None else bytes(it.unparse().to_bytes())


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def _chars(v: int) -> bytes:
    return StringICAO.to_string(48, v & 0xFFFFFFFFFFFF).strip().encode("ascii")[:8]


def _sac_sic(rec: Any) -> tuple[int, int]:
    v = _u(rec, "010")
    if v is None:
        raise _BadRecordError("no I010 SAC/SIC")
    return v >> 8, v & 0xFF


def _tod(v: int | None) -> float:
    if v is None:
        raise _BadRecordError("no time of day")
    tod = v * _TOD_LSB
    if tod >= DAY_S:
        raise _BadRecordError(f"time of day {tod} s ≥ 24 h")
    return tod


class AsterixDecoder:
    """Decodes ASTERIX datagrams (CAT048, CAT034, CAT021, CAT020) into struct-of-arrays.

    ``feed(payload, t_capture_s)`` decodes one datagram into internal column buffers,
    ``take()`` returns everything decoded since the last ``take`` as an
    :class:`~skyfuse.decode.asterix_records.AsterixBatch`. Never raises on bad input: it is
    counted in :attr:`stats` (see the module docstring). Not thread-safe.
    """

    def __init__(
        self,
        *,
        reference_epoch_s: float | None = None,
        dedup: bool = True,
        dedup_capacity: int = 4096,
    ) -> None:
        self.stats = AsterixStats()
        self.clock = TimeOfDayClock(reference_epoch_s)
        self._dedup = dedup
        self._dedup_capacity = dedup_capacity
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._plots = ColumnBuffer(RadarPlots)
        self._services = ColumnBuffer(RadarServiceMessages)
        self._adsb = ColumnBuffer(AdsbReports)
        self._mlat = ColumnBuffer(MlatReports)
        self._extract: dict[int, tuple[Callable[[Any, float], dict[str, Any]], ColumnBuffer]] = {
            48: (self._cat048, self._plots),
            34: (self._cat034, self._services),
            21: (self._cat021, self._adsb),
            20: (self._cat020, self._mlat),
        }

    # -- public ----------------------------------------------------------------------------
    def feed(self, payload: bytes, t_capture_s: float = _NAN) -> None:
        """Decode one datagram; ``t_capture_s`` (UTC epoch s, NaN if unknown) dates it."""
        st = self.stats
        index = st.datagrams
        st.datagrams += 1
        n = len(payload)
        off = 0
        while off < n:
            if n - off < 3:
                self._fail(index, off, payload[off], "truncated block header", framing=True)
                return
            cat = payload[off]
            length = (payload[off + 1] << 8) | payload[off + 2]
            if length < 3 or off + length > n:
                self._fail(index, off, cat, f"block length {length} at offset {off} "
                           f"does not fit the {n}-byte datagram", framing=True)
                return
            st.blocks += 1
            self._block(index, off, cat, payload[off + 3:off + length], t_capture_s)
            off += length

    def take(self) -> AsterixBatch:
        """Reports decoded since the last call (buffers are emptied)."""
        return AsterixBatch(self._plots.build(), self._services.build(), self._adsb.build(),
                            self._mlat.build())

    # -- internals -------------------------------------------------------------------------
    def _fail(self, index: int, off: int, cat: int, msg: str, *, framing: bool) -> None:
        if framing:
            self.stats.bad_framing += 1
        else:
            self.stats.rejected_blocks += 1
        self.stats.report(BlockError(index, off, cat, msg))

    def _block(self, index: int, off: int, cat: int, body: bytes, t_cap: float) -> None:
        st = self.stats
        spec = EDITIONS.get(cat)
        if spec is None:
            st.unknown_category[cat] = st.unknown_category.get(cat, 0) + 1
            return
        try:
            records = spec.cv_uap.parse(Bits.from_bytes(body))
        except Exception as exc:  # libasterix raises assorted errors on garbage
            records = ValueError(f"{type(exc).__name__}: {exc}")
        if isinstance(records, ValueError):
            self._fail(index, off, cat, f"CAT{cat:03d} block rejected: {records}", framing=False)
            return
        extract, buf = self._extract[cat]
        for rec in records:
            try:
                if self._dedup and self._seen(cat, rec):
                    st.duplicates += 1
                    continue
                row = extract(rec, t_cap)
            except Exception as exc:  # _BadRecordError, or libasterix on odd content
                st.bad_records += 1
                st.report(BlockError(index, off, cat, f"bad CAT{cat:03d} record: {exc}"))
                continue
            buf.append(row)
            st.records[cat] = st.records.get(cat, 0) + 1

    def _seen(self, cat: int, rec: Any) -> bool:
        key = bytes((cat,)) + bytes(rec.unparse().to_bytes())
        if key in self._recent:
            self._recent.move_to_end(key)
            return True
        self._recent[key] = None
        if len(self._recent) > self._dedup_capacity:
            self._recent.popitem(last=False)
        return False

    def _cat048(self, rec: Any, t_cap: float) -> dict[str, Any]:
        sac, sic = _sac_sic(rec)
        tod = _tod(_u(rec, "140"))
        pos = _u(rec, "040")  # absent in e.g. "no detection" end-of-track records
        i020 = _raw(rec, "020")
        i070 = _u(rec, "070")
        i090 = _u(rec, "090")
        i220 = _u(rec, "220")
        i240 = _u(rec, "240")
        i161 = _u(rec, "161")
        return {
            "t_s": self.clock.resolve(tod, t_cap), "tod_s": tod, "sac": sac, "sic": sic,
            "slant_range_m": _NAN if pos is None else (pos >> 16) / 256.0 * NM_TO_M,
            "azimuth_deg": _NAN if pos is None else (pos & 0xFFFF) * (360.0 / 65536.0),
            "detection_type": i020[0] >> 5 if i020 else -1,
            "mode3a": -1 if i070 is None else i070 & 0xFFF,
            "mode3a_ok": i070 is not None and not i070 & 0xC000,
            "fl": _NAN if i090 is None else _signed(i090 & 0x3FFF, 14) / 4.0,
            "fl_ok": i090 is not None and not i090 & 0xC000,
            "icao24": -1 if i220 is None else i220,
            "callsign": b"" if i240 is None else _chars(i240),
            "track_number": -1 if i161 is None else i161 & 0xFFF,
        }

    def _cat034(self, rec: Any, t_cap: float) -> dict[str, Any]:
        sac, sic = _sac_sic(rec)
        tod = _tod(_u(rec, "030"))
        msg = _u(rec, "000")
        sector = _u(rec, "020")
        period = _u(rec, "041")
        com = None
        i050 = rec.get_item("050")
        if i050 is not None:
            c = i050.variation.get_item("COM")
            com = None if c is None else int(c.as_uint())
        return {
            "t_s": self.clock.resolve(tod, t_cap), "tod_s": tod, "sac": sac, "sic": sic,
            "msg_type": -1 if msg is None else msg,
            "sector_deg": _NAN if sector is None else sector * (360.0 / 256.0),
            "rotation_period_s": _NAN if period is None else period * _TOD_LSB,
            "nogo": -1 if com is None else com >> 7 & 1,
            "overload": -1 if com is None else int(bool(com & 0x18)),
            "time_source_invalid": -1 if com is None else com >> 1 & 1,
        }

    def _cat021(self, rec: Any, t_cap: float) -> dict[str, Any]:
        sac, sic = _sac_sic(rec)
        tv = _u(rec, "071")
        for alt in ("073", "077"):
            tv = _u(rec, alt) if tv is None else tv
        tod = _tod(tv)
        hi, lo = _u(rec, "131"), _u(rec, "130")
        if hi is not None:
            lat = _signed(hi >> 32, 32) * (180.0 / 2**30)
            lon = _signed(hi & 0xFFFFFFFF, 32) * (180.0 / 2**30)
        elif lo is not None:
            lat = _signed(lo >> 24, 24) * (180.0 / 2**23)
            lon = _signed(lo & 0xFFFFFF, 24) * (180.0 / 2**23)
        else:
            raise _BadRecordError("no I021/130 or /131 position")
        i040 = _raw(rec, "040")
        i080, i170, i145 = _u(rec, "080"), _u(rec, "170"), _u(rec, "145")
        i090 = _raw(rec, "090")
        return {
            "t_s": self.clock.resolve(tod, t_cap), "tod_s": tod, "sac": sac, "sic": sic,
            "lat_deg": lat, "lon_deg": lon,
            "icao24": -1 if i080 is None else i080,
            "address_type": i040[0] >> 5 if i040 else -1,
            "callsign": b"" if i170 is None else _chars(i170),
            "fl": _NAN if i145 is None else _signed(i145, 16) / 4.0,
            "nacp": (i090[1] >> 1) & 0xF if i090 and len(i090) >= 2 else -1,
        }

    def _cat020(self, rec: Any, t_cap: float) -> dict[str, Any]:
        sac, sic = _sac_sic(rec)
        tod = _tod(_u(rec, "140"))
        wgs, cart = _u(rec, "041"), _u(rec, "042")
        if wgs is None and cart is None:
            raise _BadRecordError("no I020/041 or /042 position")
        i220, i245, i090, i161 = _u(rec, "220"), _u(rec, "245"), _u(rec, "090"), _u(rec, "161")
        return {
            "t_s": self.clock.resolve(tod, t_cap), "tod_s": tod, "sac": sac, "sic": sic,
            "lat_deg": _NAN if wgs is None else _signed(wgs >> 32, 32) * (180.0 / 2**25),
            "lon_deg": _NAN if wgs is None else _signed(wgs & 0xFFFFFFFF, 32) * (180.0 / 2**25),
            "x_m": _NAN if cart is None else _signed(cart >> 24, 24) * 0.5,
            "y_m": _NAN if cart is None else _signed(cart & 0xFFFFFF, 24) * 0.5,
            "icao24": -1 if i220 is None else i220,
            "callsign": b"" if i245 is None else _chars(i245),
            "fl": _NAN if i090 is None else _signed(i090 & 0x3FFF, 14) / 4.0,
            "track_number": -1 if i161 is None else i161 & 0xFFF,
        }


def decode_datagrams(
    datagrams: Iterable[tuple[float, bytes]],
    decoder: AsterixDecoder | None = None,
) -> AsterixBatch:
    """Decode ``(t_capture_s, payload)`` pairs in one go (see :class:`AsterixDecoder`)."""
    dec = decoder if decoder is not None else AsterixDecoder()
    for t_s, payload in datagrams:
        dec.feed(payload, t_s)
    return dec.take()


def _json_value(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


_KINDS: tuple[tuple[str, str], ...] = (
    ("plots", "CAT048"), ("services", "CAT034"), ("adsb", "CAT021"), ("mlat", "CAT020"),
)


def iter_json_records(
    datagrams: Iterable[tuple[float, bytes]],
    decoder: AsterixDecoder | None = None,
    *,
    errors: bool = False,
) -> Iterator[dict[str, Any]]:
    """JSON-able objects for ``skyfuse decode``: one per decoded record, in datagram order.

    Each has ``t_s``, ``source: "asterix"``, ``kind`` (``"CAT048"`` ...) and the record's
    columns (absent values as ``null``; ``icao24`` as 6 lowercase hex digits, ``mode3a`` as
    4 octal digits). With ``errors=True``, each problem also yields
    ``{"error": ..., "offset": N, "datagram": I, "category": C}`` (``offset`` in bytes within
    the datagram). ``decoder.stats`` holds the final counts.
    """
    dec = decoder if decoder is not None else AsterixDecoder()
    n_err = dec.stats.errors_total
    for t_cap, payload in datagrams:
        dec.feed(payload, t_cap)
        batch = dec.take()
        for attr, kind in _KINDS:
            cols = getattr(batch, attr)
            names = type(cols).DTYPES
            for i in range(len(cols)):
                rec = {"t_s": float(cols.t_s[i]), "source": "asterix", "kind": kind}
                for name in names:
                    if name != "t_s":
                        rec[name] = _json_value(getattr(cols, name)[i])
                if "icao24" in rec:
                    rec["icao24"] = None if rec["icao24"] < 0 else f"{rec['icao24']:06x}"
                if "mode3a" in rec:
                    rec["mode3a"] = None if rec["mode3a"] < 0 else f"{rec['mode3a']:04o}"
                yield rec
        new = min(dec.stats.errors_total - n_err, len(dec.stats.errors))
        n_err = dec.stats.errors_total
        if errors and new > 0:
            for e in list(dec.stats.errors)[-new:]:
                yield {"error": e.message, "offset": e.offset, "datagram": e.datagram,
                       "category": e.category}
