"""``skyfuse run``: live TCP feeds (a local server that drops the connection), SIGTERM."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from modes_helpers import AFR_AVR, CDG
from skyfuse.cli.main import main
from skyfuse.ingest.beast import encode_beast
from skyfuse.ingest.stream import read_file
from skyfuse.runtime.live import parse_hostport


def _beast_halves() -> tuple[bytes, bytes]:
    """The AFR34ZG sample as Beast bytes, cut in two at frame 2000."""
    chunks = []
    for _, batch in read_file(AFR_AVR):
        for ticks, frame in zip(batch.ticks.tolist(), batch.data, strict=True):
            chunks.append(encode_beast(frame, ticks))
    return b"".join(chunks[:2000]), b"".join(chunks[2000:])


class _DroppingServer:
    """Serves the first half, drops the connection, then serves the second and stays open."""

    def __init__(self, halves: tuple[bytes, bytes]) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.halves = halves
        self.accepted = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(30)
        conns = []
        try:
            for half in self.halves:
                c, _ = self.sock.accept()
                self.accepted += 1
                c.sendall(half)
                conns.append(c)
                if len(conns) == 1:
                    time.sleep(0.3)
                    c.close()                          # the feed drops
            self.done.wait(30)
        finally:
            for c in conns:
                c.close()
            self.sock.close()


def _skyfuse(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "skyfuse.cli.main", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _tracks(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_run_reconnects_flushes_and_stops_on_sigterm(tmp_path: Path) -> None:
    server = _DroppingServer(_beast_halves())
    out = tmp_path / "tracks.csv"
    proc = _skyfuse("--beast", f"127.0.0.1:{server.port}", "-o", str(out),
                    "--receiver", f"{CDG[0]},{CDG[1]}", "--log-every", "0.5")
    try:
        deadline = time.monotonic() + 30
        rows: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            rows = _tracks(out)                        # flushed while running
            if server.accepted == 2 and any(r["status"] == "confirmed" for r in rows):
                break
            time.sleep(0.3)
        assert server.accepted == 2, "no reconnection"
        assert rows, "no TRACKS rows flushed while running"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        server.done.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "connects 2" in err and "frames" in err
    rows = _tracks(out)
    assert {r["icao24"] for r in rows} == {"393322"}
    assert len({r["track_id"] for r in rows}) == 1
    assert "AFR34ZG" in {r["callsign"] for r in rows}
    t = [float(r["t_s"]) for r in rows]
    assert t == sorted(t) and t[-1] > 900           # the second half continued the counter


def test_run_sigint_without_any_peer_exits_0(tmp_path: Path) -> None:
    with socket.socket() as s:                         # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "tracks.csv"
    proc = _skyfuse("--beast", f"127.0.0.1:{port}", "--avr", f"localhost:{port}",
                    "-o", str(out))
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert out.read_text().startswith("t_s,track_id,status,")
    assert "disconnected" in err


def test_run_usage_errors_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-o", str(tmp_path / "t.csv")]) == 2
    assert main(["run", "--beast", "nohost", "-o", str(tmp_path / "t.csv")]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_parse_hostport() -> None:
    assert parse_hostport("127.0.0.1:30005") == ("127.0.0.1", 30005)
    assert parse_hostport("8600", "0.0.0.0") == ("0.0.0.0", 8600)
    assert parse_hostport("[::1]:30005") == ("::1", 30005)
    with pytest.raises(ValueError):
        parse_hostport("host:99999")


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_help_lists_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "replay" in text and "run" in text
