"""Replay of a Beast file together with a radar pcap: the sources are interleaved in time.

A round of the replay merge used to hand all its Mode S frames to the pipeline before the
round's ASTERIX datagrams, so the radar plots arrived behind the watermark ("late") and
were tracked out of order. Here a short simulated scenario (the demo's radar + ADS-B, ADS-B
written as Beast) is replayed from its two files and must give no late report, one track
per flight and no false track.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skyfuse.cli.main import main

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.toml"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of the demo scenario, ADS-B as a Beast file beside the radar pcap."""
    tmp = tmp_path_factory.mktemp("mixed")
    text = SCENARIO.read_text()
    text = re.sub(r'format = "cat021".*', 'format = "beast"', text)
    text = re.sub(r"duration_s = [0-9.]+", "duration_s = 120.0", text)
    scenario = tmp / "mixed.toml"
    scenario.write_text(text)
    out = tmp / "out"
    assert main(["simulate", str(scenario), "-o", str(out)]) == 0
    assert (out / "adsb.beast").exists() and (out / "asterix.pcap").exists()
    return out


def test_beast_and_pcap_replay_interleaved(recording: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from skyfuse.eval import evaluate_files

    meta = json.loads((recording / "scenario.json").read_text())
    args = [str(recording / a) if (recording / a).exists() else a
            for a in meta["replay_args"]]
    assert any(a.endswith("adsb.beast") for a in args)
    tracks = recording / "tracks.csv"
    capsys.readouterr()
    assert main(["replay", *args, "-o", str(tracks)]) == 0
    err = capsys.readouterr().err
    late = re.search(r"late (\d+)", err)
    assert late is not None, err
    assert int(late.group(1)) == 0, err
    summary = evaluate_files(tracks, recording / "truth.csv", recording / "report",
                             period_s=float(meta["nominal_period_s"]))
    assert summary["false_tracks"] == 0
    assert summary["identity_swaps"] == 0
    assert summary["position_rms_m"] < 60.0


def test_bad_sensor_file_exits_2_before_writing_tracks(recording: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Regression: the TRACKS file used to be opened (and left behind, empty and unclosed)
    before the --sensors file was read."""
    bad = tmp_path / "sensors.toml"
    bad.write_text("[[sensor]]\nname = 'x'\nbogus = 1\n")
    tracks = tmp_path / "tracks.csv"
    capsys.readouterr()
    assert main(["replay", str(recording / "asterix.pcap"), "--sensors", str(bad),
                 "-o", str(tracks)]) == 2
    assert "sensors.toml" in capsys.readouterr().err
    assert not tracks.exists()


def test_tracker_settings_follow_the_slowest_radar(recording: Path) -> None:
    """replay, run and serve share one rule: radar settings for the slowest antenna."""
    from skyfuse.measure.sensors import load_sensors
    from skyfuse.runtime.pipeline import adsb_tracker_config, tracker_config_for

    adsb = adsb_tracker_config()
    plain = tracker_config_for(None)
    assert (plain.revisit_s, plain.delete_after_s) == (adsb.revisit_s, adsb.delete_after_s)
    sensors = load_sensors(recording / "sensors.toml")
    radar = [s for s in sensors.sensors if s.kind in ("psr", "ssr", "modes")]
    assert radar, sensors
    cfg = tracker_config_for(sensors)
    assert cfg.revisit_s == max(s.rotation_period_s for s in radar) == 4.0
    assert cfg.delete_after_s >= 3 * cfg.revisit_s


class _Recorder:
    """A stand-in pipeline that records what _play_round hands it, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def add_frames(self, t_s: object, frames: list[bytes], sensor: object) -> None:
        import numpy as np
        self.calls.append(("frames", (np.asarray(t_s).tolist(), np.asarray(sensor).tolist())))

    def advance(self) -> None:
        self.calls.append(("advance", None))


class _Feeder:
    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec

    def feed(self, payload: bytes, t_s: float) -> None:
        self.rec.calls.append(("datagram", t_s))


def test_play_round_interleaves_and_numbers_feeds_after_the_sensor_file() -> None:
    """Frames are cut at each datagram's time; Mode S feeds get ids after the sensors'."""
    import numpy as np

    from skyfuse.cli.replay import _Pacer, _play_round
    from skyfuse.runtime.merge import DatagramPiece, FramePiece

    rec = _Recorder()
    frames = FramePiece(np.array([1.0, 2.0, 3.5, 5.0]), [b"a", b"b", b"c", b"d"])
    grams = DatagramPiece(np.array([2.5, 4.0]), [b"x", b"y"])
    _play_round([(0, frames), (1, grams)], rec, _Pacer(0.0),  # type: ignore[arg-type]
                {1: _Feeder(rec)}, base=3)                    # type: ignore[dict-item]
    seq = [(k, v) for k, v in rec.calls if k != "advance"]
    assert seq == [("frames", ([1.0, 2.0], 3)), ("datagram", 2.5),
                   ("frames", ([3.5], 3)), ("datagram", 4.0), ("frames", ([5.0], 3))]


def test_serve_player_interleaves_beast_and_pcap_in_time(recording: Path) -> None:
    """serve's Player hands the two files' slices over in data time, not file by file."""
    import asyncio

    import numpy as np

    from skyfuse.runtime.playback import Player, Slice

    meta = json.loads((recording / "scenario.json").read_text())
    files = [str(recording / "asterix.pcap"), str(recording / "adsb.beast")]
    player = Player(files, ["asterix", "beast"], speed=0, shift_to_now=False,
                    t0_s=float(meta["replay_args"][-1]))
    starts: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def emit(s: Slice) -> None:
        fin = s.piece.t_s[np.isfinite(s.piece.t_s)]
        if len(fin):
            starts.append((float(fin[0]), s.file))

    asyncio.run(player.run(emit, stop))
    assert {f for _, f in starts} == {0, 1}
    t = np.array([t for t, _ in starts])
    # every slice starts no earlier than a slice (0.25 s of data) before the latest start
    assert (np.maximum.accumulate(t) - t).max() <= player.slice_s + 1e-6
