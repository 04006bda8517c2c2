"""``skyfuse evaluate``: files written, the summary line, and bad input (exit 2)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from eval_helpers import Flight, TrackRowsBuilder, write_truth
from skyfuse.cli.main import main
from skyfuse.eval import evaluate_files
from skyfuse.eval.report import PER_TARGET_COLUMNS

CONTRACT_KEYS = ("position_rms_m", "update_probability", "track_breaks", "identity_swaps",
                 "false_tracks", "gospa_mean", "thresholds")
BRIEF_KEYS = ("along_track_rms_m", "across_track_rms_m", "velocity_rms_mps", "heading_rms_deg",
              "track_number_changes", "duplicate_tracks", "latency_s",
              "gospa_localisation_mean", "gospa_missed_mean", "gospa_false_mean", "period_s")


@pytest.fixture(name="scenario")
def scenario_fixture(tmp_path: Path) -> tuple[Path, Path]:
    """Two flights (one ADS-B) and their tracks, one 50 m off, plus a false track."""
    a = Flight("AF123<b>&", 0, 0, 90, icao24="39856a", adsb=1)
    b = Flight("B-2", 0, 3000, 180, adsb=0)
    truth = write_truth(tmp_path / "truth.csv", [a, b], adsb_column=True)
    tb = TrackRowsBuilder()
    tb.follow("1", a, a.t_s[::4], icao24="39856a")
    tb.follow("2", b, b.t_s[::4], d_east_m=50)
    tb.add("3", a.t_s[:40:4], np.full(10, 40e3), np.zeros(10), 0.0, 0.0)
    return tb.write(tmp_path / "tracks.csv"), truth


def test_cli_writes_both_files_and_prints_the_summary_last(
        scenario: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracks, truth = scenario
    out = tmp_path / "report"
    rc = main(["evaluate", "--tracks", str(tracks), "--truth", str(truth), "-o", str(out),
               "--period", "4"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    for k in CONTRACT_KEYS + BRIEF_KEYS:
        assert k in summary, k
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["period_s"] == 4.0 and summary["period_source"] == "given"
    assert summary["position_rms_m"] == pytest.approx(np.sqrt((0 + 50**2) / 2), abs=0.05)
    assert summary["position_rms_m_adsb"] == pytest.approx(0.0, abs=0.05)
    assert summary["position_rms_m_non_adsb"] == pytest.approx(50.0, abs=0.05)
    assert summary["false_tracks"] == 1
    assert summary["update_probability"] == 1.0
    assert all(isinstance(v, bool) for v in summary["thresholds"].values())
    assert summary["thresholds"]["rms_le_300m"] is True
    assert summary["thresholds"]["false_tracks_le_5pct"] is False
    html = (out / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 4
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert "AF123&lt;b&gt;&amp;" in html and "AF123<b>" not in html      # escaped
    assert "false_tracks_le_5pct" in html and "FAIL" in html
    with (out / "per_target.csv").open() as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == PER_TARGET_COLUMNS
    by_id = {r["truth_id"]: r for r in rows}
    assert set(by_id) == {"AF123<b>&", "B-2"}
    assert by_id["AF123<b>&"]["icao24"] == "39856a" and by_id["AF123<b>&"]["adsb"] == "1"
    assert float(by_id["B-2"]["position_rms_m"]) == pytest.approx(50.0, abs=0.05)
    assert float(by_id["B-2"]["update_probability"]) == 1.0
    assert int(by_id["B-2"]["n_updates"]) == len(range(0, 601, 4))


def test_evaluate_files_infers_the_period(scenario: tuple[Path, Path], tmp_path: Path) -> None:
    tracks, truth = scenario
    s = evaluate_files(tracks, truth, tmp_path / "r")
    assert s["period_s"] == 4.0 and s["period_source"].startswith("inferred")
    assert (tmp_path / "r" / "summary.json").exists()
    assert (tmp_path / "r" / "index.html").exists()


def _rc_and_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(args)
    return rc, capsys.readouterr().err


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


TRACKS_HEAD = "t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps\n"
TRACK_OK = "10.0,1,confirmed,48.9,2.4,30000,39856a,AFR1,100.0,0.0\n"


@pytest.mark.parametrize(("body", "pattern"), [
    (TRACK_OK + "14.0,1,confirmed,abc,2.4,30000,,,1,1\n",
     r"tracks\.csv: line 3: column lat_deg: 'abc' is not a number"),
    (TRACK_OK + TRACK_OK + "18.0,1,confirmed,48.9\n",
     r"tracks\.csv: line 4: expected 10 fields .*found 4"),
    (TRACK_OK + "14.0,1,lost,48.9,2.4,30000,,,1,1\n",
     r"tracks\.csv: line 3: column status: 'lost' is not tentative, confirmed or coasting"),
    (TRACK_OK + "14.0,1,confirmed,95.0,2.4,30000,,,1,1\n",
     r"tracks\.csv: line 3: column lat_deg: 95 is outside \[-90, 90\]"),
    (TRACK_OK + "14.0,1,confirmed,48.9,2.4,30000,XYZ,,1,1\n",
     r"tracks\.csv: line 3: column icao24: 'XYZ' is not 6 hex digits"),
    (TRACK_OK + "14.0,,confirmed,48.9,2.4,30000,,,1,1\n",
     r"tracks\.csv: line 3: column track_id: is empty"),
    (TRACK_OK + "\n14.0,1,confirmed,48.9,nan,30000,,,1,1\n",
     r"tracks\.csv: line 4: column lon_deg: 'nan' is not a finite number"),
    (TRACK_OK + '14.0,"1",confirmed,48.9,2.4,30000,,,zz,1\n',
     r"tracks\.csv: line 3: column vx_mps: 'zz' is not a number"),
])
def test_malformed_tracks_exit_2_naming_file_line_column(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, pattern: str) -> None:
    truth = write_truth(tmp_path / "truth.csv", [Flight("A", 0, 0, 90)])
    tracks = _write(tmp_path / "tracks.csv", TRACKS_HEAD + body)
    rc, err = _rc_and_error(["evaluate", "--tracks", str(tracks), "--truth", str(truth),
                             "-o", str(tmp_path / "r")], capsys)
    assert rc == 2
    assert re.search(pattern, err), err
    assert "Traceback" not in err
    assert not (tmp_path / "r" / "summary.json").exists()


@pytest.mark.parametrize(("text", "pattern"), [
    ("", r"truth\.csv: empty file"),
    ("t_s;truth_id;lat_deg\n", r"truth\.csv: missing column 't_s'.*separated by commas"),
    ("t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps\n1,A,,48,2,0,1\n",
     r"truth\.csv: missing column 'vy_mps'"),
    ("t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps\n1,A,,48,2,0,1,1\n"
     "1,A,,48,2,0,1,1\n", r"truth\.csv: line 3: column t_s: truth_id A has two samples"),
    ("t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps\n1,A,,48,2,0,1,\n",
     r"truth\.csv: line 2: column vy_mps: is empty"),
    ("t_s,t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps\n",
     r"truth\.csv: line 1: column 't_s' appears twice"),
])
def test_malformed_truth_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                pattern: str) -> None:
    tracks = _write(tmp_path / "tracks.csv", TRACKS_HEAD + TRACK_OK)
    truth = _write(tmp_path / "truth.csv", text)
    rc, err = _rc_and_error(["evaluate", "--tracks", str(tracks), "--truth", str(truth),
                             "-o", str(tmp_path / "r")], capsys)
    assert rc == 2
    assert re.search(pattern, err), err


def test_missing_file_and_bad_option_exit_2(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _rc_and_error(["evaluate", "--tracks", str(tmp_path / "no.csv"), "--truth",
                             str(tmp_path / "no.csv"), "-o", str(tmp_path / "r")], capsys)
    assert rc == 2 and "no.csv: cannot read" in err
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--tracks", "a", "--truth", "b", "-o", "c", "--period", "-1"])
    assert e.value.code == 2


def test_tracks_without_optional_columns(tmp_path: Path) -> None:
    """Only t_s, track_id, lat_deg, lon_deg: every row confirmed, no velocity figures."""
    f = Flight("A", 0, 0, 90)
    truth = write_truth(tmp_path / "truth.csv", [f])
    tb = TrackRowsBuilder()
    tb.follow("1", f)
    full = tb.write(tmp_path / "full.csv").read_text().splitlines()
    lines = ["t_s,track_id,lat_deg,lon_deg"] + [",".join(np.array(r.split(","))[[0, 1, 3, 4]])
                                                for r in full[1:]]
    tracks = _write(tmp_path / "tracks.csv", "\n".join(lines) + "\n")
    s = evaluate_files(tracks, truth, tmp_path / "r", period_s=1.0)
    assert s["position_rms_m"] == pytest.approx(0.0, abs=0.05)
    assert s["velocity_rms_mps"] is None and s["heading_rms_deg"] is None
    assert any("no velocity" in n for n in s["notes"])
    assert s["update_probability"] == 1.0
    assert s["gospa_mean"] == pytest.approx(0.0, abs=0.05)


def test_empty_tracks_file_gives_a_report(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth.csv", [Flight("A", 0, 0, 90, t1_s=1010)])
    tracks = _write(tmp_path / "tracks.csv", TRACKS_HEAD)
    s = evaluate_files(tracks, truth, tmp_path / "r", period_s=1.0)
    assert s["position_rms_m"] is None and s["update_probability"] is None
    assert s["gospa_mean"] == 500.0                       # one truth missed at every step
    assert s["thresholds"]["rms_le_500m"] is False
    assert (tmp_path / "r" / "index.html").stat().st_size > 1000


def test_empty_truth_file_gives_a_report(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: tracks against a truth file with a header only used to end in an
    IndexError (exit 1); every confirmed track is then false."""
    f = Flight("A", 0, 0, 90)
    truth = write_truth(tmp_path / "truth.csv", [], adsb_column=True)
    tb = TrackRowsBuilder()
    tb.follow("1", f, icao24="39856a")
    tracks = tb.write(tmp_path / "tracks.csv")
    rc = main(["evaluate", "--tracks", str(tracks), "--truth", str(truth), "-o",
               str(tmp_path / "r"), "--period", "1"])
    assert rc == 0, capsys.readouterr().err
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert s["false_tracks"] == 1 and s["position_rms_m"] is None
    assert s["update_probability"] is None
    assert s["thresholds"]["false_tracks_le_5pct"] is False


