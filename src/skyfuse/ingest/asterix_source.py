"""ASTERIX datagram sources: raw block files, pcap/pcapng captures, a live UDP listener.

Every source yields :class:`Datagram` ``(t_s, origin, payload)``: ``t_s`` the capture or
arrival time (UTC epoch seconds; NaN for raw files, which carry none), ``origin`` a label
(``"udp:ADDR:PORT"`` of the destination for captures, the sender for the listener,
``"file"`` for raw files), ``payload`` the bytes handed to the decoder.

Raw block files are ASTERIX data blocks back to back (``CAT u8 | LEN u16 | records``), as
written by most recorders' "raw" mode; each block is one datagram. A block header that
cannot be right (``LEN < 3`` or past the end of the file) stops the read, counted in
``RawFileStats.bad_tail_bytes``.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from skyfuse.ingest.pcap import PcapStats, iter_udp

__all__ = [
    "AsterixUdpListener",
    "Datagram",
    "RawFileStats",
    "detect_asterix_file",
    "iter_asterix_file",
    "iter_pcap_datagrams",
    "iter_raw_blocks",
]

_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")


class Datagram(NamedTuple):
    """One ASTERIX datagram with its capture/arrival time and where it came from."""

    t_s: float
    origin: str
    payload: bytes


@dataclass(slots=True)
class RawFileStats:
    """Counters of a raw block file read."""

    blocks: int = 0
    bad_tail_bytes: int = 0
    """Bytes after the last well-formed block header (0 for a clean file)."""


def iter_raw_blocks(data: bytes, stats: RawFileStats | None = None) -> Iterator[Datagram]:
    """Data blocks of a raw ASTERIX byte string, one :class:`Datagram` each (NaN time)."""
    st = stats if stats is not None else RawFileStats()
    n = len(data)
    off = 0
    while off < n:
        if n - off < 3:
            break
        length = (data[off + 1] << 8) | data[off + 2]
        if length < 3 or off + length > n:
            break
        st.blocks += 1
        yield Datagram(math.nan, "file", bytes(data[off:off + length]))
        off += length
    st.bad_tail_bytes += n - off


def iter_pcap_datagrams(
    data: bytes, stats: PcapStats | None = None, ports: frozenset[int] | None = None
) -> Iterator[Datagram]:
    """UDP payloads of a pcap/pcapng capture (optionally only to ``ports``)."""
    for d in iter_udp(data, stats):
        if ports is None or d.dst_port in ports:
            yield Datagram(d.t_s, f"udp:{d.dst_ip}:{d.dst_port}", d.payload)


def detect_asterix_file(head: bytes) -> str:
    """``"pcap"`` when ``head`` starts like a pcap/pcapng file, else ``"raw"``."""
    return "pcap" if head[:4] in _PCAP_MAGICS else "raw"


def iter_asterix_file(
    path: str | Path, stats: PcapStats | RawFileStats | None = None
) -> Iterator[Datagram]:
    """Datagrams of an ASTERIX recording: pcap/pcapng or raw blocks, detected by content.

    ``stats`` must match the detected kind when given (:class:`PcapStats` for captures).
    """
    data = Path(path).read_bytes()
    if detect_asterix_file(data) == "pcap":
        yield from iter_pcap_datagrams(data, stats if isinstance(stats, PcapStats) else None)
    else:
        yield from iter_raw_blocks(data, stats if isinstance(stats, RawFileStats) else None)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[Datagram], clock: Callable[[], float],
                 owner: AsterixUdpListener) -> None:
        self.queue = queue
        self.clock = clock
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        d = Datagram(self.clock(), f"udp:{addr[0]}:{addr[1]}", bytes(data))
        try:
            self.queue.put_nowait(d)
        except asyncio.QueueFull:
            self.owner.dropped += 1
        else:
            self.owner.received += 1


class AsterixUdpListener:
    """Receives ASTERIX datagrams on a UDP port (asyncio), optionally from a multicast group.

    Use as ``async with AsterixUdpListener("127.0.0.1", 8600) as rx: async for d in rx: ...``.
    Arrival times come from ``clock`` (default ``time.time``: the source, not the tracker,
    reads the clock, and a recording keeps them). A full queue (``max_queue`` datagrams)
    drops new datagrams and counts them in ``dropped``. ``port`` 0 picks a free port
    (see :attr:`port` once started).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8600,
        *,
        group: str | None = None,
        clock: Callable[[], float] = time.time,
        max_queue: int = 10000,
    ) -> None:
        self.host = host
        self.port = port
        self.group = group
        self.clock = clock
        self.received = 0
        self.dropped = 0
        self._queue: asyncio.Queue[Datagram] = asyncio.Queue(max_queue)
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        """Bind the socket (joining ``group`` when given)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host if self.group is None else "", self.port))
            if self.group is not None:
                mreq = socket.inet_aton(self.group) + socket.inet_aton(
                    self.host if self.host not in ("", "0.0.0.0") else "0.0.0.0")
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            sock.setblocking(False)
            self.port = sock.getsockname()[1]
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self._queue, self.clock, self), sock=sock)
        except BaseException:                        # bind refused, bad group: no leak
            sock.close()
            raise
        self._transport = transport

    def close(self) -> None:
        """Close the socket; iteration ends once the queue is drained."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> AsterixUdpListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def get(self) -> Datagram:
        """The next datagram (waits)."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Datagram]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Datagram]:
        while self._transport is not None or not self._queue.empty():
            if self._transport is None:
                yield self._queue.get_nowait()
            else:
                yield await self._queue.get()
