"""``skyfuse serve``: the bind rule (refused before binding), --help, a replay served live,
SIGTERM → exit 0."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from modes_helpers import AFR_AVR
from skyfuse.cli.main import main


def start(cmd: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``skyfuse CMD ARGS`` and wait for its readiness line; (process, base URL)."""
    proc = subprocess.Popen([sys.executable, "-m", "skyfuse.cli.main", cmd, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith("skyfuse serving http://127.0.0.1:"):
                return proc, line.strip().removeprefix("skyfuse serving ")
            if not line:
                break
        if proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"no readiness line; stderr: {err}")


def get_json(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_non_local_bind_without_token_is_refused_before_binding(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import skyfuse.cli.serve as serve

    def no_bind(*a: object) -> None:
        raise AssertionError("bound a socket")

    monkeypatch.setattr(serve, "_bind", no_bind)
    monkeypatch.delenv("SKYFUSE_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "8080"]) == 2
    err = capsys.readouterr().err
    assert "refusing to bind 0.0.0.0" in err and "token" in err
    assert "Traceback" not in err


def test_bad_config_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[server]\nhots = '0.0.0.0'\n")
    assert main(["serve", "--config", str(cfg)]) == 2
    assert "unknown key 'hots'" in capsys.readouterr().err


def test_missing_replay_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--replay", "/nonexistent/x.avr", "--port", "0"]) == 2
    assert "/nonexistent/x.avr" in capsys.readouterr().err


def test_replay_file_that_is_no_recording_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: the format was first detected inside the service: exit 1."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording\n")
    assert main(["serve", "--replay", str(notes), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{notes}: not Beast, AVR, SBS or ASTERIX" in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "toml", "message"), [
    (["--sbs-out", "70000"], "", "SBS output port 70000"),
    (["--speed", "-1"], "", "replay speed -1.0"),
    ([], "[outputs]\ncat062 = '127.0.0.1:9'\ncat062_sac = 300\n", "cat062_sac 300"),
    ([], "[runtime]\nstep_s = 0.0\n", "step_s 0.0"),
])
def test_out_of_range_settings_exit_2_before_binding(
        args: list[str], toml: str, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: these failed later (OverflowError, ValueError, a division by zero in
    the tracker) with exit 1 instead of a bad-input exit 2."""
    import skyfuse.cli.serve as serve

    def no_bind(*a: object) -> None:
        raise AssertionError("bound a socket")

    monkeypatch.setattr(serve, "_bind", no_bind)
    if toml:
        (tmp_path / "s.toml").write_text(toml)
        args = [*args, "--config", str(tmp_path / "s.toml")]
    assert main(["serve", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_explains_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for word in ("--replay", "--cat062-out", "--sbs-out", "--db", "[server]", "[[feed]]",
                 "history_max_range_s", "queue_items", "shift_to_now", "retention_s"):
        assert word in out, word


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_replay_gives_afr34zg_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(20)
    sbs_port = _free_port()
    proc, url = start("serve", "--replay", str(AFR_AVR), "--speed", "0", "--loop",
                      "--port", "0", "--db", str(db), "--token", "tok",
                      "--sbs-out", str(sbs_port),
                      "--cat062-out", f"127.0.0.1:{udp.getsockname()[1]}")
    try:
        with socket.create_connection(("127.0.0.1", sbs_port), timeout=20) as c:
            got = b""
            while b"393322" not in got.upper() or got.count(b"\n") < 3:
                chunk = c.recv(65536)
                assert chunk, f"the SBS output closed the connection after {got!r}"
                got += chunk
        assert got.startswith(b"MSG,")
        datagram = udp.recv(65536)
        assert datagram[0] == 62                                 # an ASTERIX CAT062 block
        with pytest.raises(urllib.error.HTTPError) as e:
            get_json(f"{url}/api/v1/tracks")
        assert e.value.code == 401
        e.value.close()                                          # its socket
        deadline = time.monotonic() + 60
        calls: list[str | None] = []
        seen_t = -1.0                                            # live time of 393322's track
        while time.monotonic() < deadline:
            live = get_json(f"{url}/api/v1/tracks", "tok")["tracks"]
            calls = [t["callsign"] for t in live]
            seen_t = max([t["t_last_s"] for t in live if t["icao24"] == "393322"] + [-1.0])
            if "AFR34ZG" in calls:
                break
            time.sleep(0.2)
        assert "AFR34ZG" in calls
        src = get_json(f"{url}/api/v1/sources", "tok")
        assert src[0]["name"] == "replay:afr34zg_4000.avr" and src[0]["frames"] > 0
    finally:
        rc, out, err = stop(proc)
        udp.close()
    assert rc == 0, err
    assert "skyfuse serving" not in out                          # the one line came first
    from skyfuse.outputs.history import query_history
    stored = query_history(db, icao24="393322")                  # flushed on SIGTERM: every
    assert len(stored) >= 3                                      # update the API showed is
    assert float(stored.t_s.max()) >= seen_t - 1e-3, (stored.t_s.max(), seen_t)  # stored


def test_serve_from_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "skyfuse.toml"
    cfg.write_text(f'''
[server]
port = 0
include_tentative = true
[replay]
files = ["{AFR_AVR}"]
speed = 0
[store]
path = "{tmp_path / 'h.sqlite'}"
''')
    proc, url = start("serve", "--config", str(cfg))
    try:
        deadline = time.monotonic() + 60
        tracks: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not tracks:
            tracks = get_json(f"{url}/api/v1/tracks")["tracks"]
            time.sleep(0.2)
        assert tracks and tracks[0]["icao24"] == "393322"
        hist = get_json(f"{url}/api/v1/history?icao24=393322&limit=3")
        deadline = time.monotonic() + 10
        while len(hist) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
            hist = get_json(f"{url}/api/v1/history?icao24=393322&limit=3")
        assert len(hist) == 3 and {row["icao24"] for row in hist} == {"393322"}
    finally:
        rc, _, err = stop(proc)
    assert rc == 0, err
