"""The live service: sources → pipeline (a worker thread) → live state and outputs.

::

    event loop                              worker thread              any thread
    ─────────────                           ─────────────              ──────────
    TCP feeds (TcpFeed) ─┐ stamp (wall)
    ASTERIX UDP ─────────┼─▶ Handoff ──▶ Pipeline.add_* / advance ──▶ LiveState.update
    replay (Player) ─────┘  (bounded)        (the tracker)         └─▶ outputs.publish
    HTTP / WebSocket ◀──────────────── LiveState (lock; copies) ◀─┘   (history, SBS, CAT062)

* **Backpressure on ingest.** The :class:`Handoff` between the loop and the worker holds
  at most ``queue_items`` batches. A TCP feed waits for room *before each read*, so a
  tracker that falls behind stops the reads and TCP flow control slows the sender; the
  replay waits the same way; UDP cannot wait, its listener drops. Nothing in the loop
  ever blocks on the worker.
* **Outputs never block the tracker.** ``publish`` of every output returns at once (each
  has its own bounded buffer and writer); the live state takes a short lock; the
  WebSocket hub only marks clients dirty.
* **Time.** Live Mode S frames are stamped at arrival on the event loop (UTC): a 12 MHz
  counter continues from the arrival of the connection's first frame, GPS time of day
  is dated with the arrival day, frames without a timestamp get their arrival time. SBS
  and ASTERIX carry UTC. Recordings are shifted to the wall clock (see
  :mod:`skyfuse.runtime.playback`). The pipeline itself only sees data time.
* **Sensor ids.** Sensors of the sensor file keep their index (ASTERIX plots);
  Mode S feeds and files follow them (``len(sensors) + k``), so every id has one name
  for the API's ``sensors`` list.
* **Deletions and coasting.** After stepping, the worker tells the live state which
  tracks the tracker still holds, with their status (:meth:`LiveState.retain`, at most
  every 0.5 s): the others become ``remove`` entries of the stream, and a track that
  turned coasting (it gets no update row) is shown so.
* **Threads, not processes.** The tracker thread shares the interpreter with the event
  loop; its heavy work is numpy (which releases the GIL in its kernels), and the loop's
  heavy work, JSON encoding, is bounded by the per-client coalescing (one encoding per
  state change for all clients at the same version). A tracker in its own process
  would isolate them fully at the cost of copying every batch; not needed so far.
* **Stop.** :meth:`Service.run` returns after ``stop`` is set: sources stop, the worker
  steps what is buffered (``Pipeline.finish``), publishes the last rows and the outputs
  are closed (the history store flushes its last batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.ingest.stream import ByteStream, Connector, TcpFeed, tcp_connector, unless_stopped
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.measure.sensors import SensorTable
from skyfuse.runtime.config import Config, FeedConfig
from skyfuse.runtime.live import parse_hostport
from skyfuse.runtime.merge import DatagramPiece, FramePiece, SbsPiece
from skyfuse.runtime.pipeline import Pipeline, PipelineConfig, tracker_config_for
from skyfuse.runtime.playback import Player, Slice, detect_formats
from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.server.state import LiveState, SensorInfo, SourceStatus

__all__ = ["KIND_RANGE_NM", "Handoff", "Service"]

KIND_RANGE_NM = {"psr": 60.0, "ssr": 200.0, "modes": 250.0, "adsb": 250.0, "mlat": 100.0}
"""Coverage radius shown for a sensor of each kind unless ``[sensors] range_nm`` says."""

_RETAIN_EVERY_S = 0.5
_SENSOR_SILENT_S = 30.0          # a sensor without reports this long shows disconnected


class Handoff:
    """A bounded hand-over from the event loop to the worker thread.

    ``put`` never blocks (the caller checks :meth:`has_room` / awaits :meth:`room`
    first; a put on a full hand-over still goes in, so the bound may be passed by the
    number of concurrent producers); ``get`` blocks the worker up to a timeout.
    """

    def __init__(self, max_items: int) -> None:
        self.max_items = max(1, max_items)
        self._items: deque[Any] = deque()
        self._cv = threading.Condition()
        self.waits = 0

    def __len__(self) -> int:
        return len(self._items)

    def has_room(self) -> bool:
        """Whether a producer may put now."""
        return len(self._items) < self.max_items

    async def room(self, stop: asyncio.Event | None = None) -> None:
        """Wait (polling every 5 ms, only while full) until there is room or ``stop``."""
        if self.has_room():
            return
        self.waits += 1
        while not self.has_room() and not (stop is not None and stop.is_set()):
            await asyncio.sleep(0.005)

    def put(self, item: Any) -> None:
        """Append ``item`` and wake the worker."""
        with self._cv:
            self._items.append(item)
            self._cv.notify()

    def get(self, timeout_s: float) -> Any:
        """The oldest item, or None after ``timeout_s`` with nothing."""
        with self._cv:
            if not self._items:
                self._cv.wait(timeout_s)
            return self._items.popleft() if self._items else None


class _Stop:
    pass


_STOP = _Stop()


class _GatedStream:
    """A byte stream that waits for room in the hand-over before each read."""

    def __init__(self, inner: ByteStream, handoff: Handoff, stop: asyncio.Event) -> None:
        self.inner, self.handoff, self.stop = inner, handoff, stop

    async def read(self, n: int) -> bytes:
        await self.handoff.room(self.stop)
        return await self.inner.read(n)

    def close(self) -> None:
        self.inner.close()


@dataclasses.dataclass(slots=True)
class _FeedClock:
    connects: int = -1
    timebase: Timebase = dataclasses.field(default_factory=Timebase)


class _ShiftedPipeline:
    """What :class:`~skyfuse.runtime.asterix_input.AsterixInput` needs of a pipeline, with
    report times moved by ``offset_s`` (ASTERIX replay shifted to the wall clock)."""

    def __init__(self, pipe: Pipeline, counts: dict[int, list[float]],
                 clock: Callable[[], float]) -> None:
        self.pipe = pipe
        self.clock = clock
        self.offset_s = 0.0
        self.counts = counts

    @property
    def frame(self) -> Any:
        return self.pipe.frame

    def ensure_frame(self, lat_deg: float, lon_deg: float) -> Any:
        return self.pipe.ensure_frame(lat_deg, lon_deg)

    def add_measurements(self, batch: Any) -> None:
        if len(batch):                                   # reports per sensor, for /sources
            ids, n = np.unique(batch.sensor, return_counts=True)
            now = self.clock()
            for i, k in zip(ids.tolist(), n.tolist(), strict=True):
                c = self.counts.setdefault(i, [0, math.nan])
                c[0] += k
                c[1] = now
        if self.offset_s:
            batch = dataclasses.replace(batch, t_s=batch.t_s + self.offset_s)
        self.pipe.add_measurements(batch)


class Service:
    """Runs the configured sources through one pipeline into ``state`` and ``outputs``.

    ``outputs``: objects with ``publish(rows)`` and ``close()`` (never blocking);
    ``sensors``: the sensor table (radar positions) or None.
    """

    def __init__(self, config: Config, state: LiveState, outputs: list[Any] | None = None,
                 *, sensors: SensorTable | None = None, receiver: tuple[float, float] | None
                 = None, connector: Connector = tcp_connector,
                 clock: Callable[[], float] = time.time,
                 log: Callable[[str], None] = lambda s: None) -> None:
        self.config = config
        self.state = state
        self.outputs = list(outputs or [])
        self.sensors = sensors if sensors is not None else SensorTable(())
        self.receiver = receiver
        self.clock = clock
        self.log = log
        rt = config.runtime
        self.handoff = Handoff(rt.queue_items)
        self.pipeline = Pipeline(PipelineConfig(receiver=receiver, step_s=rt.step_s,
                                                reorder_s=rt.reorder_s,
                                                tracker=tracker_config_for(self.sensors)),
                                 sink=self._publish)
        self._connector = connector
        base = len(self.sensors)
        self.feeds: list[TcpFeed] = []
        self._feed_sensor: dict[str, int] = {}
        self._clocks: dict[str, _FeedClock] = {}
        self._udp: list[tuple[FeedConfig, str, int]] = []
        names: dict[int, str] = {i: s.name for i, s in enumerate(self.sensors.sensors)}
        for f in config.feeds:
            if f.kind == "asterix-udp":
                host, port = parse_hostport(f.address, "0.0.0.0")
                self._udp.append((f, host, port))
                continue
            host, port = parse_hostport(f.address)
            name = f.name or f"{f.kind}:{host}:{port}"
            sid = base + len(self.feeds)
            self._feed_sensor[name] = sid
            names[sid] = name
            self.feeds.append(TcpFeed(name, host, port, f.kind, self._on_feed_batch,
                                      connector=self._gated_connector, clock=clock))
        self.player: Player | None = None
        self._replay_base = base + len(self.feeds)
        self._loop: asyncio.AbstractEventLoop | None = None
        rp = config.replay
        if rp.files:
            fmts = detect_formats(list(rp.files))
            self.player = Player(list(rp.files), fmts, speed=rp.speed, loop=rp.loop,
                                 shift_to_now=rp.shift_to_now, t0_s=rp.t0_s, clock=clock)
            k = len(self.feeds)
            for i, (path, fmt) in enumerate(zip(rp.files, fmts, strict=True)):
                if fmt != "asterix":
                    names[base + k + i] = Path(path).name
            self._replay_base = base + k
        self.state.set_sensor_names(names)
        self.state.set_sensors(self._sensor_infos())
        self._stop_evt: asyncio.Event | None = None
        self._worker: threading.Thread | None = None
        self._asterix: dict[Any, tuple[Any, _ShiftedPipeline]] = {}
        self._udp_counts: dict[str, list[float]] = {}
        self._sensor_counts: dict[int, list[float]] = {}    # sensor id → [reports, wall]
        self._rates: dict[str, tuple[float, int]] = {}
        self._loop_seen = 0
        self.worker_error: BaseException | None = None
        self.output_errors = 0

    # -- API metadata --------------------------------------------------------------------------
    def _sensor_infos(self) -> list[SensorInfo]:
        ranges = dict(self.config.sensors.range_nm)
        out = [SensorInfo(s.name, s.kind, s.lat_deg, s.lon_deg, s.height_m,
                          ranges.get(s.name, KIND_RANGE_NM.get(s.kind, 200.0)))
               for s in self.sensors.sensors]
        if self.receiver is not None and not any(s.kind == "adsb" for s in out):
            out.append(SensorInfo("receiver", "adsb", self.receiver[0], self.receiver[1], 0.0,
                                  ranges.get("receiver", KIND_RANGE_NM["adsb"])))
        return out

    @property
    def steps(self) -> int:
        """Tracker steps so far."""
        return self.pipeline.counters.steps

    # -- worker ----------------------------------------------------------------------------------
    def _publish(self, rows: TrackRows) -> None:
        """The pipeline's sink (worker thread): live state, then every output.

        An output with a ``frame`` attribute left None (the CAT062 sender's system
        reference for I062/100) gets the pipeline's local frame once it is known.
        """
        self.state.update(rows)
        for out in self.outputs:
            if getattr(out, "frame", False) is None and self.pipeline.frame is not None:
                out.frame = self.pipeline.frame
            try:
                out.publish(rows)
            except Exception as e:                      # an output must not stop tracking
                self.output_errors += 1
                if self.output_errors == 1:
                    self.log(f"output {type(out).__name__} failed: {e}")

    def _apply(self, item: Any) -> None:
        kind = item[0]
        pipe = self.pipeline
        if kind == "frames":
            _, t, data, sensor = item
            pipe.add_frames(t, data, sensor)
        elif kind == "sbs":
            pipe.add_sbs(item[1], item[2])
        elif kind == "asterix":
            _, key, payloads, t, offset = item
            feeder, shifted = self._asterix_input(key)
            shifted.offset_s = offset
            for t1, p in zip(t.tolist(), payloads, strict=True):
                feeder.feed(p, t1)
        elif kind == "loop":                            # a recording starts again
            from skyfuse.decode.modes import ModeSDecoder
            cfg = pipe.config
            pipe.decoder = ModeSDecoder(receiver=cfg.receiver,
                                        dedup_window_s=cfg.dedup_window_s)
        elif kind == "finish":
            pipe.finish()

    def _asterix_input(self, key: Any) -> tuple[Any, _ShiftedPipeline]:
        got = self._asterix.get(key)
        if got is None:
            from skyfuse.runtime.asterix_input import AsterixInput
            shifted = _ShiftedPipeline(self.pipeline, self._sensor_counts, self.clock)
            feeder = AsterixInput(shifted, self.sensors,  # type: ignore[arg-type]
                                  reference_epoch_s=self.config.replay.t0_s or None)
            got = self._asterix[key] = (feeder, shifted)
        return got

    def _sync_state(self) -> None:
        """Deleted tracks out of the live state, status changes (coasting) in."""
        tab = self.pipeline.tracker.tracks
        self.state.retain(tab.track_id.copy(), tab.status.copy())

    def _work(self) -> None:
        pipe = self.pipeline
        last_retain = 0.0
        try:
            while True:
                item = self.handoff.get(0.25)
                if item is _STOP:
                    break
                if item is not None:
                    self._apply(item)
                    pipe.advance()
                now = time.monotonic()
                if now - last_retain >= _RETAIN_EVERY_S:
                    last_retain = now
                    self._sync_state()
            pipe.finish()
            self._sync_state()
        except BaseException as e:                      # reported by run()
            self.worker_error = e
            if self._stop_evt is not None and self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._stop_evt.set)

    # -- sources (event loop) --------------------------------------------------------------------
    async def _gated_connector(self, host: str, port: int) -> ByteStream:
        inner = await self._connector(host, port)
        assert self._stop_evt is not None
        return _GatedStream(inner, self.handoff, self._stop_evt)

    def _on_feed_batch(self, feed: TcpFeed, batch: FrameBatch | SbsBatch) -> None:
        sensor = self._feed_sensor[feed.name]
        if isinstance(batch, SbsBatch):
            self.handoff.put(("sbs", batch, sensor))
            return
        now = self.clock()
        fc = self._clocks.setdefault(feed.name, _FeedClock())
        if fc.connects != feed.counters.connects:       # a new connection: anchor afresh
            fc.connects = feed.counters.connects
            fc.timebase = Timebase(TimeMode.AUTO, t0_s=now)
        t = fc.timebase.to_seconds(batch.ticks)
        if fc.timebase.mode == TimeMode.GPS and fc.timebase.day_s is None:
            fc.timebase.day_s = math.floor(now / 86400.0) * 86400.0
            t = fc.timebase.to_seconds(batch.ticks)
        t = np.where(np.isfinite(t), t, now)
        self.handoff.put(("frames", t, batch.data, sensor))

    async def _udp_feed(self, spec: FeedConfig, host: str, port: int,
                        stop: asyncio.Event) -> None:
        from skyfuse.ingest.asterix_source import AsterixUdpListener
        name = spec.name or f"asterix-udp:{host}:{port}"
        count = self._udp_counts.setdefault(name, [0, math.nan, 0])   # frames, last, bound
        try:
            async with AsterixUdpListener(host, port, clock=self.clock) as rx:
                count[2] = 1
                while not stop.is_set():
                    stopped, d = await unless_stopped(rx.get(), stop)
                    if stopped or d is None:
                        break
                    count[0] += 1
                    count[1] = self.clock()
                    await self.handoff.room(stop)
                    self.handoff.put(("asterix", name, [d.payload], np.array([d.t_s]), 0.0))
        finally:                                        # also when cancelled at stop
            count[2] = 0

    async def _emit_slice(self, s: Slice) -> None:
        assert self._stop_evt is not None
        await self.handoff.room(self._stop_evt)
        if s.loop != self._loop_seen:
            self._loop_seen = s.loop
            self.handoff.put(("loop",))
        p = s.piece
        if isinstance(p, FramePiece):
            self.handoff.put(("frames", p.t_s, p.frames, self._replay_base + s.file))
        elif isinstance(p, SbsPiece):
            self.handoff.put(("sbs", p.batch, self._replay_base + s.file))
        elif isinstance(p, DatagramPiece):
            self.handoff.put(("asterix", ("file", s.file), p.payloads, p.t_s, s.offset_s))

    async def _replay(self, stop: asyncio.Event) -> None:
        assert self.player is not None
        await self.player.run(self._emit_slice, stop)
        if not stop.is_set():
            self.handoff.put(("finish",))
            self.log("replay finished")

    # -- status ---------------------------------------------------------------------------------
    def _rate(self, name: str, frames: int, now: float) -> float:
        prev = self._rates.get(name)
        self._rates[name] = (now, frames)
        if prev is None or now <= prev[0]:
            return 0.0
        return (frames - prev[1]) / (now - prev[0])

    def sources(self) -> list[SourceStatus]:
        """Counters of every feed, listener and replayed file, and of every sensor of the
        sensor file (its ASTERIX reports: ``frames`` counts reports, ``connected`` means
        a report within the last 30 s), now."""
        now = time.monotonic()
        out = []
        for f in self.feeds:
            c = f.counters
            out.append(SourceStatus(c.name, c.kind, c.connected, c.frames, c.bad_frames,
                                    self._rate(c.name, c.frames, now), c.last_seen_s))
        for name, (frames, last, bound) in self._udp_counts.items():
            out.append(SourceStatus(name, "asterix-udp", bool(bound), int(frames), 0,
                                    self._rate(name, int(frames), now), last))
        for i, sensor in enumerate(self.sensors.sensors):  # radars, ADS-B stations
            n, last = self._sensor_counts.get(i, (0, math.nan))
            name = sensor.name
            up = math.isfinite(last) and self.clock() - last < _SENSOR_SILENT_S
            out.append(SourceStatus(name, sensor.kind, up, int(n), 0,
                                    self._rate(f"sensor:{name}", int(n), now), last))
        if self.player is not None:
            for c in self.player.counters:
                name = f"replay:{c.name}"
                out.append(SourceStatus(name, c.kind, c.playing, c.frames, c.bad_frames,
                                        self._rate(name, c.frames, now), c.last_seen_s))
        return out

    async def _status(self, stop: asyncio.Event) -> None:
        every = max(0.1, self.config.runtime.status_every_s)
        while not stop.is_set():
            self.state.set_sources(self.sources())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    # -- run ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then drain, finish the pipeline, close the outputs."""
        self._stop_evt = stop
        self._loop = asyncio.get_running_loop()
        self._worker = threading.Thread(target=self._work, name="skyfuse-tracker",
                                        daemon=True)
        self._worker.start()
        tasks = [asyncio.ensure_future(f.run(stop)) for f in self.feeds]
        tasks += [asyncio.ensure_future(self._udp_feed(s, h, p, stop)) for s, h, p in self._udp]
        if self.player is not None:
            tasks.append(asyncio.ensure_future(self._replay(stop)))
        status = asyncio.ensure_future(self._status(stop))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            pending = {stopped, *tasks}
            while not stop.is_set():                     # a source that fails stops all
                done, pending = await asyncio.wait(pending,
                                                   return_when=asyncio.FIRST_COMPLETED)
                if any(t.exception() is not None for t in done if t is not stopped):
                    break
        finally:
            stopped.cancel()
            stop.set()
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, status, return_exceptions=True)
            self.handoff.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._worker.join)
            self.state.set_sources(self.sources())
            for out in self.outputs:
                with contextlib.suppress(Exception):
                    out.close()
        if self.worker_error is not None:
            raise RuntimeError(f"tracker stopped: {self.worker_error}") from self.worker_error
        for r in results:
            if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError):
                raise r
