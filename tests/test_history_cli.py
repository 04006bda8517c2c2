"""``skyfuse history``: formats, filters, TRACKS CSV output, exit codes."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from skyfuse.cli.history import parse_time
from skyfuse.cli.main import main
from skyfuse.outputs.history import HistoryStore
from skyfuse.runtime.tracks_csv import TRACKS_COLUMNS, TrackRows

T0 = 1_764_612_000.0            # 2025-12-01T18:00:00Z


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("cli") / "h.db"
    n = 6
    ids = np.arange(n)
    with HistoryStore(p) as s:
        for k in range(10):
            s.publish(TrackRows(
                t_s=np.full(n, T0 + k), track_id=ids.astype(np.int64) + 1,
                status=np.array([1, 1, 2, 0, 1, 1], np.int8),
                lat_deg=47.0 + ids * 0.5, lon_deg=8.0 + ids * 0.5 + k * 0.01,
                alt_ft=np.array([35000, np.nan, 12000, 5000, 800, 39000.0]),
                icao24=np.array([0x4B1801, 0x4B1802, -1, 0x3C6444, 0xA0B1C2, 0x400001], np.int32),
                callsign=np.array([b"SWR100", b"", b"", b"DLH4AB", b"N123", b"EZY77"], "S8"),
                vx_mps=np.full(n, 120.0), vy_mps=np.full(n, -30.5)))
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["history", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_csv_is_a_tracks_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--db", str(db), "--format", "csv")
    assert rc == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert tuple(csv.reader(io.StringIO(out)).__next__()) == TRACKS_COLUMNS
    assert len(table) == 60
    first = table[0]
    assert first == {"t_s": f"{T0:.3f}", "track_id": "1", "status": "confirmed",
                     "lat_deg": "47.000000", "lon_deg": "8.000000", "alt_ft": "35000",
                     "icao24": "4b1801", "callsign": "SWR100", "vx_mps": "120.0",
                     "vy_mps": "-30.5"}
    assert table[1]["alt_ft"] == "" and table[2]["icao24"] == "" and table[2]["status"] == \
        "coasting"


def test_filters_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--db", str(db), "--format", "json", "--callsign", "dlh4ab",
                     "--start", "2025-12-01T18:00:03Z", "--end", str(T0 + 5))
    assert rc == 0
    objs = [json.loads(ln) for ln in out.splitlines()]
    assert [o["t_s"] for o in objs] == [T0 + 3, T0 + 4, T0 + 5]
    assert {o["icao24"] for o in objs} == {"3c6444"} and objs[0]["status"] == "tentative"
    assert list(objs[0]) == list(TRACKS_COLUMNS)
    rc, out, _ = run(capsys, "--db", str(db), "--format", "json", "--track-id", "2",
                     "--limit", "1")
    o = json.loads(out)
    assert o["alt_ft"] is None and o["callsign"] is None and o["icao24"] == "4b1802"
    rc, out, _ = run(capsys, "--db", str(db), "--format", "csv", "--bbox", "47.9,8.9,48.6,9.6")
    ids = {r["track_id"] for r in csv.DictReader(io.StringIO(out))}
    assert ids == {"3", "4"}                      # lat 48.0 / 48.5; lon 9.0.. / 9.5..
    rc, out, _ = run(capsys, "--db", str(db), "--icao24", "A0B1C2")
    lines = out.splitlines()
    assert rc == 0 and lines[0].split() == list(TRACKS_COLUMNS) and len(lines) == 11
    assert "N123" in lines[1] and "a0b1c2" in lines[1]


def test_limit_note(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--db", str(db), "--format", "csv", "--limit", "7")
    assert rc == 0 and len(out.splitlines()) == 8 and "--limit 7" in err
    rc, out, err = run(capsys, "--db", str(db), "--format", "csv", "--callsign", "NOBODY")
    assert rc == 0 and out.splitlines() == [",".join(TRACKS_COLUMNS)] and err == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["--start", "yesterday"], "--start 'yesterday': expected ISO 8601"),
    (["--end", "nan"], "not a finite time"),
    (["--bbox", "1,2,3"], "expected LAT0,LON0,LAT1,LON1"),
    (["--bbox", "50,0,40,10"], "bbox latitudes"),
    (["--limit", "0"], "--limit 0: must be 1..1000000"),
    (["--icao24", "zz"], "icao24 'zz'"),
    (["--start", "20", "--end", "10"], "before start"),
    (["--format", "xml"], "invalid choice"),
    (["--track-id", "99999999999999999999"], "not a 64-bit track number"),   # was exit 1
])
def test_bad_arguments_exit_2(db: Path, capsys: pytest.CaptureFixture[str],
                              argv: list[str], message: str) -> None:
    try:
        rc = main(["history", "--db", str(db), *argv])
    except SystemExit as e:                     # argparse's own errors
        rc = int(e.code or 0)
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err


def test_not_a_store_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "x.sqlite"
    sqlite3.connect(other).close()
    other.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)   # header only: damaged
    for p, msg in ((tmp_path / "none.db", "no such history store"),
                   (other, "not a skyfuse history store")):
        rc, _, err = run(capsys, "--db", str(p))
        assert rc == 2 and str(p) in err and msg in err


def test_parse_time() -> None:
    assert parse_time("--start", "2025-12-01T18:00:00Z") == T0
    assert parse_time("--start", "2025-12-01T19:00:00+01:00") == T0
    assert parse_time("--start", "2025-12-01 18:00:00") == T0       # no zone: UTC
    assert parse_time("--start", "1764612000.5") == T0 + 0.5