def test_tracks_on_another_time_base_are_noted(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    truth = write_truth(tmp_path / "truth.csv", [f])
    tb = TrackRowsBuilder()
    tb.follow("1", f)
    tb.rows = [(t - 1000.0, *rest) for t, *rest in tb.rows]     # seconds since first frame
    s = evaluate_files(tb.write(tmp_path / "tracks.csv"), truth, tmp_path / "r", period_s=1.0)
    assert s["false_tracks"] == 1 and s["position_rms_m"] is None
    assert any("do not overlap in time" in n for n in s["notes"])
    assert "do not overlap in time" in (tmp_path / "r" / "index.html").read_text()


def test_crlf_and_byte_order_mark_are_read(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    truth = write_truth(tmp_path / "truth.csv", [f])
    truth.write_bytes(b"\xef\xbb\xbf" + truth.read_bytes().replace(b"\n", b"\r\n"))
    tb = TrackRowsBuilder()
    tb.follow("1", f, d_east_m=100)
    tracks = tb.write(tmp_path / "tracks.csv")
    tracks.write_bytes(tracks.read_bytes().replace(b"\n", b"\r\n"))
    s = evaluate_files(tracks, truth, tmp_path / "r", period_s=1.0)
    assert s["position_rms_m"] == pytest.approx(100.0, abs=0.05)
    assert s["update_probability"] == 1.0
