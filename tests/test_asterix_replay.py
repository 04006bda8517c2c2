"""Radar plots end to end: CAT048 scans of three straight-flying targets (rho/theta with
noise, Mode S address, flight level, SAC/SIC) plus CAT034 north markers, written as a pcap,
replayed by ``skyfuse replay FILE --sensors radar.toml -o tracks.csv``: one confirmed track
per target, with its Mode S address, within a few hundred metres of the truth."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pymap3d
import pytest

from asterix_helpers import cat034_north_marker, cat048_block, pcap_bytes, udp_frame
from skyfuse.cli.main import main
from skyfuse.decode.asterix_records import NM_TO_M
from skyfuse.ingest.stream import detect_format
from skyfuse.measure.geodesy import FT_TO_M, LocalFrame

RADAR = {"sac": 25, "sic": 13, "lat": 47.0, "lon": 8.0, "height_m": 500.0}
SENSORS_TOML = f"""
[[sensor]]
name = "Test MSSR"
sac = {RADAR["sac"]}
sic = {RADAR["sic"]}
kind = "modes"
lat_deg = {RADAR["lat"]}
lon_deg = {RADAR["lon"]}
height_m = {RADAR["height_m"]}
sigma_range_m = 30.0
sigma_azimuth_deg = 0.05
rotation_period_s = 4.0
"""
T0 = 1714903200.0  # 2024-05-05 10:00:00 UTC: north marker of the first scan
PERIOD_S = 4.0
N_SCANS = 12
# icao24, start east/north of the radar (m), velocity east/north (m/s), flight level
TARGETS = [
    (0x4BAACD, (-40_000.0, 30_000.0), (220.0, 0.0), 360.0),
    (0x3C660C, (25_000.0, -50_000.0), (0.0, 180.0), 240.0),
    (0xABC123, (60_000.0, 20_000.0), (-150.0, -150.0), 120.0),
]
SIGMA_RANGE_M = 30.0
SIGMA_AZ_DEG = 0.05


def _truth_xy(k: int, t: np.ndarray) -> np.ndarray:
    """Truth in the radar's plane (east/north, metres) at ``t`` seconds after T0."""
    _, p0, v, _ = TARGETS[k]
    return np.stack([p0[0] + v[0] * t, p0[1] + v[1] * t], axis=-1)


def _write_recording(path: Path) -> None:
    """North marker per scan; each target's plot when the beam crosses its azimuth."""
    rng = np.random.default_rng(2024)
    frame = LocalFrame(RADAR["lat"], RADAR["lon"])
    events: list[tuple[float, bytes]] = []
    for scan in range(N_SCANS):
        t_scan = scan * PERIOD_S
        events.append((t_scan, cat034_north_marker(RADAR["sac"], RADAR["sic"],
                                                   (T0 + t_scan) % 86400.0, PERIOD_S)))
        for k, (icao, _p0, _v, fl) in enumerate(TARGETS):
            t = t_scan
            for _ in range(3):  # the beam meets the moving target: converge on its azimuth
                xy = _truth_xy(k, np.array([t]))[0]
                az_plane = np.degrees(np.arctan2(xy[0], xy[1])) % 360.0
                t = t_scan + az_plane / 360.0 * PERIOD_S
            xy = _truth_xy(k, np.array([t]))
            lat, lon = frame.from_plane(xy[:, 0], xy[:, 1])
            az, _el, srange = pymap3d.geodetic2aer(lat[0], lon[0], fl * 100.0 * FT_TO_M,
                                                  RADAR["lat"], RADAR["lon"],
                                                  RADAR["height_m"])
            rho = float(srange) + rng.normal(0.0, SIGMA_RANGE_M)
            theta = (float(az) + rng.normal(0.0, SIGMA_AZ_DEG)) % 360.0
            events.append((t, cat048_block([{
                "sac": RADAR["sac"], "sic": RADAR["sic"], "tod_s": (T0 + t) % 86400.0,
                "rho_nm": rho / NM_TO_M, "theta_deg": theta, "icao24": icao, "fl": fl,
                "mode3a": 0o1000 + k, "trn": 100 + k}])))
    events.sort(key=lambda e: e[0])
    frames = [(T0 + t + 0.02, udp_frame(payload, dport=8600)) for t, payload in events]
    path.write_bytes(pcap_bytes(frames))


def test_pcap_is_never_taken_for_beast(tmp_path: Path) -> None:
    """Regression: a capture whose bytes hold a few ``0x1a 0x3x`` pairs was detected as Beast
    (by ``detect_format``) and replayed as Mode S: 0 plots, 0 tracks."""
    rec = tmp_path / "radar.pcap"
    _write_recording(rec)
    head = rec.read_bytes()[:4096]
    assert head.count(b"\x1a") > 4  # what fooled the Beast heuristic
    assert detect_format(head) is None


def test_radar_scans_replayed_to_one_confirmed_track_per_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "radar.pcap"
    _write_recording(rec)
    sensors = tmp_path / "radar.toml"
    sensors.write_text(SENSORS_TOML)
    tracks = tmp_path / "tracks.csv"
    assert main(["replay", str(rec), "--sensors", str(sensors), "-o", str(tracks)]) == 0
    err = capsys.readouterr().err
    assert f"asterix plots {N_SCANS * len(TARGETS)}," in err and f"services {N_SCANS}," in err
    assert "unknown sensors 0" in err and "tracks 3," in err  # no false or broken tracks
    with tracks.open(newline="") as f:
        rows = list(csv.DictReader(f))
    confirmed = [r for r in rows if r["status"] == "confirmed"]
    ids = {r["track_id"] for r in confirmed}
    assert len(ids) == len(TARGETS), sorted(ids)
    frame = LocalFrame(RADAR["lat"], RADAR["lon"])
    by_icao: dict[str, set[str]] = {}
    for r in confirmed:
        by_icao.setdefault(r["icao24"], set()).add(r["track_id"])
    assert sorted(by_icao) == sorted(f"{t[0]:06x}" for t in TARGETS)
    assert all(len(v) == 1 for v in by_icao.values()), by_icao
    for k, (icao, _p0, _v, fl) in enumerate(TARGETS):
        mine = [r for r in confirmed if r["icao24"] == f"{icao:06x}"]
        assert len(mine) >= N_SCANS - 4  # confirmed within the first few scans
        t = np.array([float(r["t_s"]) for r in mine]) - T0
        assert np.all((t > -1.0) & (t < N_SCANS * PERIOD_S + 1.0))  # UTC from the pcap
        got = frame.to_plane([float(r["lat_deg"]) for r in mine],
                             [float(r["lon_deg"]) for r in mine])
        err = np.linalg.norm(got - _truth_xy(k, t), axis=1)
        assert err.max() < 300.0, (f"{icao:06x}", err.round(1).tolist())
        assert np.sqrt(np.mean(err**2)) < 100.0  # σ 30 m in range, 0.05° (≈ 50 m) across
        assert all(float(r["alt_ft"]) == fl * 100.0 for r in mine)
