"""History store against a real writer process: kill -9 loses at most the last batch and
never corrupts; readers and ``skyfuse history`` work while the writer runs."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from skyfuse.cli.main import main
from skyfuse.outputs.history import HistoryReader, query_history
from skyfuse.runtime.tracks_csv import TRACKS_COLUMNS

N = 40                     # updates per published batch (one "scan")
FLUSH_S = 0.25

WRITER = """
import sys, time
import numpy as np
from skyfuse.outputs.history import HistoryStore
from skyfuse.runtime.tracks_csv import TrackRows
n = int(sys.argv[2])
store = HistoryStore(sys.argv[1], flush_s=float(sys.argv[3]))
ids = np.arange(n, dtype=np.int64)
print("ready", flush=True)
k = 0
while True:
    store.publish(TrackRows(
        t_s=np.full(n, 1.7e9 + k), track_id=ids, status=np.ones(n, np.int8),
        lat_deg=46.0 + ids * 0.01, lon_deg=np.full(n, 7.0 + k * 1e-4),
        alt_ft=np.full(n, 30000.0), icao24=(0x440000 + ids).astype(np.int32),
        callsign=np.array([b"TST%d" % i for i in range(n)], "S8"),
        vx_mps=np.full(n, 200.0), vy_mps=np.zeros(n)))
    print(k, flush=True)
    k += 1
    time.sleep(0.01)
"""


class Writer:
    """A writer subprocess; ``seen`` holds (batch k, monotonic time the parent read it)."""

    def __init__(self, path: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(N),
                                      str(FLUSH_S)], stdout=subprocess.PIPE, text=True, env=env)
        self.seen: list[tuple[int, float]] = []
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.ready.wait(60), "writer did not start"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("ready"):
                self.ready.set()
            elif line.strip().isdigit():
                self.seen.append((int(line), time.monotonic()))

    def wait_batches(self, k: int, timeout_s: float = 60.0) -> None:
        end = time.monotonic() + timeout_s
        while len(self.seen) < k:
            assert time.monotonic() < end, "writer too slow"
            time.sleep(0.02)

    def close(self) -> None:
        self._thread.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def kill9(self) -> float:
        self.proc.send_signal(signal.SIGKILL)
        t = time.monotonic()
        self.proc.wait(30)
        return t


@contextmanager
def writer(path: Path) -> Iterator[Writer]:
    w = Writer(path)
    try:
        yield w
    finally:
        if w.proc.poll() is None:
            w.kill9()
        w.close()


def test_kill9_loses_at_most_the_last_batch_and_never_corrupts(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with writer(path) as w:
        w.wait_batches(120)                     # ≥ 1.2 s of publishing, several commits
        seen_before = list(w.seen)
        t_kill = w.kill9()
    assert w.proc.returncode == -signal.SIGKILL
    # the store opens read-only straight after the crash (the WAL is replayed)...
    rows = query_history(path, limit=1_000_000)
    # ...and is consistent
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    k = np.round(rows.t_s - 1.7e9).astype(np.int64)
    ks, counts = np.unique(k, return_counts=True)
    assert len(ks) > 0
    assert ks.tolist() == list(range(len(ks)))          # a prefix of the batches...
    assert set(counts.tolist()) == {N}                   # ...each one whole
    # every batch published more than one batch window (plus slack for a loaded machine)
    # before the kill is there
    old = [kk for kk, t in seen_before if t < t_kill - (FLUSH_S + 0.75)]
    assert old, "no batch old enough: machine too slow"
    assert int(ks.max()) >= max(old)


def test_readers_and_skyfuse_history_work_while_the_writer_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "history.db"
    with writer(path) as w:
        w.wait_batches(30)
        deadline = time.monotonic() + 30         # the first commit (a loaded machine)
        while time.monotonic() < deadline:
            with HistoryReader(path) as r:
                if r.count() > 0:
                    break
            time.sleep(0.05)
        assert w.proc.poll() is None
        counts = []
        for _ in range(3):
            with HistoryReader(path) as r:
                counts.append(r.count())
            rc = main(["history", "--db", str(path), "--format", "csv", "--limit", "1000000"])
            out = capsys.readouterr().out
            assert rc == 0
            table = list(csv.reader(io.StringIO(out)))
            assert tuple(table[0]) == TRACKS_COLUMNS
            assert (len(table) - 1) % N == 0 and len(table) - 1 >= counts[-1]
            assert {r[7] for r in table[1:]} == {f"TST{i}" for i in range(N)}
            time.sleep(2 * FLUSH_S)
        assert w.proc.poll() is None            # the writer never stopped
        assert counts[0] > 0 and counts[-1] > counts[0]
        rc = main(["history", "--db", str(path), "--icao24", "440003", "--format", "json",
                   "--limit", "5"])
        lines = capsys.readouterr().out.splitlines()
        assert rc == 0 and len(lines) == 5 and all('"icao24": "440003"' in ln for ln in lines)
