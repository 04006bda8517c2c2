"""Live sources into the pipeline (``skyfuse run``): many TCP feeds, ASTERIX over UDP.

Each Mode S feed is a :class:`~skyfuse.ingest.stream.TcpFeed` (reconnect with back-off);
its batches are stamped here, at the edge, and handed to the
:class:`~skyfuse.runtime.pipeline.Pipeline`, which only ever sees data time.

Time stamping, per feed connection (a new connection may be a restarted receiver with a
new counter: it is anchored afresh unless its counter plausibly continues the previous
connection's, see :meth:`_Stamp.continues`):

* 12 MHz counter: ``t = base + (arrival of the connection's first frame − run start)
  + counter seconds since that frame``;
* GPS time of day (detected by :class:`~skyfuse.ingest.timebase.Timebase`): as given;
* no timestamp (AVR ``*HEX;``): ``t = base + arrival − run start``;
* SBS and ASTERIX carry UTC themselves.

``base`` is ``t0_s`` (``--t0``; default 0: seconds since the run's first frame, as
CONTRACTS.md says for relative counters). When an SBS or ASTERIX source is configured the
counters are anchored to UTC instead (``base`` = the run start's wall-clock time), so
that all sources share one time axis.

Every ``flush_every_s`` (wall clock, 1 s) the pipeline is advanced and ``flush`` called
(the TRACKS rows are pushed out); every ``log_every_s`` the per-feed counters are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.ingest.stream import Connector, TcpFeed, tcp_connector, unless_stopped
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.runtime.pipeline import Pipeline

__all__ = ["FeedSpec", "LiveRunner", "parse_hostport"]


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One live source: ``fmt`` (beast|avr|sbs|asterix-udp), host and port."""

    fmt: str
    host: str
    port: int

    @property
    def name(self) -> str:
        """``fmt:host:port``."""
        return f"{self.fmt}:{self.host}:{self.port}"


