"""Mode S feeds: reconnect with back-off on a fake transport and on localhost TCP."""

from __future__ import annotations

import asyncio

from modes_helpers import DUMP1090_BEAST
from skyfuse.ingest.stream import TcpFeed, read_file

RAW = DUMP1090_BEAST.read_bytes()


class _FakeStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    async def read(self, n: int) -> bytes:
        await asyncio.sleep(0)
        return self.chunks.pop(0) if self.chunks else b""

    def close(self) -> None:
        self.chunks = []


def test_fake_transport_reconnects_with_backoff() -> None:
    attempts: list[str] = []
    sessions = [[RAW[:2000]], [RAW[2000:]]]

    async def connector(host: str, port: int) -> _FakeStream:
        attempts.append(host)
        if len(attempts) in (1, 3):
            raise ConnectionRefusedError
        return _FakeStream(sessions.pop(0) if sessions else [])

    got: list[bytes] = []

    async def main() -> TcpFeed:
        stop = asyncio.Event()

        def sink(feed: TcpFeed, batch) -> None:
            got.extend(batch.data)
            if feed.counters.frames >= 238:
                stop.set()

        feed = TcpFeed("fake", "h", 1, "beast", sink, connector=connector, backoff_s=0.01)
        await asyncio.wait_for(feed.run(stop), 10)
        return feed

    feed = asyncio.run(main())
    assert feed.counters.connects == 2 and len(attempts) == 4
    # the frame cut by the drop is lost; every other frame arrives
    assert len(got) >= 238 and feed.counters.bad_frames <= 2
    assert feed.counters.last_seen_s > 0


def test_tcp_feed_reconnects_after_server_drop() -> None:
    got: list[bytes] = []
    second: list[bytes] = []

    async def main() -> TcpFeed:
        conns = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal conns
            conns += 1
            writer.write(RAW if conns > 1 else RAW[:1000])
            await writer.drain()
            writer.close()  # drop the client

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()

        def sink(feed: TcpFeed, batch) -> None:
            got.extend(batch.data)
            if feed.counters.connects == 2:
                second.extend(batch.data)
            if len(second) >= 239:
                stop.set()

        feed = TcpFeed("local", "127.0.0.1", port, "beast", sink, backoff_s=0.05)
        try:
            await asyncio.wait_for(feed.run(stop), 20)
        finally:
            server.close()
            await server.wait_closed()
        return feed

    feed = asyncio.run(main())
    assert feed.counters.connects >= 2
    whole = [f for _, b in read_file(DUMP1090_BEAST) for f in b.data]
    assert second == whole
    assert len(got) > len(second)
