"""SBS BaseStation output: track updates as ``MSG`` lines on TCP (port 30003 convention).

Virtual Radar Server, tar1090-style tools and many scripts read this format. Each line has
22 comma-separated fields (the layout :mod:`skyfuse.ingest.sbs` reads back)::

    0 MSG  1 type  2 session id  3 aircraft id  4 hex ident  5 flight id
    6 date generated  7 time generated  8 date logged  9 time logged
    10 callsign  11 altitude ft  12 ground speed kt  13 track deg  14 lat  15 lon
    16 vertical rate ft/min  17 squawk  18 alert  19 emergency  20 SPI  21 on ground

What skyfuse sends per track update (fields not listed are empty):

| line      | sent                                   | fields                        |
|-----------|----------------------------------------|-------------------------------|
| ``MSG,3`` | every update with a position           | 11 altitude (barometric, if   |
|           |                                        | known), 14 lat, 15 lon        |
| ``MSG,4`` | every update                           | 12 ground speed, 13 track,    |
|           |                                        | 16 vertical rate (if known)   |
| ``MSG,1`` | callsign known: when it changes, else  | 10 callsign                   |
|           | every ``ident_period_s``               |                               |
| ``MSG,6`` | Mode 3/A known: same rule as ``MSG,1`` | 17 squawk, 18 alert 0,        |
|           |                                        | 19 emergency (-1 for 7500,    |
|           |                                        | 7600, 7700, else 0), 20 SPI 0 |

- Session id is 1; aircraft id and flight id are the system track number.
- Dates ``YYYY/MM/DD``, times ``HH:MM:SS.fff``, both generated and logged = the update's
  own time ``t_s`` in UTC (skyfuse never stamps output with the wall clock).
- Hex ident: the ICAO 24-bit address as 6 upper-case hex digits. A track without an address
  (a radar-only track) has none to give: it is sent as ``~`` followed by its track number
  as 6 hex digits (``~00002A``), readsb's marker for a non-ICAO address, so clients keep
  such tracks apart from aircraft addresses; ``anonymous=False`` leaves them out. Readers
  expecting a hex address, skyfuse's own included, skip these lines as bad frames.
- On ground (field 21) is left empty: the tracker does not know it.

Server: :class:`SbsServer` is an asyncio TCP server; any number of clients (up to
``max_clients``); what clients send is read and discarded. ``publish(rows)`` may be called
from any thread: it hands the rows to the event loop (``call_soon_threadsafe``), which
formats them once (only when a client is connected) and writes the same bytes to every
client. A client whose unsent bytes would pass ``max_client_buffer_bytes`` with the new
batch misses that batch (whole batches are dropped, never half a line; counted in
``stats``; a batch reaching a client with nothing pending is always sent, so one client
holds at most the limit plus one batch): a slow client never slows publish, the loop, or
the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skyfuse.outputs.base import column, ground_velocity
from skyfuse.runtime.tracks_csv import TrackRows

__all__ = ["SbsServer", "format_sbs", "lines_of", "sbs_datetimes"]

_EMERGENCY = {0o7500, 0o7600, 0o7700}
_MAX_PENDING_BATCHES = 8


def sbs_datetimes(t_s: NDArray[np.float64]) -> tuple[list[str], list[str]]:
    """UTC epoch seconds → (``YYYY/MM/DD``, ``HH:MM:SS.fff``) strings, millisecond rounded."""
    t = np.where(np.isfinite(t_s), t_s, 0.0)
    ms = np.round(t * 1000.0).astype(np.int64).astype("datetime64[ms]")
    iso = np.datetime_as_string(ms, unit="ms").tolist()       # 2026-12-01T18:00:00.123
    return [s[:10].replace("-", "/") for s in iso], [s[11:23] for s in iso]


def _opt(v: float, digits: int) -> str:
    return "" if math.isnan(v) else f"{v:.{digits}f}"


def format_sbs(rows: TrackRows, ident: NDArray[np.bool_] | None = None, *,
               anonymous: bool = True) -> bytes:
    """The SBS lines of ``rows`` (see the module docstring), ``\\r\\n``-terminated.

    ``ident`` selects the rows whose ``MSG,1`` / ``MSG,6`` lines are sent (default: every
    row with a callsign / Mode 3/A code). Pure: no state, no clock.
    """
    n = len(rows)
    if n == 0:
        return b""
    send_ident = np.ones(n, bool) if ident is None else np.asarray(ident, bool)
    dates, times = sbs_datetimes(np.asarray(rows.t_s, np.float64))
    gs_kt, track_deg = ground_velocity(np.asarray(rows.vx_mps, np.float64),
                                       np.asarray(rows.vy_mps, np.float64))
    vrate = column(rows, "vrate_fpm", np.nan, np.float64).tolist()
    mode3a = column(rows, "mode3a", -1, np.int64).tolist()
    out: list[str] = []
    for (d, tm, tid, a, cs, lat, lon, alt, gs, trk, vr, m3a, ide) in zip(
            dates, times, rows.track_id.tolist(), rows.icao24.tolist(),
            rows.callsign.tolist(), rows.lat_deg.tolist(), rows.lon_deg.tolist(),
            rows.alt_ft.tolist(), gs_kt.tolist(), track_deg.tolist(), vrate, mode3a,
            send_ident.tolist(), strict=True):
        if a >= 0:
            hexid = f"{a & 0xFFFFFF:06X}"
        elif anonymous:
            hexid = f"~{tid & 0xFFFFFF:06X}"
        else:
            continue
        head = f"{hexid},{tid},{d},{tm},{d},{tm}"
        if ide:
            call = cs.decode("ascii", "replace").strip().replace(",", " ")
            if call:
                out.append(f"MSG,1,1,{tid},{head},{call},,,,,,,,,,,\r\n")
            if m3a >= 0:
                emerg = "-1" if m3a in _EMERGENCY else "0"
                out.append(f"MSG,6,1,{tid},{head},,,,,,,,{m3a & 0o7777:04o},0,{emerg},0,\r\n")
        if not (math.isnan(lat) or math.isnan(lon)):
            out.append(f"MSG,3,1,{tid},{head},,{_opt(alt, 0)},,,{lat:.5f},{lon:.5f},,,,,,\r\n")
        if not math.isnan(gs):
            vrs = "" if math.isnan(vr) else f"{vr:.0f}"
            out.append(f"MSG,4,1,{tid},{head},,,{gs:.1f},{trk:.1f},,,{vrs},,,,,\r\n")
    return "".join(out).encode("ascii", "replace")


class SbsServer:
    """Serves SBS lines of the published track updates to TCP clients.

    ``await start()`` binds (``port=0``: a free port; the bound one is in :attr:`port`);
    ``publish(rows)`` from any thread; ``close()`` (any thread) or ``await aclose()`` stops.
    :attr:`stats`: ``clients``, ``bytes_sent``, ``lines_sent``, ``batches_dropped`` (a slow
    client's missed batches, summed over clients), ``batches_skipped`` (loop behind).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 30003, *,
                 max_client_buffer_bytes: int = 1 << 20, ident_period_s: float = 10.0,
                 max_clients: int = 64, anonymous: bool = True) -> None:
        self.host = host
        self.port = port
        self.max_client_buffer_bytes = int(max_client_buffer_bytes)
        self.ident_period_s = float(ident_period_s)
        self.max_clients = int(max_clients)
        self.anonymous = anonymous
        self.stats: dict[str, int] = {"clients": 0, "bytes_sent": 0, "lines_sent": 0,
                                      "batches_dropped": 0, "batches_skipped": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ident_sent: dict[int, tuple[bytes, int, float]] = {}
        self._pending = 0                 # batches handed to the loop, not yet broadcast
        self._pending_lock = threading.Lock()

    async def start(self) -> int:
        """Bind and start accepting clients; returns the bound port."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    @property
    def clients(self) -> int:
        """Number of connected clients."""
        return len(self._writers)

    def publish(self, rows: TrackRows) -> None:
        """Send ``rows`` to every client (returns at once; never blocks on a client).
        Before :meth:`start` or after the loop closed, the rows are ignored."""
        loop = self._loop
        if loop is None or loop.is_closed() or len(rows) == 0:
            return
        with self._pending_lock:
            if self._pending >= _MAX_PENDING_BATCHES:   # the loop is far behind: drop
                self.stats["batches_skipped"] += 1
                return
            self._pending += 1
        try:
            loop.call_soon_threadsafe(self._broadcast, rows)
        except RuntimeError:                            # loop closed meanwhile
            with self._pending_lock:
                self._pending -= 1

    def _idents(self, rows: TrackRows) -> NDArray[np.bool_]:
        """Which rows get MSG,1 / MSG,6: identity changed or ``ident_period_s`` elapsed."""
        mode3a = column(rows, "mode3a", -1, np.int64).tolist()
        out = np.zeros(len(rows), bool)
        sent = self._ident_sent
        for i, (tid, cs, m, t) in enumerate(zip(rows.track_id.tolist(), rows.callsign.tolist(),
                                                mode3a, rows.t_s.tolist(), strict=True)):
            prev = sent.get(tid)
            if prev is None or prev[0] != cs or prev[1] != m or not t - prev[2] < \
                    self.ident_period_s:
                out[i] = True
                sent[tid] = (cs, m, t)
        if len(sent) > 200_000:                         # forget long-gone tracks
            sent.clear()
        return out

    def _broadcast(self, rows: TrackRows) -> None:
        with self._pending_lock:
            self._pending -= 1
        if not self._writers:
            return
        data = format_sbs(rows, self._idents(rows), anonymous=self.anonymous)
        if not data:
            return
        lines = data.count(b"\n")
        for w in list(self._writers):
            tr = w.transport
            if tr.is_closing():
                continue
            held = tr.get_write_buffer_size()
            if held and held + len(data) > self.max_client_buffer_bytes:
                self.stats["batches_dropped"] += 1
                continue
            w.write(data)
            self.stats["bytes_sent"] += len(data)
            self.stats["lines_sent"] += lines

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._writers) >= self.max_clients:
            writer.close()
            return
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.stats["clients"] = len(self._writers)
        try:
            while await reader.read(4096):             # discard what clients send
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            self.stats["clients"] = len(self._writers)
            writer.close()

    def _close_now(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    async def aclose(self) -> None:
        """Stop accepting, disconnect every client (from the server's loop)."""
        self._close_now()
        if self._tasks:                          # client handlers see EOF and end
            await asyncio.wait(set(self._tasks), timeout=2.0)
        if self._server is not None:
            await self._server.wait_closed()

    def close(self) -> None:
        """Stop the server from any thread (does not wait)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running: Any = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._close_now()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._close_now)


def lines_of(data: bytes) -> Iterable[list[str]]:
    """Split SBS bytes into field lists (a helper for tests and debugging)."""
    return (ln.split(",") for ln in data.decode("ascii").splitlines() if ln)