def parse_hostport(text: str, default_host: str | None = None) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT`` when ``default_host`` is given) → (host, port).

    Raises ``ValueError`` with a readable message when malformed.
    """
    host, sep, port_s = text.rpartition(":")
    if not sep:
        if default_host is None:
            raise ValueError(f"{text!r}: expected HOST:PORT")
        host, port_s = default_host, text
    host = host.strip("[]") or (default_host or "")
    try:
        port = int(port_s)
    except ValueError:
        raise ValueError(f"{text!r}: port {port_s!r} is not a number") from None
    if not 0 < port < 65536 or not host:
        raise ValueError(f"{text!r}: expected HOST:PORT with a port 1..65535")
    return host, port


class _Stamp:
    """Per-feed time stamping state (see the module docstring)."""

    def __init__(self) -> None:
        self.connects = -1
        self.timebase = Timebase(TimeMode.AUTO)
        self.last_ticks = -1
        self.last_arrival = -math.inf

    def continues(self, first_ticks: int, now: float) -> bool:
        """Whether a new connection's counter continues the previous one's (same receiver).

        True when it advanced by no more than the wall-clock time since the last frame
        plus 10 s (a restarted receiver starts its counter again near 0).
        """
        if self.last_ticks < 0 or first_ticks < 0:
            return False
        gap_s = (first_ticks - self.last_ticks) / 12e6
        return 0.0 <= gap_s <= (now - self.last_arrival) + 10.0


class LiveRunner:
    """Runs every feed until ``stop`` is set, then steps what is left and flushes."""

    def __init__(self, pipeline: Pipeline, feeds: list[FeedSpec], flush: Callable[[], None],
                 *, t0_s: float = 0.0, sensors_path: str | None = None,
                 connector: Connector = tcp_connector, clock: Callable[[], float] = time.time,
                 log: Callable[[str], None] = print, flush_every_s: float = 1.0,
                 log_every_s: float = 10.0, backoff_s: float = 0.5,
                 backoff_max_s: float = 30.0, feed_sensor_base: int = 0) -> None:
        self.pipeline = pipeline
        self.specs = feeds
        self.flush = flush
        self.clock = clock
        self.log = log
        self.flush_every_s = flush_every_s
        self.log_every_s = log_every_s
        self.sensors_path = sensors_path
        absolute = any(f.fmt in ("sbs", "asterix-udp") for f in feeds)
        self._utc = absolute and t0_s == 0.0
        self._base = t0_s
        self._start: float | None = None
        self._stamps: dict[str, _Stamp] = {}
        self.feeds = [TcpFeed(f.name, f.host, f.port, f.fmt, self._on_batch,
                              connector=connector, backoff_s=backoff_s,
                              backoff_max_s=backoff_max_s, clock=clock)
                      for f in feeds if f.fmt in ("beast", "avr", "sbs")]
        # Mode S feeds are numbered after the sensor file's entries (``feed_sensor_base``):
        # a feed and a radar must never share a sensor id (grouping, sensor bitmask)
        self._sensor = {f.name: feed_sensor_base + i for i, f in enumerate(self.feeds)}
        self.asterix_received = 0

    # -- stamping --------------------------------------------------------------------------
    def _origin(self, now: float) -> float:
        if self._start is None:
            self._start = now
            if self._utc:
                self._base = now
        return self._base - self._start

    def _on_batch(self, feed: TcpFeed, batch: FrameBatch | SbsBatch) -> None:
        now = self.clock()
        offset = self._origin(now)
        sensor = self._sensor[feed.name]
        if isinstance(batch, SbsBatch):
            self.pipeline.add_sbs(batch, sensor)
            return
        st = self._stamps.setdefault(feed.name, _Stamp())
        ticks = batch.ticks[batch.ticks >= 0]
        if st.connects != feed.counters.connects:         # a new connection
            st.connects = feed.counters.connects
            if not st.continues(int(ticks[0]) if len(ticks) else -1, now):
                st.timebase = Timebase(TimeMode.AUTO, t0_s=now + offset)   # re-anchor
        if len(ticks):
            st.last_ticks, st.last_arrival = int(ticks[-1]), now
        t = st.timebase.to_seconds(batch.ticks)
        if st.timebase.mode == TimeMode.GPS and st.timebase.day_s is None:
            st.timebase.day_s = math.floor(now / 86400.0) * 86400.0  # seconds of day → UTC
            t = st.timebase.to_seconds(batch.ticks)
        t = np.where(np.isfinite(t), t, now + offset)
        before = self.pipeline.decoder.counters.crc_failures
        self.pipeline.add_frames(t, batch.data, sensor)
        feed.counters.crc_failures += self.pipeline.decoder.counters.crc_failures - before
        self.pipeline.advance()

    # -- tasks -----------------------------------------------------------------------------
    async def _asterix(self, spec: FeedSpec, stop: asyncio.Event) -> None:
        from skyfuse.ingest.asterix_source import AsterixUdpListener
        from skyfuse.measure.sensors import load_sensors
        from skyfuse.runtime.asterix_input import AsterixInput

        sensors = load_sensors(self.sensors_path) if self.sensors_path else None
        feeder = AsterixInput(self.pipeline, sensors)
        async with AsterixUdpListener(spec.host, spec.port, clock=self.clock) as rx:
            while not stop.is_set():
                stopped, d = await unless_stopped(rx.get(), stop)
                if stopped or d is None:
                    break
                self._origin(d.t_s)
                self.asterix_received += 1
                feeder.feed(d.payload, d.t_s)
                self.pipeline.advance()

    async def _ticker(self, stop: asyncio.Event) -> None:
        last_log = self.clock()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.flush_every_s)
            self.pipeline.advance()
            self.flush()
            if self.clock() - last_log >= self.log_every_s:
                last_log = self.clock()
                self.log_counters()

    def log_counters(self) -> None:
        """One log line per feed: connection, frames, bad frames, CRC failures, last seen."""
        now = self.clock()
        for f in self.feeds:
            c = f.counters
            ago = f"{now - c.last_seen_s:.1f} s ago" if math.isfinite(c.last_seen_s) else "never"
            self.log(f"feed {c.name}: {'connected' if c.connected else 'disconnected'}, "
                     f"connects {c.connects}, frames {c.frames}, bad frames {c.bad_frames}, "
                     f"crc failures {c.crc_failures}, last seen {ago}")
        if any(s.fmt == "asterix-udp" for s in self.specs):
            self.log(f"asterix udp: datagrams {self.asterix_received}")

    async def run(self, stop: asyncio.Event) -> None:
        """Run the feeds until ``stop`` is set; then finish the pipeline and flush."""
        tasks = [asyncio.ensure_future(f.run(stop)) for f in self.feeds]
        tasks += [asyncio.ensure_future(self._asterix(s, stop))
                  for s in self.specs if s.fmt == "asterix-udp"]
        ticker = asyncio.ensure_future(self._ticker(stop))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    stop.set()
                    raise t.exception()  # type: ignore[misc]
        finally:
            stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, ticker, return_exceptions=True)
            self.pipeline.finish()
            self.flush()
            self.log_counters()
