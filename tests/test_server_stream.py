"""WebSocket stream over a real uvicorn server: snapshot, diffs, a slow client coalesced."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import uvicorn
from websockets.asyncio.client import connect

from skyfuse.cli.serve import _QuietServer
from skyfuse.runtime.config import ServerConfig
from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.server.app import create_app
from skyfuse.server.state import LiveState


def rows(ids: np.ndarray, t_s: float, lat: np.ndarray | float = 48.0) -> TrackRows:
    n = len(ids)
    return TrackRows(
        t_s=np.full(n, t_s), track_id=ids.astype(np.int64), status=np.ones(n, np.int8),
        lat_deg=np.broadcast_to(lat, (n,)).astype(np.float64), lon_deg=np.full(n, 2.0),
        alt_ft=np.full(n, 35000.0), icao24=(0x400000 + ids).astype(np.int32),
        callsign=np.array([b"SLOW%d" % i for i in ids.tolist()], "S8"),
        vx_mps=np.full(n, 200.0), vy_mps=np.full(n, 10.0))


class _Server:
    """The app on a free 127.0.0.1 port, served by uvicorn in a thread."""

    def __init__(self, state: LiveState, cfg: ServerConfig) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        app = create_app(state, cfg)
        self.server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                  access_log=False))
        self.thread = threading.Thread(target=lambda: asyncio.run(
            self.server.serve(sockets=[self.sock])), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def served() -> Iterator[tuple[LiveState, _Server]]:
    state = LiveState()
    srv = _Server(state, ServerConfig(ws_interval_s=0.05))
    try:
        yield state, srv
    finally:
        srv.close()


def _apply(held: dict[int, dict[str, Any]], msg: dict[str, Any]) -> None:
    if msg["type"] == "snapshot":
        held.clear()
        held.update({t["track_id"]: t for t in msg["tracks"]})
    else:
        for i in msg["remove"]:
            held.pop(i, None)
        held.update({t["track_id"]: t for t in msg["upsert"]})


def test_snapshot_then_diffs_with_upsert_and_remove(served: tuple[LiveState, _Server]) -> None:
    state, srv = served
    state.update(rows(np.arange(1, 6), 100.0))

    async def go() -> list[dict[str, Any]]:
        async with connect(f"ws://127.0.0.1:{srv.port}/api/v1/stream") as ws:
            first = json.loads(await ws.recv())
            state.update(rows(np.array([2, 7]), 101.0, lat=49.0))
            state.retain(np.array([2, 3, 4, 5, 7]))
            seen = [first]
            held: dict[int, dict[str, Any]] = {}
            _apply(held, first)
            while set(held) != {2, 3, 4, 5, 7}:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                seen.append(msg)
                _apply(held, msg)
            assert held[7]["lat_deg"] == 49.0 and held[2]["lat_deg"] == 49.0
            return seen

    seen = asyncio.run(go())
    assert seen[0]["type"] == "snapshot" and len(seen[0]["tracks"]) == 5
    assert set(seen[0]) == {"type", "time", "tracks"}
    diffs = seen[1:]
    assert diffs and all(set(d) == {"type", "time", "upsert", "remove"} for d in diffs)
    assert {i for d in diffs for i in d["remove"]} == {1}
    assert {t["track_id"] for d in diffs for t in d["upsert"]} == {2, 7}


def test_slow_client_is_coalesced_and_never_slows_the_writer(
        served: tuple[LiveState, _Server]) -> None:
    """A stand-in tracker updates 3,000 tracks as fast as it can; a slow client reads one
    message and sleeps; a fast client keeps reading. The writer's step count keeps
    rising while the slow client sleeps, and when it reads again it catches up with a
    few merged messages to exactly the current state."""
    state, srv = served
    ids = np.arange(1, 3001)
    state.update(rows(ids, 0.0))
    steps = [0]
    running = threading.Event()
    running.set()

    def tracker() -> None:
        while running.is_set():
            steps[0] += 1
            k = steps[0]
            state.update(rows(ids, float(k), lat=48.0 + (k % 1000) * 1e-3))
            if k % 50 == 0:                              # some tracks end, new ones start
                state.remove([int(ids[k % len(ids)])])
            time.sleep(0.002)

    async def go() -> dict[str, Any]:
        url = f"ws://127.0.0.1:{srv.port}/api/v1/stream"
        async with connect(url, compression=None, max_size=None, max_queue=1) as slow, \
                connect(url, compression=None, max_size=None) as fast:
            held_slow: dict[int, dict[str, Any]] = {}
            _apply(held_slow, json.loads(await slow.recv()))   # one message, then asleep
            fast_msgs = 0
            t_end = time.monotonic() + 2.0
            s0 = steps[0]
            while time.monotonic() < t_end:                    # the slow one sleeps 2 s
                await asyncio.wait_for(fast.recv(), 5)
                fast_msgs += 1
            steps_while_asleep = steps[0] - s0
            running.clear()
            total = steps[0] - s0
            await asyncio.sleep(0.3)                           # writer stopped
            slow_msgs = 0
            while True:
                try:
                    msg = json.loads(await asyncio.wait_for(slow.recv(), 1.5))
                except TimeoutError:
                    break
                slow_msgs += 1
                _apply(held_slow, msg)
            return {"held": held_slow, "fast": fast_msgs, "slow": slow_msgs,
                    "asleep_steps": steps_while_asleep, "total": total}

    th = threading.Thread(target=tracker, daemon=True)
    th.start()
    try:
        got = asyncio.run(go())
    finally:
        running.clear()
        th.join(5)
    assert got["asleep_steps"] >= 10                     # the writer never waited
    assert got["fast"] >= 3                              # the other client kept going
    now = {int(i): float(la) for i, la in zip(state.view().track_id,
                                              state.view().lat_deg, strict=True)}
    held = {i: t["lat_deg"] for i, t in got["held"].items()}
    assert held == pytest.approx(now)                    # caught up to the current state
    assert got["slow"] < got["total"] / 2                # coalesced, not one per update
    times = {t["t_last_s"] for t in got["held"].values()}
    assert times == {float(steps[0])}


def test_client_limit_holds_during_concurrent_handshakes() -> None:
    """Regression: a client was counted only after ``accept`` returned, so handshakes in
    flight together all passed the ``max_clients`` check."""
    from skyfuse.server.stream import StreamHub

    class FakeSocket:
        def __init__(self, gate: asyncio.Event, gone: asyncio.Event) -> None:
            self.gate, self.gone = gate, gone
            self.accepted = False
            self.closed: int | None = None
            self.sent: list[str] = []

        async def accept(self) -> None:
            await self.gate.wait()                   # the handshake takes a while
            self.accepted = True

        async def close(self, code: int = 1000, reason: str = "") -> None:
            self.closed = code

        async def send_text(self, text: str) -> None:
            self.sent.append(text)

        async def receive(self) -> dict[str, Any]:
            await self.gone.wait()
            return {"type": "websocket.disconnect"}

    async def go() -> list[FakeSocket]:
        gate, gone = asyncio.Event(), asyncio.Event()
        hub = StreamHub(LiveState(), max_clients=2)
        socks = [FakeSocket(gate, gone) for _ in range(4)]
        tasks = [asyncio.ensure_future(hub.serve(s)) for s in socks]  # type: ignore[arg-type]
        for _ in range(3):
            await asyncio.sleep(0)                   # every handshake has started
        gate.set()
        for _ in range(50):
            await asyncio.sleep(0)
        assert hub.clients == 2
        gone.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert hub.clients == 0
        return socks

    socks = asyncio.run(go())
    assert [s.accepted for s in socks] == [True, True, False, False]
    assert [s.closed for s in socks] == [None, None, 1013, 1013]
    assert all(len(s.sent) == 1 and '"type":"snapshot"' in s.sent[0] for s in socks[:2])
