"""SBS BaseStation CSV (dump1090 port 30003), streaming and garbage-proof.

One message per line, 22 comma-separated fields (BaseStation's "MSG" lines)::

    0 MSG   1 transmission type 1-8   2 session  3 aircraft  4 hex ident  5 flight
    6 date generated  7 time generated  8 date logged  9 time logged
    10 callsign  11 altitude ft  12 ground speed kt  13 track deg  14 lat  15 lon
    16 vertical rate ft/min  17 squawk  18 alert  19 emergency  20 SPI  21 on ground

Dates are ``YYYY/MM/DD`` and times ``HH:MM:SS.fff``, read as UTC (readsb writes UTC;
dump1090-mutability writes the host's local time: run it with TZ=UTC). Other line types
(SEL, ID, AIR, STA, CLK) are framed and skipped. Fields that are empty are absent (NaN,
-1, b""). A line that is not a valid message is a bad frame; parsing restarts at the next
line, so junk never costs the valid line after it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skyfuse.ingest.frames import ParserCounters

__all__ = ["SbsBatch", "SbsParser"]

_OTHER = {b"SEL", b"ID", b"AIR", b"STA", b"CLK"}
_MAX_LINE = 512


@dataclass(frozen=True, slots=True)
class SbsBatch:
    """SBS MSG lines as arrays (absent: NaN for floats, -1 for integers, b"" callsign).

    Columns: ``t_s`` (UTC epoch s), ``msg_type`` (1-8), ``icao24``, ``callsign`` (S8),
    ``alt_ft``, ``gs_kt``, ``track_deg``, ``lat_deg``, ``lon_deg``, ``vrate_fpm``,
    ``squawk`` (Mode A code as an integer of its octal digits), ``on_ground`` (-1/0/1),
    ``offset`` (stream byte offset of the line).
    """

    t_s: NDArray[np.float64]
    msg_type: NDArray[np.int8]
    icao24: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    alt_ft: NDArray[np.float64]
    gs_kt: NDArray[np.float64]
    track_deg: NDArray[np.float64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    vrate_fpm: NDArray[np.float64]
    squawk: NDArray[np.int16]
    on_ground: NDArray[np.int8]
    offset: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.t_s)


def _num(s: bytes) -> float:
    return float(s) if s else np.nan


class SbsParser:
    """Feed SBS text bytes in chunks of any size; get :class:`SbsBatch` es back."""

    format_name = "sbs"

    def __init__(self, keep_errors: bool = False) -> None:
        self.counters = ParserCounters(keep_errors=keep_errors)
        self._buf = b""
        self._base = 0
        self._days: dict[bytes, float] = {}

    def _day_s(self, date: bytes) -> float:
        d = self._days.get(date)
        if d is None:
            y, m, dd = (int(x) for x in date.split(b"/"))
            if not (1970 <= y <= 9999 and 1 <= m <= 12 and 1 <= dd <= 31):
                raise ValueError("bad date")
            d = float(calendar.timegm((y, m, dd, 0, 0, 0)))
            if len(self._days) > 64:
                self._days.clear()
            self._days[date] = d
        return d

    def _time_s(self, date: bytes, time: bytes) -> float:
        hh, mm, ss = time.split(b":")
        h, mi, s = int(hh), int(mm), float(ss)
        if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 61):
            raise ValueError("bad time")
        return self._day_s(date) + h * 3600 + mi * 60 + s

    def feed(self, chunk: bytes) -> SbsBatch:
        """Parse every complete line of ``self._buf + chunk``; keep the tail."""
        c = self.counters
        c.bytes_in += len(chunk)
        buf = self._buf + chunk if self._buf else bytes(chunk)
        rows: list[tuple[float, int, int, bytes, float, float, float, float, float, float,
                         int, int, int]] = []
        pos = 0
        base = self._base
        while True:
            e = buf.find(b"\n", pos)
            if e < 0:
                break
            line = buf[pos:e].strip()
            off = base + pos
            pos = e + 1
            if not line:
                continue
            f = line.split(b",")
            if f[0] in _OTHER:
                continue
            if f[0] != b"MSG" or len(f) < 22:
                c.bad(off, "not an SBS MSG line")
                continue
            try:
                mt = int(f[1])
                if not 1 <= mt <= 8:
                    raise ValueError("transmission type")
                icao = int(f[4], 16)
                if not 0 <= icao < 1 << 24 or len(f[4].strip()) > 6:
                    raise ValueError("hex ident")
                t = self._time_s(f[6], f[7])
                sq = int(f[17], 8) if f[17].strip() else -1
                if sq > 0o7777:
                    raise ValueError("squawk")
                gnd = f[21].strip()
                on_ground = -1 if not gnd else (1 if gnd in (b"-1", b"1") else 0)
                call = f[10].strip()[:8]
                call.decode("ascii")
                row = (t, mt, icao, call, _num(f[11]), _num(f[12]), _num(f[13]),
                       _num(f[14]), _num(f[15]), _num(f[16]), sq, on_ground, off)
            except (ValueError, UnicodeDecodeError, OverflowError):
                c.bad(off, "bad SBS field")
                continue
            rows.append(row)
        tail = buf[pos:]
        if len(tail) > _MAX_LINE:
            c.bad(base + pos, "line too long")
            pos = len(buf)
            tail = b""
        self._buf = tail
        self._base = base + pos
        c.frames += len(rows)
        return _batch(rows)

    def flush(self) -> SbsBatch:
        """End of data: parse a last line without its newline."""
        if self._buf.strip():
            return self.feed(b"\n")
        self._base += len(self._buf)
        self._buf = b""
        return _batch([])


def _batch(rows: list[tuple[float, int, int, bytes, float, float, float, float, float, float,
                            int, int, int]]) -> SbsBatch:
    cols = list(zip(*rows, strict=True)) if rows else [()] * 13
    return SbsBatch(
        t_s=np.asarray(cols[0], np.float64), msg_type=np.asarray(cols[1], np.int8),
        icao24=np.asarray(cols[2], np.int32), callsign=np.asarray(cols[3], "S8"),
        alt_ft=np.asarray(cols[4], np.float64), gs_kt=np.asarray(cols[5], np.float64),
        track_deg=np.asarray(cols[6], np.float64), lat_deg=np.asarray(cols[7], np.float64),
        lon_deg=np.asarray(cols[8], np.float64), vrate_fpm=np.asarray(cols[9], np.float64),
        squawk=np.asarray(cols[10], np.int16), on_ground=np.asarray(cols[11], np.int8),
        offset=np.asarray(cols[12], np.int64),
    )
