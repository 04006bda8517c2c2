"""``skyfuse replay``: the real recordings in tests/data through the whole pipeline."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from modes_helpers import AFR_AVR, CDG, DUMP1090_BEAST, afr_oracle
from skyfuse.cli.main import main
from skyfuse.ingest.beast import encode_beast
from skyfuse.ingest.stream import read_file
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.runtime.tracks_csv import TRACKS_COLUMNS

PCAP = Path(__file__).parent / "data" / "cat_034_048.pcap"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _replay(tmp_path: Path, *args: str, name: str = "tracks.csv") -> list[dict[str, str]]:
    out = tmp_path / name
    assert main(["replay", *args, "-o", str(out)]) == 0
    return _rows(out)


def _dist_to_path_m(lat: np.ndarray, lon: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Distance of each point to the polyline ``path[:, (lat, lon)]`` (metres, local plane)."""
    k = math.cos(math.radians(float(path[:, 0].mean())))

    def xy(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return np.stack([np.radians(lo) * 6371e3 * k, np.radians(la) * 6371e3], -1)

    o, p = xy(path[:, 0], path[:, 1]), xy(lat, lon)
    a, b = o[:-1], o[1:]
    ab = b - a
    L2 = np.maximum((ab**2).sum(1), 1e-9)
    t = np.clip(((p[:, None] - a) * ab).sum(-1) / L2, 0, 1)
    return np.sqrt((((a + t[..., None] * ab) - p[:, None]) ** 2).sum(-1)).min(1)


def _afr_beast(tmp_path: Path) -> Path:
    """The AFR34ZG AVR sample re-encoded as Beast binary (same frames, same ticks)."""
    chunks = []
    for _, batch in read_file(AFR_AVR):
        for ticks, frame in zip(batch.ticks.tolist(), batch.data, strict=True):
            chunks.append(encode_beast(frame, ticks))
    path = tmp_path / "afr.beast"
    path.write_bytes(b"".join(chunks))
    return path


def test_columns_follow_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    assert main(["replay", str(DUMP1090_BEAST), "-o", str(out)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header[:8] == ["t_s", "track_id", "status", "lat_deg", "lon_deg", "alt_ft",
                          "icao24", "callsign"]
    assert tuple(header) == TRACKS_COLUMNS


def test_afr34zg_one_track_close_to_the_decoded_positions(tmp_path: Path) -> None:
    rows = _replay(tmp_path, str(AFR_AVR), "--receiver", f"{CDG[0]},{CDG[1]}")
    _t0, oracle = afr_oracle()
    ours = [r for r in rows if r["icao24"] == "393322"]
    assert {r["track_id"] for r in rows} == {r["track_id"] for r in ours}
    assert len({r["track_id"] for r in ours}) == 1
    assert {r["callsign"] for r in ours if r["status"] == "confirmed"} == {"AFR34ZG"}
    assert {r["status"] for r in rows} <= {"tentative", "confirmed", "coasting"}
    path = np.array([(la, lo) for _, (_, la, lo) in sorted(oracle.items())])
    conf = [r for r in ours if r["status"] == "confirmed"]
    assert len(conf) > 500
    d = _dist_to_path_m(np.array([float(r["lat_deg"]) for r in conf]),
                        np.array([float(r["lon_deg"]) for r in conf]), path)
    assert np.percentile(d, 99) < 60.0, np.percentile(d, [50, 90, 99])
    t = np.array([float(r["t_s"]) for r in conf])
    assert np.all(np.diff(t) >= 0)
    assert t[0] < 60.0 and t[-1] > 1000.0          # relative 12 MHz counter: from taxi on


def test_without_receiver_surface_positions_wait_for_a_reference(tmp_path: Path) -> None:
    rows = _replay(tmp_path, str(AFR_AVR))
    ids = {r["track_id"] for r in rows}
    assert len(ids) == 1
    assert {r["icao24"] for r in rows} == {"393322"}
    alts = [float(r["alt_ft"]) for r in rows if r["alt_ft"]]
    assert min(alts) > 0                            # airborne from the first row


def test_t0_anchors_the_relative_counter(tmp_path: Path) -> None:
    rows = _replay(tmp_path, str(AFR_AVR), "--t0", "1720248189.525094")
    t0, _ = afr_oracle()
    t = np.array([float(r["t_s"]) for r in rows])
    assert t.min() > t0 and t.max() < t0 + 1100


def test_beast_and_avr_give_the_same_tracks(tmp_path: Path) -> None:
    cdg = f"{CDG[0]},{CDG[1]}"
    avr = (tmp_path / "a.csv", _replay(tmp_path, str(AFR_AVR), "--receiver", cdg, name="a.csv"))
    beast = _replay(tmp_path, str(_afr_beast(tmp_path)), "--receiver", cdg, name="b.csv")
    assert avr[1] == beast
    forced = _replay(tmp_path, str(AFR_AVR), "--receiver", cdg, "--format", "avr",
                     name="c.csv")
    assert forced == beast


def test_dump1090_sample_one_track_per_aircraft_with_positions(tmp_path: Path) -> None:
    rows = _replay(tmp_path, str(DUMP1090_BEAST))
    # the sample's only positions are 48520a's (the others send no DF17 positions)
    assert {r["icao24"] for r in rows} == {"48520a"}
    assert len({r["track_id"] for r in rows}) == 1
    assert "TRA89M" in {r["callsign"] for r in rows}


def test_speed_paces_the_replay(tmp_path: Path) -> None:
    import time

    t = time.monotonic()
    rows = _replay(tmp_path, str(DUMP1090_BEAST), "--speed", "20")
    assert time.monotonic() - t > 0.9            # 24 s of data at 20× ≥ 1.2 s
    assert rows


def test_asterix_capture_without_sensors_is_counted(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    rows = _replay(tmp_path, str(PCAP))
    assert rows == []
    err = capsys.readouterr().err
    assert "asterix plots 0" in err and "unknown sensors 64" in err


def test_unknown_input_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00hello world" * 10)
    assert main(["replay", str(junk), "-o", str(tmp_path / "t.csv")]) == 2
    assert "junk.bin" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "missing.avr"), "-o", str(tmp_path / "t.csv")]) == 2


def test_from_plane_inverts_the_measure_projection() -> None:
    frame = LocalFrame(49.0, 2.5)
    lat = np.array([49.0, 43.6, 40.0, 55.0])
    lon = np.array([2.5, 1.37, 10.0, -5.0])
    xy = frame.to_plane(lat, lon)
    la, lo = frame.from_plane(xy[:, 0], xy[:, 1])
    assert np.abs(la - lat).max() * 111e3 < 0.1
    assert np.abs(lo - lon).max() * 111e3 < 0.1


def _split_afr(tmp_path: Path) -> tuple[Path, Path]:
    """The AFR sample as two simultaneous receivers: alternate lines, every 5th line (the
    first included, so that both relative counters start at the same frame) in both."""
    lines = AFR_AVR.read_bytes().splitlines(keepends=True)
    a = [x for i, x in enumerate(lines) if i % 2 == 0 or i % 5 == 0]
    b = [x for i, x in enumerate(lines) if i % 2 == 1 or i % 5 == 0]
    pa, pb = tmp_path / "rx_a.avr", tmp_path / "rx_b.avr"
    pa.write_bytes(b"".join(a))
    pb.write_bytes(b"".join(b))
    return pa, pb


def test_two_receivers_merged_in_time(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    cdg = f"{CDG[0]},{CDG[1]}"
    one = _replay(tmp_path, str(AFR_AVR), "--receiver", cdg, name="one.csv")
    capsys.readouterr()
    pa, pb = _split_afr(tmp_path)
    two = _replay(tmp_path, str(pa), str(pb), "--receiver", cdg, name="two.csv")
    err = capsys.readouterr().err
    assert " late 0," in err, err                   # file B is not behind file A
    _t0, oracle = afr_oracle()
    assert len({r["track_id"] for r in two}) == 1
    assert {r["icao24"] for r in two} == {"393322"}
    path = np.array([(la, lo) for _, (_, la, lo) in sorted(oracle.items())])
    conf1 = [r for r in one if r["status"] == "confirmed"]
    conf2 = [r for r in two if r["status"] == "confirmed"]
    assert len(conf2) >= 0.95 * len(conf1)
    d = _dist_to_path_m(np.array([float(r["lat_deg"]) for r in conf2]),
                        np.array([float(r["lon_deg"]) for r in conf2]), path)
    assert np.percentile(d, 99) < 60.0, np.percentile(d, [50, 90, 99])
    t = np.array([float(r["t_s"]) for r in conf2])
    assert np.all(np.diff(t) >= 0)


def test_files_one_after_another_would_be_late(tmp_path: Path) -> None:
    """What the merge fixes: the pipeline fed file A then file B counts B's reports late."""
    from skyfuse.ingest.timebase import Timebase
    from skyfuse.runtime.pipeline import Pipeline, PipelineConfig

    pa, pb = _split_afr(tmp_path)
    pipe = Pipeline(PipelineConfig(receiver=CDG))
    for sensor, p in enumerate((pa, pb)):
        tb = Timebase()
        for _, batch in read_file(p):
            if len(batch):
                pipe.add_frames(tb.to_seconds(batch.ticks), batch.data, sensor)
                pipe.advance()
    pipe.finish()
    assert pipe.counters.late > 100
