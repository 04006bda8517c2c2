"""End to end with the real receiver program: I/Q → dump1090-mutability → TCP → ``skyfuse run``.

The last 25 s of the AFR34ZG sample (take-off and climb) are modulated into I/Q
(adsb-generator, the ``test`` extra), piped into dump1090-mutability ``--throttle`` (real
time), and two ``skyfuse run`` processes read its Beast feed and its AVR + SBS feeds. Each
must produce one track for 393322 / AFR34ZG. dump1090 is started first; the clients
connect once its ports accept; the I/Q starts after they have connected.
"""

from __future__ import annotations

import csv
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from iq_helpers import frames_to_uc8
from modes_helpers import AFR_AVR
from skyfuse.ingest.stream import read_file

pytestmark = pytest.mark.peers

WINDOW_S = 25.0


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _wait_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"dump1090 port {port} never accepted a connection")


def _iq() -> bytes:
    ts: list[float] = []
    frames: list[bytes] = []
    for _, batch in read_file(AFR_AVR):
        ts += (batch.ticks / 12e6).tolist()
        frames += batch.data
    first = ts[-1] - WINDOW_S
    sel = [i for i, t in enumerate(ts) if t >= first]
    return frames_to_uc8([ts[i] for i in sel], [frames[i] for i in sel], lead_s=0.5)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["icao24"] == "393322"]


@pytest.mark.timeout(120)
def test_dump1090_beast_avr_sbs_into_skyfuse_run(tmp_path: Path, require_peer) -> None:
    dump1090 = require_peer("dump1090-mutability")
    pytest.importorskip("adsb_generator", reason="pip install -e '.[test]'")
    iq = _iq()
    beast, avr, sbs = _free_ports(3)
    d1090 = subprocess.Popen(
        [dump1090, "--ifile", "-", "--iformat", "UC8", "--throttle", "--net",
         "--net-bind-address", "127.0.0.1", "--net-bo-port", str(beast),
         "--net-ro-port", str(avr), "--net-sbs-port", str(sbs), "--net-ri-port", "0",
         "--net-bi-port", "0", "--net-http-port", "0", "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs: list[subprocess.Popen[str]] = []
    outs = [tmp_path / "beast.csv", tmp_path / "avr_sbs.csv"]
    try:
        for port in (beast, avr, sbs):
            _wait_port(port, 15)
        for out, feeds in zip(outs, (["--beast", f"127.0.0.1:{beast}"],
                                     ["--avr", f"127.0.0.1:{avr}", "--sbs", f"127.0.0.1:{sbs}"]),
                              strict=True):
            runs.append(subprocess.Popen(
                [sys.executable, "-m", "skyfuse.cli.main", "run", *feeds, "-o", str(out),
                 "--log-every", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(2.0)                               # clients connected before the signal

        def feed() -> None:
            assert d1090.stdin is not None
            try:
                d1090.stdin.write(iq)
                d1090.stdin.close()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        d1090.wait(timeout=WINDOW_S + 30)             # throttled: real time, then EOF
        time.sleep(2.0)
        errs = []
        for p in runs:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
            errs.append(err)
            assert p.returncode == 0, err
    finally:
        for p in [*runs, d1090]:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for out, err in zip(outs, errs, strict=True):
        rows = _rows(out)
        conf = [r for r in rows if r["status"] in ("confirmed", "coasting")]
        assert len({r["track_id"] for r in rows}) == 1, (out.name, err)
        assert len(conf) >= 15, (out.name, len(conf), err)
        assert "AFR34ZG" in {r["callsign"] for r in conf}, (out.name, err)
        lat = [float(r["lat_deg"]) for r in conf]
        lon = [float(r["lon_deg"]) for r in conf]
        assert min(lat) > 48.9 and max(lat) < 49.1
        assert min(lon) > 2.3 and max(lon) < 2.7
