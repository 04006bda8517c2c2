"""SBS BaseStation output: exact line layout, read back by skyfuse's own SBS reader and by
plain TCP clients; slow clients drop, never block."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import numpy as np

from output_helpers import Extra
from skyfuse.ingest.sbs import SbsParser
from skyfuse.outputs.base import KT_TO_MPS, TrackOutput
from skyfuse.outputs.sbs_out import SbsServer, format_sbs, lines_of
from skyfuse.runtime.tracks_csv import TrackRows

T0 = 1_764_612_000.0            # 2025-12-01T18:00:00Z


def rows3(t0: float = T0) -> TrackRows:
    return TrackRows(
        t_s=np.array([t0 + 0.1234, t0 + 1.0, t0 + 2.5]), track_id=np.array([40, 41, 42]),
        status=np.ones(3, np.int8), lat_deg=np.array([47.1, np.nan, -33.9]),
        lon_deg=np.array([8.1, 8.2, 151.2]), alt_ft=np.array([35000.0, np.nan, 1200.0]),
        icao24=np.array([0x4B1234, -1, 0x7C0001], np.int32),
        callsign=np.array([b"SWR123", b"", b"QFA1"], "S8"),
        vx_mps=np.array([100.0, 0.0, -50.0]), vy_mps=np.array([0.0, 100.0, 50.0]))


def test_lines_have_the_basestation_layout() -> None:
    data = format_sbs(rows3())
    assert data.endswith(b"\r\n")
    fields = list(lines_of(data))
    assert all(len(f) == 22 for f in fields)
    kinds = [(f[1], f[4]) for f in fields]
    assert kinds == [("1", "4B1234"), ("3", "4B1234"), ("4", "4B1234"), ("4", "~000029"),
                     ("1", "7C0001"), ("3", "7C0001"), ("4", "7C0001")]
    m3 = fields[1]
    assert m3[:10] == ["MSG", "3", "1", "40", "4B1234", "40", "2025/12/01", "18:00:00.123",
                       "2025/12/01", "18:00:00.123"]
    assert m3[11] == "35000" and m3[14:16] == ["47.10000", "8.10000"]
    assert fields[0][10] == "SWR123"
    m4 = fields[6]
    assert m4[12:14] == [f"{np.hypot(50, 50) / KT_TO_MPS:.1f}", "315.0"]


def test_read_back_through_skyfuse_sbs_reader() -> None:
    rows = rows3()
    p = SbsParser(keep_errors=True)
    b = p.feed(format_sbs(rows))
    # the non-ICAO track's line ("~000029") is no 24-bit address: skipped, counted
    assert p.counters.bad_frames == 1 and len(b) == 6
    assert b.msg_type.tolist() == [1, 3, 4, 1, 3, 4]
    assert b.icao24.tolist() == [0x4B1234] * 3 + [0x7C0001] * 3
    np.testing.assert_allclose(b.t_s, np.repeat(rows.t_s[[0, 2]], 3), atol=5e-4)
    assert b.callsign.tolist() == [b"SWR123", b"", b"", b"QFA1", b"", b""]
    pos = b.msg_type == 3
    np.testing.assert_allclose(b.lat_deg[pos], [47.1, -33.9], atol=5e-6)
    np.testing.assert_allclose(b.lon_deg[pos], [8.1, 151.2], atol=5e-6)
    assert b.alt_ft[pos].tolist() == [35000.0, 1200.0]
    vel = b.msg_type == 4
    np.testing.assert_allclose(b.gs_kt[vel], [100 / KT_TO_MPS, np.hypot(50, 50) / KT_TO_MPS],
                               atol=0.05)
    np.testing.assert_allclose(b.track_deg[vel], [90.0, 315.0], atol=0.05)


def test_optional_fields_squawk_and_vertical_rate() -> None:
    rows = Extra(rows3(), mode3a=np.array([0o7700, 0o1234, -1], np.int16),
                 vrate_fpm=np.array([-1500.0, np.nan, 640.0]))
    data = format_sbs(rows)  # type: ignore[arg-type]
    b = SbsParser().feed(data)
    six = b.msg_type == 6
    assert b.squawk[six].tolist() == [0o7700]                 # track 41 has no address
    m6 = [f for f in lines_of(data) if f[1] == "6"]
    assert [f[17] for f in m6] == ["7700", "1234"] and m6[0][19] == "-1" and m6[1][19] == "0"
    assert b.vrate_fpm[b.msg_type == 4].tolist() == [-1500.0, 640.0]
    # ident rows not selected: no MSG,1 / MSG,6 at all
    quiet = format_sbs(rows, np.zeros(3, bool))  # type: ignore[arg-type]
    assert {f[1] for f in lines_of(quiet)} == {"3", "4"}
    assert all(f[4][0] != "~" for f in lines_of(format_sbs(rows3(), anonymous=False)))


async def _read_lines(reader: asyncio.StreamReader, n: int) -> list[bytes]:
    out = []
    while len(out) < n:
        out.append(await asyncio.wait_for(reader.readline(), 20))
    return out


def test_plain_tcp_clients_receive_the_lines() -> None:
    async def main() -> None:
        srv = SbsServer("127.0.0.1", 0, ident_period_s=10.0)
        assert isinstance(srv, TrackOutput)
        port = await srv.start()
        assert port != 0
        clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _ in range(100):
            if srv.clients == 3:
                break
            await asyncio.sleep(0.01)
        assert srv.clients == 3
        # publish from another thread, as the tracker does
        t = threading.Thread(target=lambda: [srv.publish(rows3(T0 + 5 * i)) for i in range(2)])
        t.start()
        t.join()
        got = [await _read_lines(r, 7 + 5) for r, _ in clients]
        assert got[0] == got[1] == got[2]
        b = SbsParser().feed(b"".join(got[0]))
        # second batch, 5 s later: ident period not elapsed → no MSG,1 again
        assert b.msg_type.tolist() == [1, 3, 4, 1, 3, 4, 3, 4, 3, 4]
        assert srv.stats["lines_sent"] == 3 * 12
        for _, w in clients:
            w.close()
        await srv.aclose()

    asyncio.run(main())


def test_blocking_socket_client() -> None:
    """A plain (non-asyncio) TCP client, as VRS or a script would connect."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            srv = SbsServer("127.0.0.1", 0)
            box["port"] = await srv.start()
            box["srv"] = srv
            box["loop"] = asyncio.get_running_loop()
            box["stop"] = asyncio.Event()
            ready.set()
            await box["stop"].wait()
            await srv.aclose()
        asyncio.run(main())

    th = threading.Thread(target=serve)
    th.start()
    assert ready.wait(20)
    srv: SbsServer = box["srv"]
    with socket.create_connection(("127.0.0.1", box["port"]), timeout=20) as s:
        deadline = time.monotonic() + 20         # the server's thread accepts (loaded CI)
        while not srv.clients and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        srv.publish(rows3())
        buf = b""
        while buf.count(b"\n") < 7:
            chunk = s.recv(65536)
            assert chunk, f"the server closed the connection after {buf!r}"
            buf += chunk
    box["loop"].call_soon_threadsafe(box["stop"].set)
    th.join(20)
    assert [f[1] for f in lines_of(buf)] == ["1", "3", "4", "4", "1", "3", "4"]
    assert buf == format_sbs(rows3())


