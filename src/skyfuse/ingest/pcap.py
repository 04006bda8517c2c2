"""UDP datagrams out of pcap / pcapng captures, in pure Python (``struct``), never raising.

What is read (all offsets in bytes; "LE/BE" is the file's byte order, network order is BE):

pcap (libpcap), magic ``a1b2c3d4`` (µs) or ``a1b23c4d`` (ns) in either byte order:

| where          | field                                                      |
|----------------|------------------------------------------------------------|
| global 0..24   | magic, version 2.4, thiszone, sigfigs, snaplen, linktype   |
| record 0..16   | ts_sec, ts_frac (µs or ns), incl_len, orig_len             |
| record 16..    | ``incl_len`` bytes of the frame                            |

pcapng: blocks ``type u32, total_len u32, body, total_len u32``; SHB ``0x0a0d0d0a`` (its
byte-order magic ``1a2b3c4d`` sets the order of the section), IDB (type 1: linktype u16,
reserved u16, snaplen u32, options; ``if_tsresol`` option 9), EPB (type 6: interface u32,
ts_high u32, ts_low u32, caplen u32, origlen u32, data), SPB (type 3: origlen u32, data; no
timestamp, NaN). Other blocks are skipped.

Link layers: Ethernet (1) with any number of 802.1Q / 802.1ad tags (``8100``/``88a8``),
raw IPv4 (101, 228, 12) and Linux cooked capture SLL (113; protocol at offset 14).

IPv4 (RFC 791): version/IHL, total length (frame padding after it is ignored), flags and
fragment offset (fragments are counted and skipped: ASTERIX fits one datagram), protocol 17.
UDP (RFC 768): ports and length: **the payload is cut at the UDP length**, because short
Ethernet frames carry padding after it (which would parse as a bogus ASTERIX block).

Malformed input is counted in :class:`PcapStats` and skipped; nothing raises on garbage. A
truncated file ends the iteration after the last complete record.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = ["PcapStats", "UdpDatagram", "iter_udp", "read_udp_file"]

_LINK_ETHERNET = 1
_LINK_RAW_IPV4 = (101, 228, 12)
_LINK_SLL = 113
_ETH_VLAN = (0x8100, 0x88A8, 0x9100)
_ETH_IPV4 = 0x0800
_PCAPNG_SHB = 0x0A0D0D0A
_MAX_BLOCK = 1 << 26  # 64 MiB: larger lengths are treated as corruption


class UdpDatagram(NamedTuple):
    """One UDP datagram from a capture: time (UTC epoch s, NaN if unknown), ends, payload."""

    t_s: float
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    payload: bytes


@dataclass(slots=True)
class PcapStats:
    """Counters of one read; every skipped record is counted in exactly one ``bad_*`` or
    ``skipped_*`` field."""

    records: int = 0
    """Capture records (frames) seen."""
    datagrams: int = 0
    """UDP datagrams yielded."""
    padded: int = 0
    """Datagrams whose frame carried bytes after the UDP payload (cut off)."""
    skipped_not_udp: int = 0
    """Well-formed frames that are not IPv4/UDP (ARP, IPv6, TCP, IGMP ...)."""
    skipped_fragment: int = 0
    """IPv4 fragments (not reassembled)."""
    bad_frame: int = 0
    """Frames too short or inconsistent for their headers (truncated, bad lengths)."""
    bad_file: int = 0
    """1 when the file header is not pcap/pcapng, or a block or record header is corrupt
    (the read stops there)."""
    truncated_tail: int = 0
    """1 when the file ends inside a record."""
    linktypes: dict[int, int] = field(default_factory=dict)
    """Frames per unsupported link type."""

    @property
    def bad(self) -> int:
        """All input counted as bad."""
        return self.bad_frame + self.bad_file + self.truncated_tail


def _ip(b: bytes, off: int) -> str:
    return f"{b[off]}.{b[off + 1]}.{b[off + 2]}.{b[off + 3]}"


def _frame_to_udp(
    frame: bytes, linktype: int, t_s: float, stats: PcapStats
) -> UdpDatagram | None:
    """Decode one captured frame; count and return None unless it is a whole UDP datagram."""
    n = len(frame)
    if linktype == _LINK_ETHERNET:
        if n < 14:
            stats.bad_frame += 1
            return None
        off = 12
        (etype,) = struct.unpack_from(">H", frame, off)
        off += 2
        while etype in _ETH_VLAN:
            if n < off + 4:
                stats.bad_frame += 1
                return None
            (etype,) = struct.unpack_from(">H", frame, off + 2)
            off += 4
        if etype != _ETH_IPV4:
            stats.skipped_not_udp += 1
            return None
    elif linktype == _LINK_SLL:
        if n < 16:
            stats.bad_frame += 1
            return None
        (etype,) = struct.unpack_from(">H", frame, 14)
        off = 16
        if etype != _ETH_IPV4:
            stats.skipped_not_udp += 1
            return None
    elif linktype in _LINK_RAW_IPV4:
        off = 0
    else:
        stats.linktypes[linktype] = stats.linktypes.get(linktype, 0) + 1
        stats.skipped_not_udp += 1
        return None
    # IPv4 header
    if n < off + 20:
        stats.bad_frame += 1
        return None
    vihl = frame[off]
    if vihl >> 4 != 4:
        stats.skipped_not_udp += 1
        return None
    ihl = (vihl & 0x0F) * 4
    total_len, frag, proto = (
        struct.unpack_from(">H", frame, off + 2)[0],
        struct.unpack_from(">H", frame, off + 6)[0],
        frame[off + 9],
    )
    if ihl < 20 or total_len < ihl or n < off + ihl:
        stats.bad_frame += 1
        return None
    if proto != 17:
        stats.skipped_not_udp += 1
        return None
    if frag & 0x3FFF:  # MF flag or a fragment offset
        stats.skipped_fragment += 1
        return None
    ip_end = off + total_len
    if ip_end > n:
        stats.bad_frame += 1
        return None
    u = off + ihl
    if ip_end < u + 8:
        stats.bad_frame += 1
        return None
    sport, dport, ulen = struct.unpack_from(">HHH", frame, u)
    if ulen < 8 or u + ulen > ip_end:
        stats.bad_frame += 1
        return None
    if u + ulen < n:
        stats.padded += 1
    stats.datagrams += 1
    return UdpDatagram(t_s, _ip(frame, off + 12), sport, _ip(frame, off + 16), dport,
                       bytes(frame[u + 8:u + ulen]))


def _iter_pcap(data: bytes, stats: PcapStats) -> Iterator[UdpDatagram]:
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:  # pragma: no cover - guarded by the caller
        stats.bad_file += 1
        return
    frac = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    if len(data) < 24:
        stats.bad_file += 1
        return
    (linktype,) = struct.unpack_from(endian + "I", data, 20)
    linktype &= 0x0FFFFFFF  # upper bits: FCS length flags
    hdr = struct.Struct(endian + "IIII")
    off = 24
    n = len(data)
    while off < n:
        if off + 16 > n:
            stats.truncated_tail += 1
            return
        sec, sub, incl, _orig = hdr.unpack_from(data, off)
        off += 16
        if incl > _MAX_BLOCK:
            stats.bad_file += 1
            return
        if off + incl > n:
            stats.truncated_tail += 1
            return
        stats.records += 1
        d = _frame_to_udp(data[off:off + incl], linktype, sec + sub * frac, stats)
        off += incl
        if d is not None:
            yield d


def _iter_pcapng(data: bytes, stats: PcapStats) -> Iterator[UdpDatagram]:
    n = len(data)
    off = 0
    endian = "<"
    ifaces: list[tuple[int, float]] = []  # (linktype, seconds per timestamp unit)
    while off < n:
        if off + 12 > n:
            stats.truncated_tail += 1
            return
        if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":
            bom = data[off + 8:off + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                stats.bad_file += 1
                return
            ifaces = []
        btype, blen = struct.unpack_from(endian + "II", data, off)
        if blen < 12 or blen % 4 or blen > _MAX_BLOCK:
            stats.bad_file += 1
            return
        if off + blen > n:
            stats.truncated_tail += 1
            return
        body = data[off + 8:off + blen - 4]
        off += blen
        if btype == 1:  # Interface Description Block
            if len(body) < 8:
                stats.bad_file += 1
                return
            linktype = struct.unpack_from(endian + "H", body, 0)[0]
            ifaces.append((linktype, _tsresol(body[8:], endian)))
        elif btype in (6, 3):
            stats.records += 1
            if btype == 6:
                if len(body) < 20:
                    stats.bad_frame += 1
                    continue
                iface, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", body, 0)
                frame = body[20:20 + caplen]
                if iface >= len(ifaces) or len(frame) < caplen:
                    stats.bad_frame += 1
                    continue
                linktype, res = ifaces[iface]
                t_s = ((hi << 32) | lo) * res
            else:
                if len(body) < 4 or not ifaces:
                    stats.bad_frame += 1
                    continue
                linktype, t_s = ifaces[0][0], float("nan")
                (orig,) = struct.unpack_from(endian + "I", body, 0)
                frame = body[4:4 + orig]
            d = _frame_to_udp(frame, linktype, t_s, stats)
            if d is not None:
                yield d


def _tsresol(options: bytes, endian: str) -> float:
    """Seconds per timestamp unit from IDB options (``if_tsresol``, code 9); default 1 µs."""
    off = 0
    while off + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, off)
        if code == 0:
            break
        if code == 9 and length >= 1 and off + 5 <= len(options):
            v = options[off + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -(v & 0x7F)
        off += 4 + ((length + 3) & ~3)
    return 1e-6


def iter_udp(data: bytes, stats: PcapStats | None = None) -> Iterator[UdpDatagram]:
    """UDP datagrams of a whole pcap or pcapng capture held in memory, in file order.

    ``stats`` (optional) is updated in place as the iteration proceeds. Never raises on
    malformed input: bad records are counted and skipped, a corrupt header stops the read.
    """
    st = stats if stats is not None else PcapStats()
    data = bytes(data)
    head = data[:4]
    try:
        if head == b"\x0a\x0d\x0d\x0a":
            yield from _iter_pcapng(data, st)
        elif head in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                      b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            yield from _iter_pcap(data, st)
        else:
            st.bad_file += 1
    except (struct.error, IndexError, ValueError):  # defensive: lengths are checked above
        st.bad_file += 1


def read_udp_file(path: str | Path, stats: PcapStats | None = None) -> list[UdpDatagram]:
    """All UDP datagrams of a pcap/pcapng file (see :func:`iter_udp`)."""
    return list(iter_udp(Path(path).read_bytes(), stats))
