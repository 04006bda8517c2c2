"""The runtime service and its config: sources → pipeline → live state and outputs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from modes_helpers import AFR_AVR
from skyfuse.ingest.beast import encode_beast
from skyfuse.ingest.stream import read_file
from skyfuse.runtime.config import (
    Config,
    ConfigError,
    FeedConfig,
    ReplayConfig,
    RuntimeConfig,
    load_config,
    parse_config,
)
from skyfuse.runtime.playback import Player, Slice
from skyfuse.runtime.service import Handoff, Service, _GatedStream
from skyfuse.server.state import LiveState

ROOT = Path(__file__).resolve().parent.parent


# -- configuration ---------------------------------------------------------------------------
def test_example_config_parses_with_every_section() -> None:
    cfg = load_config(ROOT / "docs" / "skyfuse.example.toml")
    assert cfg.server.host == "127.0.0.1" and cfg.server.port == 8080
    assert [f.kind for f in cfg.feeds] == ["beast", "asterix-udp"]
    assert cfg.store.flush_s == 1.0


def test_defaults_everywhere() -> None:
    cfg = parse_config("")
    assert cfg == Config()
    assert cfg.server.host == "127.0.0.1" and cfg.server.token == ""
    assert cfg.replay.speed == 1.0 and cfg.runtime.queue_items > 0


@pytest.mark.parametrize(("text", "message"), [
    ("[server]\nprot = 1\n", "[server]: unknown key 'prot'"),
    ("[srever]\n", "unknown section 'srever'"),
    ("[server]\nport = 'x'\n", "port must be an integer"),
    ("[replay]\nspeed = -1\n", "speed must be ≥ 0"),
    ("[replay]\nloop = 1\n", "loop must be true or false"),
    ("[[feed]]\nkind = 'beast'\n", "feed[0]: address is required"),
    ("[[feed]]\nkind = 'radar'\naddress = 'h:1'\n", "kind must be one of"),
    ("[[feed]]\nkind = 'sbs'\naddress = 'h:1'\nport = 3\n", "feed[0]: unknown key 'port'"),
    ("[sensors]\nrange_nm = { a = 'far' }\n", "range_nm.a must be a number"),
    ("[server\n", "not valid TOML"),
])
def test_config_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as e:
        parse_config(text, "my.toml")
    assert str(e.value).startswith("my.toml")
    assert message in str(e.value)


def test_range_table() -> None:
    cfg = parse_config('[sensors]\nrange_nm = { "Orly" = 80, "CDG" = 120.5 }\n')
    assert dict(cfg.sensors.range_nm) == {"Orly": 80.0, "CDG": 120.5}


# -- backpressure ----------------------------------------------------------------------------
def test_gated_stream_reads_only_when_the_handoff_has_room() -> None:
    class Stream:
        reads = 0

        async def read(self, n: int) -> bytes:
            Stream.reads += 1
            return b"x"

        def close(self) -> None:
            pass

    async def go() -> tuple[int, int]:
        h = Handoff(2)
        h.put(1)
        h.put(2)                                              # full
        g = _GatedStream(Stream(), h, asyncio.Event())
        task = asyncio.ensure_future(g.read(10))
        await asyncio.sleep(0.05)
        before = Stream.reads                                 # still waiting
        assert h.get(0.0) == 1                                # the worker takes one
        await asyncio.wait_for(task, 1)
        return before, Stream.reads

    before, after = asyncio.run(go())
    assert (before, after) == (0, 1)


# -- playback --------------------------------------------------------------------------------
def _short_avr(tmp_path: Path, lines: int = 600) -> Path:
    p = tmp_path / "short.avr"
    p.write_text("".join(Path(AFR_AVR).read_text().splitlines(keepends=True)[:lines]))
    return p


def test_player_loops_forward_in_time_and_shifts_to_now(tmp_path: Path) -> None:
    path = _short_avr(tmp_path)
    got: list[Slice] = []
    stop = asyncio.Event()
    now = 1_800_000_000.0
    player = Player([str(path)], ["avr"], speed=0, loop=True, gap_s=30.0,
                    clock=lambda: now)

    async def emit(s: Slice) -> None:
        got.append(s)
        if s.loop == 2:
            stop.set()

    asyncio.run(player.run(emit, stop))
    t = {k: np.concatenate([s.piece.t_s for s in got if s.loop == k]) for k in (0, 1)}
    span = t[0].max() - t[0].min()
    assert t[0].min() == pytest.approx(now)                    # first frame is "now"
    assert t[1].min() == pytest.approx(t[0].max() + 30.0)       # loop 2 continues
    assert t[1].max() - t[1].min() == pytest.approx(span)
    assert max(s.piece.t_s.max() - s.piece.t_s.min() for s in got) <= 0.25 + 1e-9


def test_player_paces_at_recorded_speed(tmp_path: Path) -> None:
    path = _short_avr(tmp_path, 4000)
    stop = asyncio.Event()
    seen: list[tuple[float, float]] = []

    async def emit(s: Slice) -> None:
        seen.append((time.monotonic(), float(s.piece.t_s[0])))
        if s.piece.t_s[0] - seen[0][1] > 1.0:
            stop.set()

    asyncio.run(Player([str(path)], ["avr"], speed=20.0).run(emit, stop))
    wall = seen[-1][0] - seen[0][0]
    data = seen[-1][1] - seen[0][1]
    assert data > 1.0
    assert wall >= data / 20.0 * 0.9                           # not faster than asked


# -- the service -----------------------------------------------------------------------------
def _run_service(svc: Service, until: float, done: object = None) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(svc.run(stop))
        t_end = time.monotonic() + until
        while time.monotonic() < t_end and not (callable(done) and done()):
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(go())


def _has_afr(state: LiveState) -> bool:
    v = state.view()
    return b"AFR34ZG" in v.callsign.tolist()


def test_replay_through_service_into_state_and_store(tmp_path: Path) -> None:
    from skyfuse.outputs.history import HistoryStore, query_history

    db = tmp_path / "h.sqlite"
    state = LiveState()
    store = HistoryStore(db, flush_s=0.1)
    cfg = Config(replay=ReplayConfig(files=(str(AFR_AVR),), speed=0),
                 runtime=RuntimeConfig(queue_items=4))
    t0 = time.time()
    svc = Service(cfg, state, [store])
    _run_service(svc, 60, lambda: _has_afr(state) and state.seq > 50)
    assert _has_afr(state)
    v = state.view()
    assert v.t_s.min() >= t0 - 1                                  # shifted to "now"
    assert svc.steps > 10
    rows = query_history(db, icao24="393322")
    assert len(rows) > 20                                         # store flushed at close
    names = state.sensor_names(int(v.sensors[0]))
    assert names == ["afr34zg_4000.avr"]
    src = svc.sources()
    assert src[0].name == "replay:afr34zg_4000.avr" and 0 < src[0].frames <= 4000


def test_live_beast_feed_through_service(tmp_path: Path) -> None:
    chunks = [encode_beast(f, t) for _, b in read_file(AFR_AVR)
              for t, f in zip(b.ticks.tolist(), b.data, strict=True)]
    blob = b"".join(chunks)

    class FakeStream:
        def __init__(self) -> None:
            self.off = 0

        async def read(self, n: int) -> bytes:
            await asyncio.sleep(0.001)
            if self.off >= len(blob):
                await asyncio.sleep(3600)
            out = blob[self.off:self.off + 4096]
            self.off += len(out)
            return out

        def close(self) -> None:
            pass

    async def connector(host: str, port: int) -> FakeStream:
        return FakeStream()

    state = LiveState()
    cfg = Config(feeds=(FeedConfig(kind="beast", address="192.0.2.1:30005"),))
    svc = Service(cfg, state, [], connector=connector)       # type: ignore[arg-type]
    _run_service(svc, 60, lambda: svc.feeds[0].counters.frames >= 4000 and _has_afr(state))
    assert _has_afr(state)
    c = svc.sources()[0]
    assert c.name == "beast:192.0.2.1:30005" and c.frames == 4000 and c.kind == "beast"
    assert state.sensor_names(int(state.view().sensors[0])) == ["beast:192.0.2.1:30005"]


def test_output_failure_does_not_stop_tracking() -> None:
    class Broken:
        closed = False

        def publish(self, rows: object) -> None:
            raise OSError("disk full")

        def close(self) -> None:
            Broken.closed = True

    state = LiveState()
    cfg = Config(replay=ReplayConfig(files=(str(AFR_AVR),), speed=0))
    svc = Service(cfg, state, [Broken()])
    _run_service(svc, 60, lambda: _has_afr(state))
    assert _has_afr(state) and svc.output_errors > 0 and Broken.closed


def test_asterix_udp_feed_through_service() -> None:
    """CAT021 ADS-B and CAT048 plots of the bundled demo capture, sent over UDP."""
    import socket

    from skyfuse.cli.demo import demo_dir
    from skyfuse.ingest.asterix_source import iter_asterix_file
    from skyfuse.measure.sensors import load_sensors

    payloads = [d.payload for _, d in zip(range(600), iter_asterix_file(
        demo_dir() / "asterix.pcap"), strict=False)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = LiveState()
    cfg = Config(feeds=(FeedConfig(kind="asterix-udp", address=f"127.0.0.1:{port}"),))
    svc = Service(cfg, state, [], sensors=load_sensors(demo_dir() / "sensors.toml"))

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(svc.run(stop))
        t_bound = time.monotonic() + 20                            # the listener binds
        while not svc.sources()[0].connected and time.monotonic() < t_bound:
            await asyncio.sleep(0.02)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for p in payloads:
                tx.sendto(p, ("127.0.0.1", port))
                await asyncio.sleep(0.001)
        t_end = time.monotonic() + 20
        while len(state.view()) < 5 and time.monotonic() < t_end:
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(go())
    v = state.view()
    assert len(v) >= 5
    names = {n for m in v.sensors.tolist() for n in state.sensor_names(int(m))}
    assert names <= {"CDG MSSR", "ADS-B ground station"} and names
    src = svc.sources()[0]
    assert src.kind == "asterix-udp" and 100 < src.frames <= len(payloads)
    assert not src.connected                                       # stopped: unbound
    assert [s.name for s in state.sensors] == ["CDG MSSR", "ADS-B ground station"]
    per_sensor = {s.name: s for s in svc.sources()[1:]}
    assert per_sensor["CDG MSSR"].frames > 0 and per_sensor["CDG MSSR"].connected
    assert per_sensor["ADS-B ground station"].frames > 0


def test_a_failing_source_stops_the_service_with_its_error() -> None:
    async def broken(host: str, port: int) -> object:
        raise ValueError("feed exploded")

    cfg = Config(feeds=(FeedConfig(kind="beast", address="192.0.2.1:30005"),))
    svc = Service(cfg, LiveState(), [], connector=broken)  # type: ignore[arg-type]

    async def go() -> None:
        await asyncio.wait_for(svc.run(asyncio.Event()), 10)

    with pytest.raises(ValueError, match="feed exploded"):
        asyncio.run(go())
