"""Mode S feeds: format detection, file reading, TCP clients with reconnect and back-off.

A feed turns a byte stream into parsed batches through one parser (:class:`BeastParser`,
:class:`AvrParser` or :class:`SbsParser`) and keeps its counters (:class:`FeedCounters`).
The network is behind a one-method interface, :data:`Connector` (host, port → an object
with ``async read(n) -> bytes`` and ``close()``), so tests run feeds on an in-memory fake;
:func:`tcp_connector` is the real one (asyncio streams).

Reconnect rule: after a failed connect or a dropped connection, wait ``backoff_s``, doubling
after each consecutive failure up to ``backoff_max_s``; any received data resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from skyfuse.ingest.avr import AvrParser
from skyfuse.ingest.beast import BeastParser
from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch, SbsParser

__all__ = ["ASTERIX_CATEGORIES", "PARSERS", "ByteStream", "Connector", "FeedCounters",
           "ModeSParser", "TcpFeed", "detect_file", "detect_format", "detect_recording",
           "make_parser", "read_file", "tcp_connector", "unless_stopped"]

ModeSParser = BeastParser | AvrParser | SbsParser
PARSERS: dict[str, type[BeastParser] | type[AvrParser] | type[SbsParser]] = {
    "beast": BeastParser, "avr": AvrParser, "sbs": SbsParser}
"""Format name → parser class."""

_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")
_SBS_HEADS = (b"MSG,", b"SEL,", b"ID,", b"AIR,", b"STA,", b"CLK,")


def detect_format(head: bytes) -> str | None:
    """``beast``, ``avr`` or ``sbs`` from the first bytes of a stream, else None.

    A pcap/pcapng capture (by its magic) is never Mode S, even when its timestamps and
    payloads happen to hold many ``0x1a`` bytes.
    """
    if head[:4] in _PCAP_MAGICS:
        return None
    i = head.find(b"\x1a")
    if i >= 0 and i + 1 < len(head) and head[i + 1] in b"123" and (
            head[:i].strip() == b"" or head.count(b"\x1a") > 4):
        return "beast"
    text = head.lstrip()
    if text[:1] in (b"*", b"@"):
        return "avr"
    if text.startswith(_SBS_HEADS):
        return "sbs"
    return None


ASTERIX_CATEGORIES = (1, 2, 8, 10, 19, 20, 21, 23, 34, 48, 62, 63, 65)


T = TypeVar("T")


async def unless_stopped(aw: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Await ``aw`` unless ``stop`` is set first: ``(True, None)`` if stopped (``aw``
    cancelled), else ``(False, result)``."""
    task = asyncio.ensure_future(aw)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task not in done:
        task.cancel()
        return True, None
    return False, task.result()


def detect_recording(head: bytes) -> str | None:
    """``beast``, ``avr``, ``sbs`` or ``asterix`` from the first bytes of a file, else None.

    ASTERIX: a pcap/pcapng magic, or (when no Mode S format fits) a first block header of a
    known category with a plausible length.
    """
    if head[:4] in _PCAP_MAGICS:
        return "asterix"
    fmt = detect_format(head)
    if fmt is not None:
        return fmt
    if len(head) >= 3 and head[0] in ASTERIX_CATEGORIES and (head[1] << 8 | head[2]) >= 3:
        return "asterix"
    return None


def detect_file(path: str | Path) -> str | None:
    """:func:`detect_recording` on the first 4 KiB of ``path`` (OSError if unreadable)."""
    with open(path, "rb") as f:
        return detect_recording(f.read(4096))


def make_parser(fmt: str, keep_errors: bool = False) -> ModeSParser:
    """A fresh parser for ``fmt`` (``beast|avr|sbs``)."""
    return PARSERS[fmt](keep_errors=keep_errors)


def read_file(path: str | Path, fmt: str | None = None, chunk_bytes: int = 1 << 20,
              keep_errors: bool = False
              ) -> Iterator[tuple[ModeSParser, FrameBatch | SbsBatch]]:
    """Parse a recording chunk by chunk; yields (parser, batch). Format detected if None.

    Raises ``ValueError`` when the format cannot be detected.
    """
    with open(path, "rb") as f:
        head = f.read(4096)
        fmt = fmt or detect_format(head)
        if fmt is None:
            raise ValueError(f"{path}: not Beast, AVR or SBS (use --format)")
        parser = make_parser(fmt, keep_errors)
        chunk = head
        while chunk:
            yield parser, parser.feed(chunk)
            chunk = f.read(chunk_bytes)
        yield parser, parser.flush()


class ByteStream(Protocol):
    """What a connector returns: an open byte stream."""

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` when the peer closed the connection."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


Connector = Callable[[str, int], Awaitable[ByteStream]]


class _AsyncioStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def read(self, n: int) -> bytes:
        return await self._reader.read(n)

    def close(self) -> None:
        self._writer.close()


async def tcp_connector(host: str, port: int) -> ByteStream:
    """Open a TCP connection (the real :data:`Connector`)."""
    reader, writer = await asyncio.open_connection(host, port)
    return _AsyncioStream(reader, writer)


@dataclass(slots=True)
class FeedCounters:
    """Per-feed totals (the ``/api/v1/sources`` fields): ``last_seen_s`` is wall clock."""

    name: str
    kind: str
    connected: bool = False
    connects: int = 0
    frames: int = 0
    bad_frames: int = 0
    crc_failures: int = 0
    bytes_in: int = 0
    last_seen_s: float = float("nan")


class TcpFeed:
    """One live Mode S feed: connects, parses, hands batches to ``sink``, reconnects."""

    def __init__(self, name: str, host: str, port: int, fmt: str,
                 sink: Callable[[TcpFeed, FrameBatch | SbsBatch], None],
                 connector: Connector = tcp_connector, backoff_s: float = 0.5,
                 backoff_max_s: float = 30.0, clock: Callable[[], float] = time.time,
                 read_bytes: int = 65536) -> None:
        self.name, self.host, self.port, self.fmt = name, host, port, fmt
        self.sink = sink
        self.connector = connector
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.clock = clock
        self.read_bytes = read_bytes
        self.counters = FeedCounters(name=name, kind=fmt)
        self.parser: ModeSParser = make_parser(fmt)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        delay = self.backoff_s
        c = self.counters
        while not stop.is_set():
            try:
                stream = await self.connector(self.host, self.port)
            except OSError:
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            c.connected = True
            c.connects += 1
            self.parser = make_parser(self.fmt)  # a new connection starts a new stream
            try:
                while not stop.is_set():
                    stopped, data = await unless_stopped(stream.read(self.read_bytes), stop)
                    if stopped or not data:
                        break
                    delay = self.backoff_s
                    self._take(data)
            except OSError:
                pass
            finally:
                c.connected = False
                stream.close()
            if not stop.is_set():
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, self.backoff_max_s)

    def _take(self, data: bytes) -> None:
        c = self.counters
        before = self.parser.counters.bad_frames
        batch = self.parser.feed(data)
        c.bytes_in += len(data)
        c.bad_frames += self.parser.counters.bad_frames - before
        if len(batch):
            c.frames += len(batch)
            c.last_seen_s = self.clock()
            self.sink(self, batch)


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
