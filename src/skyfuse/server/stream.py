"""WebSocket hub for ``/api/v1/stream``: a snapshot, then diffs, coalesced per client.

Protocol (version 1): the server sends text messages, each one JSON object —
first ``{"type": "snapshot", "time", "tracks": [TRACK...]}``, then
``{"type": "diff", "time", "upsert": [TRACK...], "remove": [track_id...]}`` whenever
something changed, at most one message per ``interval_s`` per client. A client that
applies them in order holds exactly the server's state (``upsert`` and ``remove`` of one
diff never share an id, so their order within a diff does not matter). Messages from the client are
read and ignored (bounded by the server's WebSocket frame limit).

Coalescing. A client owns no queue: its whole backlog is one number, the state ``seq``
it has been sent up to, plus a "dirty" flag set when the state changes. Its task wakes on
the flag, asks :meth:`LiveState.changes` for everything after its ``seq`` (the latest row
of each changed track, and the removed ids) and sends that as one diff. A client that
reads slowly blocks only its own ``send`` (the server's flow control); meanwhile updates
pile up as a larger ``seq`` gap, not as messages, so memory per client is constant and
neither the tracker nor other clients wait. When it reads again it gets one merged diff
that brings it to the current state. If its ``seq`` has fallen behind the state's
removal log, it is sent a fresh snapshot instead.

Clients with the same ``seq`` share the encoded message (a small cache keyed by
``(since, seq, tentative)``), so many clients cost one encoding per change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from skyfuse.server.schema import time_token, tracks_json
from skyfuse.server.state import LiveState

__all__ = ["StreamHub"]


class _Client:
    __slots__ = ("dirty", "loop", "messages", "seq")

    def __init__(self) -> None:
        self.dirty = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.seq = 0
        self.messages = 0


class StreamHub:
    """Serves ``/api/v1/stream`` clients from ``state`` (see the module docstring)."""

    def __init__(self, state: LiveState, *, interval_s: float = 0.5,
                 max_clients: int = 64) -> None:
        self.state = state
        self.interval_s = interval_s
        self.max_clients = max_clients
        self._clients: set[_Client] = set()
        self._cache: dict[tuple[int, int, bool], str] = {}
        self.sent_messages = 0
        self.sent_bytes = 0
        state.add_listener(self._on_change)

    @property
    def clients(self) -> int:
        """Connected clients."""
        return len(self._clients)

    def close(self) -> None:
        """Stop listening to the state."""
        self.state.remove_listener(self._on_change)

    def _on_change(self) -> None:
        """Called by the state's writer (any thread): mark every client dirty, on the
        client's own event loop."""
        for c in list(self._clients):
            if not c.loop.is_closed():
                with contextlib.suppress(RuntimeError):  # loop closing
                    c.loop.call_soon_threadsafe(c.dirty.set)

    def _encode(self, key: tuple[int, int, bool], build: Callable[[], str]) -> str:
        text = self._cache.get(key)
        if text is None:
            text = build()
            if len(self._cache) >= 16:
                self._cache.clear()
            self._cache[key] = text
        return text

    def _snapshot(self, tentative: bool) -> tuple[int, str]:
        v = self.state.view(tentative)
        return v.seq, self._encode((-1, v.seq, tentative), lambda: (
            f'{{"type":"snapshot","time":{time_token(v.time_s)},'
            f'"tracks":{tracks_json(v, self.state.sensor_names)}}}'))

    def _diff(self, since: int, tentative: bool) -> tuple[int, str | None]:
        ch = self.state.changes(since, tentative)
        if ch is None:
            return self._snapshot(tentative)
        v = ch.upsert
        if len(v) == 0 and len(ch.remove) == 0:
            return v.seq, None
        return v.seq, self._encode((since, v.seq, tentative), lambda: (
            f'{{"type":"diff","time":{time_token(v.time_s)},'
            f'"upsert":{tracks_json(v, self.state.sensor_names)},'
            f'"remove":{json.dumps(ch.remove.tolist())}}}'))

    async def serve(self, ws: WebSocket, tentative: bool = False) -> None:
        """Run one client until it disconnects."""
        if len(self._clients) >= self.max_clients:
            await ws.close(code=1013, reason="too many clients")
            return
        client = _Client()
        self._clients.add(client)                # counted before the handshake's await
        reader: asyncio.Future[None] | None = None
        try:
            await ws.accept()
            reader = asyncio.ensure_future(self._drain(ws))
            client.seq, text = self._snapshot(tentative)
            await self._send(ws, text)
            last = time.monotonic()
            while not reader.done():
                waiter = asyncio.ensure_future(client.dirty.wait())
                await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if reader.done():
                    break
                pause = self.interval_s - (time.monotonic() - last)
                if pause > 0:
                    await asyncio.sleep(pause)
                client.dirty.clear()
                seq, msg = self._diff(client.seq, tentative)
                client.seq = seq
                if msg is None:
                    continue
                await self._send(ws, msg)
                client.messages += 1
                last = time.monotonic()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass                                          # the client went away mid-send
        finally:
            self._clients.discard(client)
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader

    async def _send(self, ws: WebSocket, text: str) -> None:
        await ws.send_text(text)
        self.sent_messages += 1
        self.sent_bytes += len(text)

    @staticmethod
    async def _drain(ws: WebSocket) -> None:
        """Read (and ignore) client messages until it disconnects."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
