"""History store: every track update appended to an SQLite file in WAL mode.

Why SQLite in WAL mode (docs/history.md argues it against DuckDB): ``skyfuse history`` and
the API must read while ``skyfuse serve`` writes. WAL lets any number of readers (other
processes included) work beside one writer, each reader seeing the last committed
transaction; DuckDB lets only one process open a file read-write.

Writing (:class:`HistoryStore`): ``publish(rows)`` only appends the arrays to a bounded
in-memory list (never blocks the tracker; past ``max_pending_rows`` a batch is dropped and
counted). A writer thread wakes every ``flush_s`` seconds (or on :meth:`~HistoryStore.flush`
/ :meth:`~HistoryStore.close`) and appends everything pending in **one transaction**
(``executemany``), together with the ``track_key`` spans the batch extends, so the file
holds whole batches only and the summary always covers the rows.

Durability: ``journal_mode=WAL`` with ``synchronous=NORMAL``. A commit appends the
transaction to the ``-wal`` file (``write()``, no fsync); the WAL is fsynced at each
checkpoint. After a *process* crash (kill -9) every committed transaction is in the OS page
cache and survives: the store loses only the batch not yet committed (at most ``flush_s`` of
updates) and is never corrupt (SQLite replays the WAL on the next open; the tests kill -9 a
writer and run ``PRAGMA integrity_check``). After a power failure or OS crash, NORMAL may lose
the transactions since the last checkpoint, never consistency; ``synchronous="FULL"`` fsyncs
every commit instead.

Retention (optional): updates older than ``retention_s`` before the newest update written
(data time: the store never reads a clock) are deleted by the writer, at most
``retention_batch_rows`` per cycle, so a large backlog never stalls appends.

Reading (:class:`HistoryReader`, :func:`query_history`, :func:`trail`): a read-only
connection (``file:...?mode=ro`` URI) that works while a writer runs; queries are bounded
(``limit`` ≤ :data:`MAX_LIMIT`, optional ``max_span_s`` on the time range). A time-only
query reads along the ``(t_s)`` index. A query by address, callsign or area first looks up
in ``track_key`` (see :mod:`skyfuse.outputs.history_schema`) which tracks had that key and
when, then reads each (track, span) through the ``(track_id, t_s)`` index with the exact
filters applied, and merges the spans' sorted cursors (``heapq.merge``) up to ``limit``;
past ``_MAX_SPANS`` spans it falls back to the time index. Results come back as
:class:`~skyfuse.runtime.tracks_csv.TrackRows`, ordered by time then insertion.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import math
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skyfuse.outputs.base import column
from skyfuse.outputs.history_schema import (
    APPLICATION_ID,
    COLUMNS,
    FORMAT,
    KEY_CALLSIGN,
    KEY_CELL,
    KEY_ICAO24,
    KEY_SLACK_S,
    SCHEMA_SQL,
    SCHEMA_VERSION,
    cell_of,
    cells_in_box,
)
from skyfuse.runtime.tracks_csv import TrackRows

__all__ = ["MAX_LIMIT", "HistoryError", "HistoryQueryError", "HistoryReader", "HistoryStore",
           "parse_time_s", "query_history", "trail"]

MAX_LIMIT = 1_000_000
"""Largest ``limit`` a query accepts."""

_MAX_BOX_CELLS = 4096          # more cells than this: filter lat/lon along the time index
_MAX_SPANS = 500               # more (track, time span) pairs than this: the same
_KEY_CACHE_MAX = 1_000_000
_UPSERT_KEY = ("INSERT INTO track_key VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, key, track_id)"
               " DO UPDATE SET t_first_s = min(t_first_s, excluded.t_first_s),"
               " t_last_s = max(t_last_s, excluded.t_last_s)")
_TRAIL_LIMIT = 2_000
_INSERT = (f"INSERT INTO track_update ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")


class HistoryError(Exception):
    """The file cannot be used as a history store (missing, not SQLite, not skyfuse's, or
    a newer schema); the message names the file and the reason."""


class HistoryQueryError(ValueError):
    """A query argument is out of bounds (limit, time span, bounding box)."""


def _check_store(con: sqlite3.Connection, path: str) -> None:
    """Raise :class:`HistoryError` unless ``con`` is a skyfuse store we can read."""
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        ver = con.execute("PRAGMA user_version").fetchone()[0]
        meta = dict(con.execute("SELECT key, value FROM skyfuse_meta").fetchall())
    except sqlite3.DatabaseError as e:          # not SQLite, or no skyfuse_meta table
        raise HistoryError(f"{path}: not a skyfuse history store ({e})") from None
    if app != APPLICATION_ID or meta.get("format") != FORMAT:
        raise HistoryError(f"{path}: not a skyfuse history store "
                           f"(application_id {app:#x}, format {meta.get('format')!r})")
    if ver > SCHEMA_VERSION:
        raise HistoryError(f"{path}: history schema version {ver} is newer than this "
                           f"skyfuse reads ({SCHEMA_VERSION}): upgrade skyfuse")


def _open_writer(path: str, synchronous: str) -> sqlite3.Connection:
    """Open (creating if new) a store for writing; WAL mode; schema checked or created."""
    p = Path(path)
    fresh = not p.exists() or p.stat().st_size == 0
    try:
        con = sqlite3.connect(path, timeout=10.0, check_same_thread=False,
                              isolation_level=None)
    except sqlite3.Error as e:
        raise HistoryError(f"{path}: cannot open ({e})") from None
    try:
        if not fresh:
            _check_store(con, path)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(f"PRAGMA synchronous={synchronous}")
        con.execute("PRAGMA cache_size=-65536")       # 64 MiB: index pages stay cached
        if fresh:
            con.executescript(SCHEMA_SQL)
    except sqlite3.DatabaseError as e:
        con.close()
        raise HistoryError(f"{path}: not a skyfuse history store ({e})") from None
    except HistoryError:
        con.close()
        raise
    return con


def _to_params(rows: TrackRows) -> tuple[list[tuple[Any, ...]], list[int | None]]:
    """One tuple per update in :data:`COLUMNS` order (NaN binds as NULL in SQLite), and
    each update's grid cell (None without a position). Updates without a finite time are
    left out (the caller counts them as dropped)."""
    n = len(rows)
    a: dict[str, NDArray[Any]] = {
        "t_s": np.asarray(rows.t_s, np.float64), "track_id": np.asarray(rows.track_id, np.int64),
        "status": np.asarray(rows.status, np.int64), "lat": np.asarray(rows.lat_deg, np.float64),
        "lon": np.asarray(rows.lon_deg, np.float64), "alt": np.asarray(rows.alt_ft, np.float64),
        "icao": np.asarray(rows.icao24, np.int64), "call": np.asarray(rows.callsign, "S8"),
        "mode3a": column(rows, "mode3a", -1, np.int64), "vx": np.asarray(rows.vx_mps, np.float64),
        "vy": np.asarray(rows.vy_mps, np.float64),
        "vrate": column(rows, "vrate_fpm", np.nan, np.float64),
        "quality": column(rows, "quality", np.nan, np.float64),
        "sensors": column(rows, "sensors", 0, np.int64)}
    if any(len(v) != n for v in a.values()):
        raise ValueError(f"TrackRows columns differ in length (t_s has {n})")
    ok = np.isfinite(a["t_s"])
    if not ok.all():
        a = {k: v[ok] for k, v in a.items()}
    calls = [c.decode("ascii", "replace").replace("\ufffd", "?").strip() or None
             for c in a["call"].tolist()]
    cols = (
        a["t_s"].tolist(), a["track_id"].tolist(), a["status"].tolist(), a["lat"].tolist(),
        a["lon"].tolist(), a["alt"].tolist(), np.where(a["icao"] >= 0, a["icao"], None).tolist(),
        calls, np.where(a["mode3a"] >= 0, a["mode3a"], None).tolist(), a["vx"].tolist(),
        a["vy"].tolist(), a["vrate"].tolist(), a["quality"].tolist(),
        np.where(a["sensors"] > 0, a["sensors"], None).tolist(),
    )
    return list(zip(*cols, strict=True)), cell_of(a["lat"], a["lon"]).tolist()


_KeyId = tuple[int, Any, int]            # (kind, key, track_id)


def _key_spans(params: list[tuple[Any, ...]], cells: list[int | None]
               ) -> dict[_KeyId, list[float]]:
    """[first, last] update time of every (kind, key, track) in a batch."""
    spans: dict[_KeyId, list[float]] = {}
    for row, cell in zip(params, cells, strict=True):
        t, tid, a, cs = row[0], row[1], row[6], row[7]
        for kind, key in ((KEY_ICAO24, a), (KEY_CALLSIGN, cs), (KEY_CELL, cell)):
            if key is None:
                continue
            k = (kind, key, tid)
            sp = spans.get(k)
            if sp is None:
                spans[k] = [t, t]
            elif t < sp[0]:
                sp[0] = t
            elif t > sp[1]:
                sp[1] = t
    return spans


class HistoryStore:
    """Appends track updates to an SQLite history file from a writer thread.

    ``HistoryStore(path, flush_s=1.0, retention_s=None)``; ``publish(rows)`` enqueues (never
    blocks), ``flush()`` waits until everything published so far is committed, ``close()``
    flushes and stops the thread. Raises :class:`HistoryError` at construction when ``path``
    exists and is not a skyfuse store. ``stats`` counts rows written, dropped and deleted.
    """

    def __init__(self, path: str | Path, *, flush_s: float = 1.0,
                 retention_s: float | None = None, max_pending_rows: int = 2_000_000,
                 retention_batch_rows: int = 20_000, synchronous: str = "NORMAL") -> None:
        if flush_s <= 0:
            raise ValueError("flush_s must be > 0")
        if retention_s is not None and retention_s <= 0:
            raise ValueError("retention_s must be > 0")
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self.path = str(path)
        self.flush_s = float(flush_s)
        self.retention_s = retention_s
        self.max_pending_rows = int(max_pending_rows)
        self.retention_batch_rows = int(retention_batch_rows)
        self.stats: dict[str, Any] = {"rows_written": 0, "batches": 0, "rows_dropped": 0,
                                      "rows_deleted": 0, "last_error": None}
        self._con = _open_writer(self.path, synchronous.upper())
        row = self._con.execute("SELECT max(t_s) FROM track_update").fetchone()
        self._t_max_s = float(row[0]) if row and row[0] is not None else -np.inf
        self._lock = threading.Condition()
        self._key_cache: dict[_KeyId, tuple[float, float]] = {}   # what track_key holds
        self._pending: list[TrackRows] = []
        self._pending_rows = 0
        self._published = 0          # batches accepted by publish
        self._committed = 0          # batches committed (or given up) by the writer
        self._closing = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skyfuse-history",
                                        daemon=True)
        self._thread.start()

    def publish(self, rows: TrackRows) -> None:
        """Enqueue ``rows`` for the next batch; drop them (counted) when the backlog is full
        or the store is closed."""
        n = len(rows)
        if n == 0:
            return
        with self._lock:
            if self._closing or self._pending_rows + n > self.max_pending_rows:
                self.stats["rows_dropped"] += n
                return
            self._pending.append(rows)
            self._pending_rows += n
            self._published += 1

    def flush(self, timeout_s: float | None = 30.0) -> bool:
        """Commit everything published so far now; True when done within ``timeout_s``."""
        with self._lock:
            target = self._published
            self._wake.set()
            return self._lock.wait_for(lambda: self._committed >= target or
                                       not self._thread.is_alive(), timeout_s)

    def close(self) -> None:
        """Commit what is pending, stop the writer thread and close the file (idempotent)."""
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join()
        with contextlib.suppress(sqlite3.Error):
            self._con.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_s)
            self._wake.clear()
            with self._lock:
                batch, self._pending, self._pending_rows = self._pending, [], 0
                upto = self._published
                closing = self._closing
            try:
                if batch:
                    self._write(batch)
                if self.retention_s is not None:
                    self._expire()
            except Exception as e:               # bad arrays: lose the batch, not the thread
                self.stats["rows_dropped"] += sum(len(r) for r in batch)
                self.stats["last_error"] = f"{type(e).__name__}: {e}"
            with self._lock:
                self._committed = upto
                self._lock.notify_all()
            if closing:
                with self._lock:
                    if not self._pending:
                        return

    def _write(self, batch: list[TrackRows]) -> None:
        params: list[tuple[Any, ...]] = []
        cells: list[int | None] = []
        for rows in batch:
            p, c = _to_params(rows)
            self.stats["rows_dropped"] += len(rows) - len(p)      # no finite time
            params.extend(p)
            cells.extend(c)
        # track_key rows to refresh: new keys, earlier first times, or last times more
        # than half the slack past what the table holds (readers widen spans by the slack)
        cache = self._key_cache
        keys: list[tuple[Any, ...]] = []
        fresh: dict[_KeyId, tuple[float, float]] = {}
        for k, (t0, t1) in _key_spans(params, cells).items():
            held = cache.get(k)
            if held is None or t0 < held[0] or t1 > held[1] + KEY_SLACK_S / 2:
                span = (t0, t1) if held is None else (min(t0, held[0]), max(t1, held[1]))
                fresh[k] = span
                keys.append((*k, *span))
        try:
            with self._con:                      # one transaction: BEGIN ... COMMIT
                self._con.execute("BEGIN")
                self._con.executemany(_INSERT, params)
                self._con.executemany(_UPSERT_KEY, keys)
        except sqlite3.Error as e:
            self.stats["rows_dropped"] += len(params)
            self.stats["last_error"] = f"{type(e).__name__}: {e}"
            return
        if len(cache) + len(fresh) > _KEY_CACHE_MAX:
            cache.clear()                        # only costs re-sending some keys
        cache.update(fresh)
        self.stats["rows_written"] += len(params)
        self.stats["batches"] += 1
        if params:                               # written times only: all finite
            self._t_max_s = max(self._t_max_s, max(p[0] for p in params))

    def _expire(self) -> None:
        assert self.retention_s is not None
        if not np.isfinite(self._t_max_s):
            return
        cutoff = self._t_max_s - self.retention_s
        try:
            with self._con:
                self._con.execute("BEGIN")
                cur = self._con.execute(
                    "DELETE FROM track_update WHERE rowid IN (SELECT rowid FROM track_update"
                    " WHERE t_s < ? ORDER BY t_s LIMIT ?)", (cutoff, self.retention_batch_rows))
                n = max(cur.rowcount, 0)
                self.stats["rows_deleted"] += n
                if n < self.retention_batch_rows:     # backlog done: drop spent keys
                    gone = self._con.execute("DELETE FROM track_key WHERE t_last_s < ?",
                                             (cutoff - KEY_SLACK_S,)).rowcount
                    if gone > 0:
                        self._key_cache.clear()
        except sqlite3.Error as e:
            self.stats["last_error"] = f"{type(e).__name__}: {e}"


def parse_time_s(text: str, name: str = "time") -> float:
    """A query time → UTC epoch seconds: a finite number of epoch seconds, or ISO 8601
    (``2026-12-01T18:00:00Z``; no zone = UTC). :class:`HistoryQueryError` names ``name``
    and the text otherwise (shared by ``skyfuse history`` and ``/api/v1/history``)."""
    s = text.strip()
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise HistoryQueryError(f"{name} {text!r}: not a finite time")
        return v
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise HistoryQueryError(f"{name} {text!r}: expected ISO 8601 (2026-12-01T18:00:00Z) "
                                "or epoch seconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _track_number(track_id: int) -> int:
    """``track_id`` as an int that SQLite can bind (64-bit), else HistoryQueryError."""
    tid = int(track_id)
    if not -(1 << 63) <= tid < 1 << 63:
        raise HistoryQueryError(f"track_id {track_id}: not a 64-bit track number")
    return tid


def _parse_icao(icao24: int | str) -> int:
    if isinstance(icao24, str):
        s = icao24.strip().lower()
        if not (1 <= len(s) <= 6) or any(c not in "0123456789abcdef" for c in s):
            raise HistoryQueryError(f"icao24 {icao24!r} is not 1-6 hex digits")
        return int(s, 16)
    if not 0 <= int(icao24) < 1 << 24:
        raise HistoryQueryError(f"icao24 {icao24} is not a 24-bit address")
    return int(icao24)


def _bbox_sql(bbox: Sequence[float], where: list[str], args: list[Any]) -> list[int] | None:
    """Add the exact box filter; return the grid cells it covers (None: too many)."""
    if len(bbox) != 4:
        raise HistoryQueryError("bbox needs 4 numbers: lat0,lon0,lat1,lon1")
    lat0, lon0, lat1, lon1 = (float(v) for v in bbox)
    if not all(np.isfinite([lat0, lon0, lat1, lon1])):
        raise HistoryQueryError("bbox values must be finite numbers")
    if not (-90 <= lat0 <= lat1 <= 90):
        raise HistoryQueryError(f"bbox latitudes {lat0}, {lat1}: need -90 <= lat0 <= lat1 <= 90")
    if not (-180 <= lon0 <= 180 and -180 <= lon1 <= 180):
        raise HistoryQueryError(f"bbox longitudes {lon0}, {lon1}: need -180..180")
    where.append("lat_deg BETWEEN ? AND ?")
    args += [lat0, lat1]
    if lon0 <= lon1:
        where.append("lon_deg BETWEEN ? AND ?")
        args += [lon0, lon1]
    else:                                    # crosses the antimeridian
        where.append("(lon_deg >= ? OR lon_deg <= ?)")
        args += [lon0, lon1]
    cells = cells_in_box(lat0, lon0, lat1, lon1)
    return cells if len(cells) <= _MAX_BOX_CELLS else None


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of closed intervals, sorted, overlapping ones joined."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


_ROW_FIELDS = {f.name for f in dataclasses.fields(TrackRows)}


_RESULT_DTYPE = np.dtype([
    ("t_s", "f8"), ("track_id", "i8"), ("status", "i1"), ("lat_deg", "f8"), ("lon_deg", "f8"),
    ("alt_ft", "f8"), ("icao24", "i4"), ("callsign", "S8"), ("mode3a", "i2"), ("vx_mps", "f8"),
    ("vy_mps", "f8"), ("vrate_fpm", "f8"), ("quality", "f4"), ("sensors", "i8")])
_NULLABLE_FLOATS = ("lat_deg", "lon_deg", "alt_ft", "vx_mps", "vy_mps", "vrate_fpm", "quality")


def _rows_from(result: list[tuple[Any, ...]]) -> TrackRows:
    """SELECT results (``_SELECT`` column order) → TrackRows.

    ``_SELECT`` maps NULL to -1 / 0 / '' for integer and text columns and to ``9e999``
    (+inf) for floats, so numpy converts the tuples to one structured array in C; +inf then
    becomes NaN (a stored infinity reads back as NaN). Text that is not ASCII (not written
    by skyfuse) falls back to a slower per-value path.
    """
    try:
        arr = np.array(result, dtype=_RESULT_DTYPE) if result else np.empty(0, _RESULT_DTYPE)
    except (UnicodeEncodeError, ValueError, TypeError, OverflowError):
        fixed = [(*r[:7], str(r[7]).encode("ascii", "replace")[:8], *r[8:]) for r in result]
        arr = np.array(fixed, dtype=_RESULT_DTYPE)
    values: dict[str, Any] = {}
    for name in _RESULT_DTYPE.names or ():
        col = np.ascontiguousarray(arr[name])
        if name in _NULLABLE_FLOATS:
            col[np.isinf(col)] = np.nan
        values[name] = col
    return TrackRows(**{k: v for k, v in values.items() if k in _ROW_FIELDS})


_COLS_SQL = ("t_s, track_id, status, ifnull(lat_deg, 9e999), ifnull(lon_deg, 9e999),"
             " ifnull(alt_ft, 9e999), ifnull(icao24, -1), substr(ifnull(callsign, ''), 1, 8),"
             " ifnull(mode3a, -1), ifnull(vx_mps, 9e999), ifnull(vy_mps, 9e999),"
             " ifnull(vrate_fpm, 9e999), ifnull(quality, 9e999), ifnull(sensors, 0)"
             " FROM track_update")
_SELECT = "SELECT " + _COLS_SQL
_SELECT_ROWID = "SELECT rowid, " + _COLS_SQL


def _count(spans: dict[int, list[tuple[float, float]]]) -> int:
    return sum(len(v) for v in spans.values())


class HistoryReader:
    """A read-only connection to a history store; safe while a writer process runs.

    Raises :class:`HistoryError` when the file is missing or not a skyfuse store. Use as a
    context manager or call :meth:`close`. One reader per thread.
    """

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        self.path = str(path)
        if not p.is_file():
            raise HistoryError(f"{self.path}: no such history store")
        uri = p.resolve().as_uri() + "?mode=ro"
        try:
            self._con = sqlite3.connect(uri, uri=True, timeout=10.0)
        except sqlite3.Error as e:
            raise HistoryError(f"{self.path}: cannot open ({e})") from None
        try:
            _check_store(self._con, self.path)
        except HistoryError:
            self._con.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def time_range(self) -> tuple[float, float] | None:
        """(first, last) update time in the store, or None when it is empty."""
        lo, hi = self._con.execute("SELECT min(t_s), max(t_s) FROM track_update").fetchone()
        return None if lo is None else (float(lo), float(hi))

    def count(self) -> int:
        """Number of updates stored."""
        return int(self._con.execute("SELECT count(*) FROM track_update").fetchone()[0])

    def query(self, *, start_s: float | None = None, end_s: float | None = None,
              icao24: int | str | None = None, callsign: str | None = None,
              bbox: Sequence[float] | None = None, track_id: int | None = None,
              limit: int = 10_000, max_span_s: float | None = None) -> TrackRows:
        """Updates with ``start_s <= t_s <= end_s`` matching every filter given (icao24 as an
        int or hex string; callsign exact after trimming, case-insensitive; bbox
        ``(lat0, lon0, lat1, lon1)`` inclusive, ``lon0 > lon1`` crossing the antimeridian),
        the first ``limit`` in time order. ``max_span_s``: refuse a time range longer than
        that (or an open one). Raises :class:`HistoryQueryError` on a bad argument."""
        if not 1 <= int(limit) <= MAX_LIMIT:
            raise HistoryQueryError(f"limit {limit}: must be 1..{MAX_LIMIT}")
        if start_s is not None and end_s is not None and end_s < start_s:
            raise HistoryQueryError(f"end {end_s} is before start {start_s}")
        if max_span_s is not None and (start_s is None or end_s is None
                                       or end_s - start_s > max_span_s):
            raise HistoryQueryError(f"time range must be given and at most {max_span_s:g} s")
        lo = -math.inf if start_s is None else float(start_s)
        hi = math.inf if end_s is None else float(end_s)
        where: list[str] = []                # exact filters, time aside
        args: list[Any] = []
        lookups: list[tuple[int, list[Any]]] = []
        if icao24 is not None:
            a = _parse_icao(icao24)
            where.append("icao24 = ?")
            args.append(a)
            lookups.append((KEY_ICAO24, [a]))
        if callsign is not None:
            cs = callsign.strip().upper()
            where.append("callsign = ?")
            args.append(cs)
            lookups.append((KEY_CALLSIGN, [cs]))
        if bbox is not None:
            cells = _bbox_sql(bbox, where, args)
            if cells is not None:
                lookups.append((KEY_CELL, cells))
        spans: dict[int, list[tuple[float, float]]] | None = None
        if track_id is not None:
            tid = _track_number(track_id)
            where.append("track_id = ?")
            args.append(tid)
            spans = {tid: [(lo, hi)]}
        else:
            for kind, keys in lookups:       # the identity or area with the fewest spans
                got = self._spans(kind, keys, lo, hi)
                if got is not None and (spans is None or _count(got) < _count(spans)):
                    spans = got
        exact = "".join(f" AND {w}" for w in where)
        limit = int(limit)
        if spans is None:                    # no key to narrow by: along the time index
            sql = (_SELECT + " WHERE t_s >= ? AND t_s <= ?" + exact
                   + " ORDER BY t_s, rowid LIMIT ?")
            return _rows_from(self._con.execute(sql, [lo, hi, *args, limit]).fetchall())
        sql = (_SELECT_ROWID + " WHERE track_id = ? AND t_s >= ? AND t_s <= ?" + exact
               + " ORDER BY t_s, rowid LIMIT ?")
        cursors = [self._con.cursor().execute(sql, [tid, a, b, *args, limit])
                   for tid, sp in spans.items() for a, b in sp]
        merged = heapq.merge(*cursors, key=lambda r: (r[1], r[0]))   # by (t_s, rowid)
        result = [r[1:] for r in itertools.islice(merged, limit)]
        for c in cursors:
            c.close()
        return _rows_from(result)

    def _spans(self, kind: int, keys: list[Any], lo: float, hi: float
               ) -> dict[int, list[tuple[float, float]]] | None:
        """Per track, the merged time spans within [lo, hi] where it had one of ``keys``
        (from ``track_key``, widened by the writer's slack); None when more than
        ``_MAX_SPANS`` — then reading along the time index is cheaper."""
        marks = ",".join("?" * len(keys))
        res = self._con.execute(
            f"SELECT track_id, t_first_s, t_last_s FROM track_key WHERE kind = ? AND key IN"
            f" ({marks}) AND t_last_s >= ? AND t_first_s <= ?",
            [kind, *keys, lo - KEY_SLACK_S, hi]).fetchall()
        out: dict[int, list[tuple[float, float]]] = {}
        for tid, t0, t1 in res:
            a, b = max(lo, t0), min(hi, t1 + KEY_SLACK_S)
            if a <= b:
                out.setdefault(int(tid), []).append((a, b))
        merged = {tid: _merge(sp) for tid, sp in out.items()}
        return merged if _count(merged) <= _MAX_SPANS else None

    def trail(self, track_id: int, *, since_s: float | None = None,
              limit: int = _TRAIL_LIMIT) -> NDArray[np.float64]:
        """The last ``limit`` positions of a track (after ``since_s``), oldest first, as a
        ``[n, 4]`` array of ``t_s, lat_deg, lon_deg, alt_ft`` (NaN altitude unknown)."""
        if not 1 <= int(limit) <= MAX_LIMIT:
            raise HistoryQueryError(f"limit {limit}: must be 1..{MAX_LIMIT}")
        sql = "SELECT t_s, lat_deg, lon_deg, alt_ft FROM track_update WHERE track_id = ?"
        args: list[Any] = [_track_number(track_id)]
        if since_s is not None:
            sql += " AND t_s >= ?"
            args.append(float(since_s))
        sql += " ORDER BY t_s DESC, rowid DESC LIMIT ?"
        args.append(int(limit))
        res = self._con.execute(sql, args).fetchall()
        return np.array(res[::-1], dtype=np.float64).reshape(-1, 4)


def query_history(path: str | Path, **kwargs: Any) -> TrackRows:
    """Open ``path`` read-only, run :meth:`HistoryReader.query` with ``kwargs``, close."""
    with HistoryReader(path) as r:
        return r.query(**kwargs)


def trail(path: str | Path, track_id: int, *, since_s: float | None = None,
          limit: int = _TRAIL_LIMIT) -> NDArray[np.float64]:
    """Open ``path`` read-only and return :meth:`HistoryReader.trail`."""
    with HistoryReader(path) as r:
        return r.trail(track_id, since_s=since_s, limit=limit)
