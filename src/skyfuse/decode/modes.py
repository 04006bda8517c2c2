"""Mode S / ADS-B decoding with rs1090, streaming, into a struct of arrays.

rs1090 (pinned 0.7.0) decodes each frame; this module adds what needs state across frames:
deduplication of a frame heard by several receivers, the address check of replies whose
parity is overlaid with the address, validated CPR positions (:mod:`.positions`) and the
aircraft's latest identity (callsign, NACp) carried onto its positions.

Fields read from rs1090's records (``rs1090.Message``), by downlink format (DF):

| DF        | field(s) used                               | DecodedBatch column        |
|-----------|---------------------------------------------|----------------------------|
| all       | ``icao24`` (address; AP overlay for 0-21)   | icao24                     |
| 0,4,16,20 | ``altitude`` (ft, Mode C / Mode S baro)      | alt_ft                     |
| 5,21      | ``squawk`` (4 octal digits)                 | mode3a                     |
| 17,18     | ``tc``                                      | tc                         |
| 17,18     | BDS 0,5 ``altitude`` (TC 9-18 baro), ``NUCp`` | alt_ft, nacp             |
| 17,18     | BDS 0,5/0,6 ``lat_cpr lon_cpr parity``      | lat_deg, lon_deg (CPR)     |
| 17,18     | BDS 0,6 / 0,9 ``groundspeed track``         | gs_kt, track_deg           |
| 17,18     | BDS 0,9 ``vertical_rate``                   | vrate_fpm                  |
| 17,18     | BDS 0,8 ``callsign``                        | callsign (kept per aircraft) |
| 17,18     | BDS 6,2 / 6,5 ``NACp``                      | nacp (kept per aircraft)   |

Raw bits read here, not by rs1090: DF = byte 0 bits 7-3; DF18 CF = byte 0 bits 2-0 (the
address type: 0 ICAO, 1 non-ICAO, 2/3/5 TIS-B, 6 ADS-R).

CRC: rs1090 returns ``None`` for a DF17/18 frame whose parity fails (counted as a CRC
failure). Replies with address/parity overlay (DF0/4/5/16/20/21) are accepted only for an
address already seen in a CRC-checked DF17/18 frame (as dump1090 does): ``crc_ok`` False
otherwise. Times are whatever the caller gives (UTC or relative seconds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import rs1090
from numpy.typing import NDArray

from skyfuse.decode.positions import PositionConfig, PositionTable
from skyfuse.measure.batch import AddressType

__all__ = ["NUCP_TO_NACP", "DecodedBatch", "DecoderCounters", "ModeSDecoder"]

# ADS-B version 0 reports NUCp only; its HFOM bound is close to the NACp of the same
# number for NUCp 9..5 (3 m .. 0.5 NM).
NUCP_TO_NACP = {9: 11, 8: 10, 7: 8, 6: 7, 5: 5, 4: 4, 3: 3, 2: 2, 1: 1, 0: 0}
_REPLY_DF = frozenset((0, 4, 5, 11, 16, 20, 21))
"""Downlink formats of replies to interrogations (equal ones from one feed can be genuine)."""
_CF_TYPE = (AddressType.ICAO, AddressType.NON_ICAO, AddressType.TISB, AddressType.TISB,
            AddressType.NON_ICAO, AddressType.TISB, AddressType.ICAO, AddressType.NON_ICAO)


@dataclass(slots=True)
class DecoderCounters:
    """Running totals of one decoder."""

    frames: int = 0
    mode_ac: int = 0
    duplicates: int = 0
    crc_failures: int = 0
    unknown_address: int = 0
    decoded: int = 0
    positions: int = 0


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    """Decoded frames, one row each (absent: NaN, -1, b"").

    Columns: ``t_s``, ``sensor`` (feed that heard it first), ``receivers`` (bitmask, bit
    ``sensor % 64``, of the feeds that sent the same frame within the dedup window; a copy
    arriving in a later :meth:`ModeSDecoder.decode` call sets its bit in this array in
    place), ``df``, ``icao24``,
    ``addr_type`` (:class:`AddressType`), ``crc_ok``, ``tc`` (DF17/18 type code),
    ``alt_ft`` (barometric), ``mode3a``, ``callsign`` (the aircraft's latest, S8),
    ``lat_deg``/``lon_deg`` (validated positions only), ``surface``, ``nacp`` (the
    aircraft's latest NACp, or from NUCp), ``gs_kt``, ``track_deg``, ``vrate_fpm``,
    ``frame`` (the frame bytes), ``messages`` (rs1090's record per row, for display;
    empty when the decoder does not keep them) and ``src_index`` (row of the input).
    """

    t_s: NDArray[np.float64]
    sensor: NDArray[np.int32]
    receivers: NDArray[np.uint64]
    df: NDArray[np.int8]
    icao24: NDArray[np.int32]
    addr_type: NDArray[np.int8]
    crc_ok: NDArray[np.bool_]
    tc: NDArray[np.int8]
    alt_ft: NDArray[np.float64]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    surface: NDArray[np.bool_]
    nacp: NDArray[np.int8]
    gs_kt: NDArray[np.float64]
    track_deg: NDArray[np.float64]
    vrate_fpm: NDArray[np.float64]
    frame: list[bytes]
    messages: list[rs1090.Message | None]
    src_index: NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.t_s)


def _rs1090_decode(hexes: list[str]) -> list[rs1090.Message | None]:
    """rs1090 batch decode; on a Rust panic, fall back to frame by frame."""
    try:
        return rs1090.decode(hexes)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyo3 PanicException derives from BaseException
        out: list[rs1090.Message | None] = []
        for h in hexes:
            try:
                out.append(rs1090.decode(h))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:
                out.append(None)
        return out


class ModeSDecoder:
    """Streaming Mode S decoder; one per pipeline, fed frames from every feed.

    ``decode(t_s, frames, sensor)`` takes equal-length times (seconds), frame bytes and
    feed ids, and returns a :class:`DecodedBatch` of the frames kept (Mode A/C and
    duplicates dropped). Feed frames in time order (across feeds too: positions are
    validated per aircraft in the order given).

    Deduplication: a frame equal to one kept less than ``dedup_window_s`` before is
    a *duplicate* (dropped, counted, its feed's bit set in the kept copy's ``receivers``)
    when it comes from another feed (one transmission heard by several receivers), or
    from the same feed at the same time (a merged recording), or when it is an extended
    squitter (DF17/18, or any other non-reply): a squitter's content changes from one
    transmission to the next (CPR, parity) and the same type is sent at most every
    0.4 s, so an equal one within the window is one transmission seen twice. From the
    same feed at a later time, an equal *reply* (DF0/4/5/11/16/20/21) is kept: it
    answers another interrogation (ACAS, another radar) and is a genuine repeat.
    """

    def __init__(self, receiver: tuple[float, float] | None = None,
                 dedup_window_s: float = 0.2, keep_messages: bool = False,
                 positions: PositionConfig | None = None) -> None:
        cfg = positions or PositionConfig()
        if receiver is not None:
            cfg = PositionConfig(**{**{f: getattr(cfg, f) for f in cfg.__slots__},
                                    "receiver": receiver})
        self.positions = PositionTable(cfg)
        self.counters = DecoderCounters()
        self.dedup_window_s = dedup_window_s
        self.keep_messages = keep_messages
        self._recent: dict[bytes, tuple[float, list[list[int] | NDArray], int]] = {}
        self._recent_t = -math.inf
        self._known: set[int] = set()
        self._callsign: dict[int, bytes] = {}
        self._nacp: dict[int, int] = {}
        self._squawk: dict[int, int] = {}

    def _dedup(self, t_s: NDArray[np.float64], frames: list[bytes],
               sensor: NDArray[np.int32]) -> tuple[list[int], list[list[int] | NDArray]]:
        """Rows to keep and a one-element holder of their receiver masks (a list now,
        the batch's ``receivers`` array once built, so later copies can set their bit)."""
        keep: list[int] = []
        heard: list[int] = []
        holder: list[list[int] | NDArray] = [heard]
        recent = self._recent
        win = self.dedup_window_s
        c = self.counters
        for i, (t, f) in enumerate(zip(t_s.tolist(), frames, strict=True)):
            n = len(f)
            if n == 2:
                c.mode_ac += 1
                continue
            if n != 7 and n != 14:
                continue
            bit = 1 << (int(sensor[i]) & 63)
            prev = recent.get(f)
            if prev is not None and abs(t - prev[0]) <= win:
                masks, k = prev[1][0], prev[2]
                mask = int(masks[k])
                if not mask & bit or t == prev[0] or (f[0] >> 3) not in _REPLY_DF:
                    c.duplicates += 1
                    masks[k] = mask | bit
                    continue
            recent[f] = (t, holder, len(keep))
            keep.append(i)
            heard.append(bit)
            if t - self._recent_t > 10 * win or len(recent) > 200_000:
                self._recent = recent = {k: v for k, v in recent.items() if t - v[0] <= win}
                self._recent_t = t
        return keep, holder

    def decode(self, t_s: NDArray[np.float64], frames: list[bytes],
               sensor: NDArray[np.int32] | int = 0) -> DecodedBatch:
        """Decode one batch of frames; see the class docstring."""
        t_s = np.asarray(t_s, np.float64)
        sens = np.broadcast_to(np.asarray(sensor, np.int32), t_s.shape)
        self.counters.frames += len(frames)
        keep, holder = self._dedup(t_s, frames, sens)
        receivers = np.asarray(holder[0], np.uint64)
        holder[0] = receivers
        kept = [frames[i] for i in keep]
        msgs = _rs1090_decode([f.hex() for f in kept]) if kept else []
        m = len(kept)
        tt = t_s[keep] if m else np.empty(0)
        df = np.full(m, -1, np.int8)
        icao = np.full(m, -1, np.int32)
        atype = np.zeros(m, np.int8)
        crc = np.zeros(m, np.bool_)
        tc = np.full(m, -1, np.int8)
        alt = np.full(m, np.nan)
        m3a = np.full(m, -1, np.int16)
        call: list[bytes] = [b""] * m
        lat = np.full(m, np.nan)
        lon = np.full(m, np.nan)
        surf = np.zeros(m, np.bool_)
        nacp = np.full(m, -1, np.int8)
        gs = np.full(m, np.nan)
        trk = np.full(m, np.nan)
        vr = np.full(m, np.nan)
        c = self.counters
        known = self._known
        calls = self._callsign
        nacps = self._nacp
        squawks = self._squawk
        ptab = self.positions
        tlist = tt.tolist()
        for k, msg in enumerate(msgs):
            d = kept[k][0] >> 3
            df[k] = min(d, 24)
            if msg is None:
                c.crc_failures += 1
                continue
            addr = msg.get("icao24")
            if not isinstance(addr, str):
                c.crc_failures += 1  # no address to check (e.g. DF24): unusable
                continue
            a = int(addr, 16)
            icao[k] = a
            if d == 17 or d == 18:
                crc[k] = True
                cf = kept[k][0] & 7
                at = AddressType.ICAO if d == 17 else _CF_TYPE[cf]
                atype[k] = at
                if at == AddressType.ICAO:
                    known.add(a)
                self._extended(k, a, msg, tlist[k], tc, alt, lat, lon, surf, nacp, gs,
                               trk, vr, calls, nacps, ptab)
                cs = calls.get(a)
                if cs is not None:
                    call[k] = cs
                sq = squawks.get(a)
                if sq is not None:
                    m3a[k] = sq
            elif d == 11:
                atype[k] = AddressType.ICAO
                crc[k] = a in known
            else:
                atype[k] = AddressType.ICAO
                if a not in known:
                    c.unknown_address += 1
                    continue
                crc[k] = True
                if d == 5 or d == 21:
                    sq = msg.get("squawk")
                    if sq is not None:
                        m3a[k] = squawks[a] = int(sq, 8)
                else:
                    al = msg.get("altitude")
                    if al is not None:
                        alt[k] = al
                cs = calls.get(a)
                if cs is not None:
                    call[k] = cs
        c.decoded += int(crc.sum())
        c.positions += int(np.isfinite(lat).sum())
        return DecodedBatch(
            t_s=tt, sensor=sens[keep] if m else np.empty(0, np.int32),
            receivers=receivers, df=df, icao24=icao, addr_type=atype,
            crc_ok=crc, tc=tc, alt_ft=alt, mode3a=m3a, callsign=np.asarray(call, "S8"),
            lat_deg=lat, lon_deg=lon, surface=surf, nacp=nacp, gs_kt=gs, track_deg=trk,
            vrate_fpm=vr, frame=kept,
            messages=list(msgs) if self.keep_messages else [],
            src_index=np.asarray(keep, np.intp),
        )

    @staticmethod
    def _extended(k: int, a: int, msg: rs1090.Message, t: float, tc: NDArray[np.int8],
                  alt: NDArray[np.float64], lat: NDArray[np.float64],
                  lon: NDArray[np.float64], surf: NDArray[np.bool_], nacp: NDArray[np.int8],
                  gs: NDArray[np.float64], trk: NDArray[np.float64],
                  vr: NDArray[np.float64], calls: dict[int, bytes], nacps: dict[int, int],
                  ptab: PositionTable) -> None:
        """Fill row ``k`` from one DF17/18 record."""
        code = msg.get("tc")
        if code is not None:
            tc[k] = code
        bds = msg.get("bds")
        if bds == "05" or bds == "06":
            surface = bds == "06"
            if not surface and code is not None and 9 <= code <= 18:
                al = msg.get("altitude")
                if al is not None:
                    alt[k] = al
            else:
                if surface:
                    _velocity(msg, k, gs, trk)
            n = nacps.get(a)
            if n is None:
                nucp = msg.get("NUCp")
                n = NUCP_TO_NACP.get(nucp, -1) if isinstance(nucp, int) else -1
            nacp[k] = n
            la, lo = msg.get("lat_cpr"), msg.get("lon_cpr")
            if not isinstance(la, int) or not isinstance(lo, int) or not math.isfinite(t):
                return
            pos = ptab.update(a, t, msg.get("parity") == "odd", la, lo, surface)
            if pos is not None:
                lat[k], lon[k] = pos
                surf[k] = surface
        elif bds == "09":
            _velocity(msg, k, gs, trk)
            v = msg.get("vertical_rate")
            if v is not None:
                vr[k] = v
        elif bds == "08":
            cs = msg.get("callsign")
            if cs:
                calls[a] = cs.strip().encode("ascii", "replace")[:8]
        elif bds == "65" or bds == "62":
            n = msg.get("NACp")
            if isinstance(n, int):
                nacps[a] = n


def _velocity(msg: Mapping[str, object], k: int, gs: NDArray[np.float64],
              trk: NDArray[np.float64]) -> None:
    """Ground speed and track angle of a BDS 0,6 or 0,9 message into row ``k``."""
    g, tr = msg.get("groundspeed"), msg.get("track")
    if isinstance(g, (int, float)):
        gs[k] = g
    if isinstance(tr, (int, float)):
        trk[k] = tr
