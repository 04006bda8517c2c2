"""Simulated rotating radars: noise and bias as configured, coverage, and CAT048/CAT034
that read back identically through skyfuse's reader and tshark's dissector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from asterix_helpers import tshark_records
from skyfuse.decode.asterix import AsterixDecoder, decode_datagrams
from skyfuse.decode.asterix_records import NM_TO_M
from skyfuse.ingest.asterix_source import iter_asterix_file
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.measure.radar import plots_to_measurements, rotation_periods_s
from skyfuse.measure.sensors import parse_sensors
from skyfuse.sim.asterix_out import quantised, radar_datagrams, write_pcap
from skyfuse.sim.radar import RadarPlotsSim, simulate_radar
from skyfuse.sim.scenario import PsrConfig, RadarConfig
from skyfuse.sim.simulate import sensors_toml
from skyfuse.sim.trajectories import Trajectories, build_trajectories, load_sample

CDG = RadarConfig(name="CDG", sac=7, sic=1, lat_deg=49.01, lon_deg=2.55, height_m=60.0,
                  rotation_period_s=4.0, sigma_range_m=30.0, sigma_azimuth_deg=0.07, pd=0.98,
                  max_range_nm=120.0,
                  psr=PsrConfig(sic=2, sigma_range_m=50.0, sigma_azimuth_deg=0.12, pd=0.9,
                                max_range_nm=60.0, clutter_per_scan=20.0))


@cache
def _traj(seconds: float) -> tuple[Trajectories, float]:
    s = load_sample("quickstart")
    t0 = s.window_s[0] + 720.0
    return build_trajectories(s, t0, t0 + seconds), t0


def _sim(r: RadarConfig, seconds: float, seed: int = 1) -> tuple[RadarPlotsSim, float]:
    traj, t0 = _traj(seconds)
    return simulate_radar(traj, r, t0, t0 + seconds, np.random.default_rng(seed)), t0


def _readback(tmp_path: Path, r: RadarConfig, plots: RadarPlotsSim) -> tuple[Path, object]:
    pcap = tmp_path / "r.pcap"
    write_pcap(pcap, [(t, d, r.port) for t, d in radar_datagrams(r, plots)])
    dec = AsterixDecoder(dedup=False)
    return pcap, decode_datagrams(((d.t_s, d.payload) for d in iter_asterix_file(pcap)), dec)


def _wrap_deg(a: np.ndarray) -> np.ndarray:
    return (a + 180.0) % 360.0 - 180.0


def test_noise_and_bias_as_configured_after_readback(tmp_path: Path) -> None:
    mssr = replace(CDG, range_bias_m=60.0, azimuth_bias_deg=0.05, psr=None)
    psr = replace(CDG, kind="psr", sic=3, sigma_range_m=50.0, sigma_azimuth_deg=0.12,
                  range_bias_m=-25.0, azimuth_bias_deg=-0.1, max_range_nm=60.0, psr=None)
    for r in (mssr, psr):
        plots, _ = _sim(r, 900.0)
        _, b = _readback(tmp_path, r, plots)
        got = b.plots
        assert len(got) == len(plots)
        assert np.array_equal(got.t_s, plots.t_s)            # written on the 1/128 s grid
        sr, sa, br, ba = (r.sigma_range_m, r.sigma_azimuth_deg, r.range_bias_m,
                          r.azimuth_bias_deg)
        sel = plots.truth_id >= 0
        assert set(np.unique(plots.typ).tolist()) == ({1} if r.kind == "psr" else {5})
        n = int(sel.sum())
        assert n >= 1000
        dr = got.slant_range_m[sel] - plots.true_range_m[sel]
        da = _wrap_deg(got.azimuth_deg[sel] - plots.true_azimuth_deg[sel])
        assert abs(np.std(dr) / sr - 1.0) < 0.10
        assert abs(np.std(da) / sa - 1.0) < 0.10
        assert abs(np.mean(dr) - br) < 4.0 * sr / np.sqrt(n)
        assert abs(np.mean(da) - ba) < 4.0 * sa / np.sqrt(n)


def test_identity_typ_and_coverage() -> None:
    plots, _ = _sim(CDG, 600.0)
    target = plots.truth_id >= 0
    psr_only = plots.typ == 1
    # I048/020 TYP: 1 single PSR, 5 single Mode S roll-call, 7 Mode S roll-call + PSR
    # (regression: combined plots were written as 5 and Mode S-only ones as 4, all-call)
    assert set(np.unique(plots.typ[target]).tolist()) <= {1, 5, 7}
    assert (plots.sic[psr_only] == 2).all() and (plots.sic[~psr_only] == 1).all()
    # PSR-only plots and clutter carry no identity; Mode S plots carry address and Mode C
    assert (plots.icao24[psr_only] == -1).all() and np.isnan(plots.fl[psr_only]).all()
    assert (plots.icao24[~psr_only] >= 0).all() and np.isfinite(plots.fl[~psr_only]).all()
    assert (plots.true_range_m[target] <= 120 * 1852.0).all()
    assert (plots.true_range_m[target & (plots.typ != 5)] <= 60 * 1852.0 + 1).all()
    # combined plots: both detected (Pd 0.98 · 0.9 inside 60 NM)
    inside = target & (plots.true_range_m < 55 * 1852.0)
    share = np.mean(plots.typ[inside] == 7)
    assert 0.85 < share < 0.95
    n_scans = len(plots.north_s)
    clutter = int((plots.truth_id < 0).sum())
    assert abs(clutter / n_scans - 20.0) < 4 * np.sqrt(20.0 / n_scans)
    # plot time = when the beam (clockwise, north at the scan start) crosses the azimuth
    k = np.searchsorted(plots.north_s, plots.t_s, "right") - 1
    beam = 360.0 * (plots.t_s - plots.north_s[k]) / CDG.rotation_period_s
    for tid in np.unique(plots.truth_id[target]):            # one plot per scan at most
        assert np.diff(plots.t_s[plots.truth_id == tid]).min() > 0.5 * CDG.rotation_period_s
    off = np.abs(_wrap_deg(beam - plots.true_azimuth_deg))
    # within the time LSB (1/128 s of a 90 °/s beam: ±0.35°) beyond 5 km (close in, the
    # azimuth itself moves by degrees per second)
    assert off[target & (plots.true_range_m > 5000)].max() < 0.36


def test_pd_falls_with_range() -> None:
    flat = replace(CDG, psr=None, pd=1.0, max_range_nm=200.0)
    falling = replace(flat, pd_at_max_range=0.2, pd_falloff_from_nm=0.0)
    a, _ = _sim(flat, 600.0, seed=5)
    b, _ = _sim(falling, 600.0, seed=5)
    edges = np.array([0, 30, 60]) * 1852.0
    na = np.histogram(a.true_range_m, edges)[0]
    nb = np.histogram(b.true_range_m, edges)[0]
    mid_nm = np.array([15, 45])
    expected = 1.0 - 0.8 * mid_nm / 200.0                     # linear from 1 to 0.2
    assert np.allclose(nb / na, expected, atol=0.04)


def test_cone_of_silence_and_line_of_sight() -> None:
    low = replace(CDG, psr=None, height_m=0.0, max_range_nm=250.0, cone_of_silence_deg=10.0,
                  refraction_k=4.0 / 3.0)
    plots, _ = _sim(low, 600.0)
    traj, _t0 = _traj(600.0)
    s = traj.at(plots.truth_id, plots.t_s)
    h = s["alt_ft"] * 0.3048
    elev = np.degrees(np.arcsin(np.clip(h / plots.true_range_m, -1, 1)))
    assert (elev < 10.5).all()                               # nothing above the cone
    horizon_m = np.sqrt(2 * 4 / 3 * 6_371_000.0 * np.maximum(h, 0))
    assert (plots.true_range_m < horizon_m * 1.01 + 100).all()


def test_cat048_readback_matches_what_was_encoded(tmp_path: Path) -> None:
    plots, _ = _sim(CDG, 120.0)
    _, b = _readback(tmp_path, CDG, plots)
    q = quantised(plots)
    p = b.plots
    assert np.array_equal(np.round(p.slant_range_m / NM_TO_M * 256).astype(int), q["rho"])
    assert np.array_equal(np.round(p.azimuth_deg * 65536 / 360).astype(int), q["theta"])
    assert np.array_equal(p.detection_type, plots.typ)
    assert np.array_equal(p.icao24, plots.icao24)
    assert np.array_equal(p.mode3a, plots.mode3a)
    assert np.array_equal(np.isnan(p.fl), np.isnan(plots.fl))
    ok = np.isfinite(plots.fl)
    assert np.array_equal(p.fl[ok], plots.fl[ok])
    assert [c.decode() for c in p.callsign] == [str(c) for c in plots.callsign]
    s = b.services
    assert len(s) == 2 * len(plots.north_s)
    assert (s.msg_type == 1).all()
    assert rotation_periods_s(s) == {(7, 1): 4.0, (7, 2): 4.0}


def test_cat048_agrees_with_tshark(tmp_path: Path,
                                   require_peer: Callable[[str], str]) -> None:
    tshark = require_peer("tshark")
    plots, _ = _sim(CDG, 40.0)
    pcap, b = _readback(tmp_path, CDG, plots)
    theirs = [r for r in tshark_records(tshark, pcap, (CDG.port,)) if r["cat"] == 48]
    assert len(theirs) == len(plots) == len(b.plots)

    def v(r: dict, item: str, field: str) -> str | None:
        sub = r.get(item)
        return None if sub is None else sub.get(f"asterix.048_{item}_{field}")

    for i, r in enumerate(theirs):
        p = b.plots
        assert int(v(r, "010", "SIC"), 0) == p.sic[i]
        assert float(v(r, "140", "VALUE")) == pytest.approx(p.tod_s[i], abs=1e-9)
        assert float(v(r, "040", "RHO")) == pytest.approx(p.slant_range_m[i] / NM_TO_M,
                                                          abs=1e-9)
        assert float(v(r, "040", "THETA")) == pytest.approx(p.azimuth_deg[i], abs=1e-9)
        assert int(v(r, "020", "TYP")) == p.detection_type[i]
        if p.icao24[i] >= 0:
            assert int(v(r, "220", "VALUE"), 16) == p.icao24[i]
            assert float(v(r, "090", "FL")) == p.fl[i]
            assert int(v(r, "070", "MODE3A")) == p.mode3a[i]
        if p.callsign[i]:
            assert v(r, "240", "VALUE").strip() == p.callsign[i].decode()
        else:
            assert r.get("240") is None


def test_slant_range_consistent_with_the_reader(tmp_path: Path) -> None:
    """Noise-free plots, read back and corrected slant → ground with Mode C by
    skyfuse.measure.radar, land on the truth within the items' quantisation."""
    exact = replace(CDG, sigma_range_m=1e-9, sigma_azimuth_deg=1e-9, psr=None,
                    max_range_nm=200.0)
    plots, _ = _sim(exact, 240.0)
    _, b = _readback(tmp_path, exact, plots)
    sensors = parse_sensors(sensors_toml([exact]))
    frame = LocalFrame(49.01, 2.55)
    m = plots_to_measurements(b.plots, sensors, frame).batch
    assert m.valid.all()
    rng, az = m.z[:, 0], m.z[:, 1]
    xy = m.origin_m[:, :2] + np.stack([rng * np.sin(az), rng * np.cos(az)], 1)
    traj, _t0 = _traj(240.0)
    s = traj.at(plots.truth_id, plots.t_s)
    true_xy = frame.to_plane(s["lat_deg"], s["lon_deg"])
    err = np.hypot(*(xy - true_xy).T)
    far = plots.true_range_m > 50_000
    assert far.sum() > 50
    assert np.sqrt(np.mean(err**2)) < 8.0
    assert err.max() < 25.0       # 1/256 NM = 7 m in range, 360°/2¹⁶ = 19 m at 200 km
