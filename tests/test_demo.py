"""``skyfuse demo``: readiness line, live tracks near the wall clock, the map, SIGTERM → 0."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest

from skyfuse.cli.demo import demo_config, demo_dir
from test_service_cli import get_json, start, stop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bundled_demo_folder_is_complete() -> None:
    cfg = demo_config(demo_dir(), 8080, "", 1.0)
    assert cfg.replay.files and cfg.replay.loop and cfg.replay.shift_to_now
    assert cfg.server.host == "127.0.0.1"
    assert cfg.sensors.file.endswith("sensors.toml")
    lat, lon = (float(v) for v in cfg.sensors.receiver.split(","))
    assert 40 < lat < 60 and -10 < lon < 20


def test_demo_serves_live_tracks_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()                  # a race with another server is possible, but rare
    proc, url = start("demo", "--port", str(port), "--db", str(tmp_path / "h.sqlite"))
    try:
        assert url == f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        body: dict = {"tracks": []}
        while time.monotonic() < deadline:
            body = get_json(f"{url}/api/v1/tracks")
            if len(body["tracks"]) >= 5:
                break
            time.sleep(0.5)
        tracks = body["tracks"]
        assert len(tracks) >= 5, body
        now = time.time()
        assert all(abs(t["t_last_s"] - now) < 30 for t in tracks), (now, tracks)
        assert any(t["callsign"] for t in tracks)
        with urllib.request.urlopen(f"{url}/", timeout=10) as r:
            assert r.headers["content-type"].startswith("text/html")
        sensors = get_json(f"{url}/api/v1/sensors")
        assert {s["name"] for s in sensors} >= {"CDG MSSR"}
        deadline = time.monotonic() + 30          # sources are refreshed periodically, and
        src = {s["name"]: s for s in get_json(f"{url}/api/v1/sources")}   # the radar's
        while src["CDG MSSR"]["frames"] == 0 and time.monotonic() < deadline:  # 4 s scan
            time.sleep(0.5)                                                    # lags ADS-B
            src = {s["name"]: s for s in get_json(f"{url}/api/v1/sources")}
        assert src["replay:asterix.pcap"]["connected"] is True, src
        assert src["replay:asterix.pcap"]["frames"] > 0, src
        assert src["CDG MSSR"]["kind"] == "modes" and src["CDG MSSR"]["frames"] > 0, src
        assert src["ADS-B ground station"]["connected"] is True, src
        deadline = time.monotonic() + 10                  # the store writes every second
        hist = get_json(f"{url}/api/v1/history?limit=5")
        while len(hist) == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
            hist = get_json(f"{url}/api/v1/history?limit=5")
        assert len(hist) == 5 and all(row["lat_deg"] is not None for row in hist), hist
    finally:
        rc, out, err = stop(proc)
    assert rc == 0, err
    assert "skyfuse serving" not in out and "Traceback" not in err


def test_demo_needs_its_recording(tmp_path: Path) -> None:
    from skyfuse.cli.errors import InputError
    with pytest.raises(InputError, match="no recording"):
        demo_config(tmp_path, 8080, "", 1.0)
