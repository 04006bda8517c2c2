"""Benchmark: history store append rate and query latency on ~1M track updates, plus the
SBS and CAT062 encoders' rates.

``--tracks`` aircraft spread over Europe (35-60 °N, 10 °W-30 °E) update once per second
(one ``publish`` per scan, as the runtime does) until ``--rows`` updates are published,
with a flush (one commit) every ``--scans-per-batch`` scans (default 1). Append rate =
rows / (first publish → last flush returned), in wall time and per CPU second of the
process (nearly all of it the writer thread's: on a shared machine the honest figure).
Then each query runs ``--repeat`` times on a fresh read-only connection and the median wall
time is printed: a 60 s time range, one aircraft by icao24 and by callsign (whole store), a
track's trail (last 2,000), a 1°×1° box over the last 60 s and over the whole store (with
the cell index, then the same SQL ``NOT INDEXED`` for comparison), the latest 10,000
updates.

    python benchmarks/bench_history.py [--rows 1000000] [--tracks 5000] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skyfuse.outputs.cat062 import encode_cat062_records
from skyfuse.outputs.history import HistoryReader, HistoryStore
from skyfuse.outputs.sbs_out import format_sbs
from skyfuse.runtime.tracks_csv import TrackRows

T0 = 1_764_612_000.0


def scan_rows(k: int, n: int, lat0: np.ndarray, lon0: np.ndarray) -> TrackRows:
    """Scan ``k`` of ``n`` aircraft flying east at ~230 m/s."""
    ids = np.arange(n)
    return TrackRows(
        t_s=np.full(n, T0 + k), track_id=ids.astype(np.int64), status=np.ones(n, np.int8),
        lat_deg=lat0 + k * 1e-4, lon_deg=lon0 + k * 3e-3, alt_ft=np.full(n, 35000.0),
        icao24=(0x400000 + ids).astype(np.int32),
        callsign=np.char.add(b"T", ids.astype("S7")).astype("S8"),
        vx_mps=np.full(n, 230.0), vy_mps=np.full(n, 11.0))


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--tracks", type=int, default=5000)
    ap.add_argument("--flush-s", type=float, default=1.0)
    ap.add_argument("--scans-per-batch", type=int, default=1,
                    help="scans per commit (flush after that many publishes)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", type=Path, default=None, help="store path (default: temp file)")
    a = ap.parse_args()
    tmp = None
    if a.db is None:
        tmp = tempfile.TemporaryDirectory()
        a.db = Path(tmp.name) / "history.db"
    rng = np.random.default_rng(0)
    lat0 = rng.uniform(35, 60, a.tracks)
    lon0 = rng.uniform(-10, 30, a.tracks)
    scans = [scan_rows(k, a.tracks, lat0, lon0) for k in range(a.rows // a.tracks)]
    n_rows = sum(len(s) for s in scans)

    t = time.perf_counter()
    cpu = time.process_time()
    store = HistoryStore(a.db, flush_s=a.flush_s)
    t_pub = 0.0
    for i, s in enumerate(scans):
        t1 = time.perf_counter()
        store.publish(s)
        t_pub = max(t_pub, time.perf_counter() - t1)
        if (i + 1) % a.scans_per_batch == 0:
            store.flush(timeout_s=None)          # one commit per batch, as at 1 Hz live
    store.flush(timeout_s=None)
    dt = time.perf_counter() - t
    cpu = time.process_time() - cpu             # the writer thread's work, nearly all
    store.close()
    size_mb = sum(os.path.getsize(p) for p in a.db.parent.glob(a.db.name + "*")) / 1e6
    print(f"append: {n_rows:,} rows in {dt:.2f} s = {n_rows / dt:,.0f} rows/s wall, "
          f"{n_rows / cpu:,.0f} rows/s of CPU time "
          f"({store.stats['batches']} batches; longest publish {t_pub * 1e6:.0f} µs); "
          f"file {size_mb:.0f} MB")

    t_end = T0 + len(scans) - 1
    queries: dict[str, dict[str, Any]] = {
        "time range 60 s": {"start_s": t_end - 100, "end_s": t_end - 40,
                            "limit": 1_000_000},
        "icao24 (one aircraft)": {"icao24": 0x400000 + 17, "limit": 1_000_000},
        "callsign (one aircraft)": {"callsign": "T17", "limit": 1_000_000},
        "bbox 1x1 deg, last 60 s": {"bbox": (47.0, 8.0, 48.0, 9.0), "start_s": t_end - 60,
                                 "end_s": t_end, "limit": 1_000_000},
        "bbox 1x1 deg, all": {"bbox": (47.0, 8.0, 48.0, 9.0), "limit": 1_000_000},
        "latest 10,000 (no filter)": {"start_s": t_end - 1.5, "limit": 10_000},
    }
    for name, kw in queries.items():
        def q(kw: dict[str, Any] = kw) -> Any:
            with HistoryReader(a.db) as r:
                return r.query(**kw)
        ms, rows = median_ms(q, a.repeat)
        print(f"query {name:28s} {ms:8.1f} ms  {len(rows):>8,} rows")

    def tr() -> Any:
        with HistoryReader(a.db) as r:
            return r.trail(17)
    ms, pts = median_ms(tr, a.repeat)
    print(f"query {'trail (last 2,000)':28s} {ms:8.1f} ms  {len(pts):>8,} rows")

    con = sqlite3.connect(a.db.resolve().as_uri() + "?mode=ro", uri=True)
    sql = ("SELECT count(*) FROM track_update NOT INDEXED WHERE lat_deg BETWEEN 47 AND 48 "
           "AND lon_deg BETWEEN 8 AND 9")
    ms, res = median_ms(lambda: con.execute(sql).fetchone()[0], a.repeat)
    print(f"query {'bbox all, full scan (ref.)':28s} {ms:8.1f} ms  {res:>8,} rows")
    con.close()

    rows = scans[0]
    ms, data = median_ms(lambda: format_sbs(rows), a.repeat)
    print(f"SBS format: {len(rows) / ms * 1e3:,.0f} updates/s ({len(data) / len(rows):.0f} "
          f"bytes/update)")
    few = TrackRows(*(getattr(rows, f)[:1000] for f in rows.__dataclass_fields__))
    for engine, reps in (("native", a.repeat), ("libasterix", 1)):
        encode_cat062_records(few, sac=1, sic=1, engine=engine)   # warm (the import)
        ms, recs = median_ms(lambda e=engine: encode_cat062_records(few, sac=1, sic=1,
                                                                  engine=e), reps)
        print(f"CAT062 encode ({engine}): {len(few) / ms * 1e3:,.0f} records/s "
              f"({sum(map(len, recs)) / len(recs):.0f} bytes/record)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