def big_rows(n: int, t: float) -> TrackRows:
    ids = np.arange(n)
    return TrackRows(
        t_s=np.full(n, t), track_id=ids.astype(np.int64), status=np.ones(n, np.int8),
        lat_deg=40 + ids * 1e-3, lon_deg=np.full(n, 2.0), alt_ft=np.full(n, 30000.0),
        icao24=(0x300000 + ids).astype(np.int32),
        callsign=np.array([b"X%d" % i for i in ids], "S8"),
        vx_mps=np.full(n, 200.0), vy_mps=np.full(n, 5.0))


def test_slow_client_drops_and_never_blocks_the_others() -> None:
    batches = 40
    first = big_rows(1000, T0)
    expected = len(format_sbs(first)) + (batches - 1) * len(
        format_sbs(first, np.zeros(len(first), bool)))

    async def main() -> None:
        srv = SbsServer("127.0.0.1", 0, max_client_buffer_bytes=256 * 1024,
                        ident_period_s=1e9)
        port = await srv.start()
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.setblocking(False)
        fast_r, fast_w = await asyncio.open_connection("127.0.0.1", port)
        received = 0

        async def drain() -> None:
            nonlocal received
            while chunk := await fast_r.read(1 << 20):
                received += len(chunk)

        reader = asyncio.create_task(drain())
        try:
            await asyncio.get_running_loop().sock_connect(slow, ("127.0.0.1", port))
            for _ in range(500):
                if srv.clients == 2:
                    break
                await asyncio.sleep(0.01)
            assert srv.clients == 2
            want = 0
            for k in range(batches):             # ~200 KB per batch; slow never reads
                rows = big_rows(1000, T0 + k)
                srv.publish(rows)
                want += len(format_sbs(rows, np.full(len(rows), k == 0)))
                for _ in range(2000):            # the fast client keeps up: it has read
                    if received >= want:         # this batch before the next one comes
                        break
                    await asyncio.sleep(0.005)
            assert received == expected                   # the fast one got every batch
            assert srv.stats["batches_dropped"] > 0       # the slow client missed batches
            assert srv.stats["batches_skipped"] == 0
        finally:
            fast_w.close()
            reader.cancel()
            slow.close()
            await srv.aclose()

    asyncio.run(main())
