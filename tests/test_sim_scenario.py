"""Scenario files, truth trajectories, ``skyfuse simulate`` outputs and
``skyfuse bench-scenario`` (short windows only: the shipped runs are for docs)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from skyfuse.cli.main import main
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.measure.sensors import load_sensors
from skyfuse.sim.scenario import ScenarioError, load_scenario, parse_scenario
from skyfuse.sim.trajectories import Sample, build_trajectories, load_sample

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _short(tmp_path: Path, name: str, seconds: float, **subs: str) -> Path:
    text = (ROOT / "scenarios" / name).read_text()
    text = text.replace("duration_s = 3600.0", f"duration_s = {seconds}")
    text = text.replace("duration_s = 7200.0", f"duration_s = {seconds}")
    for old, new in subs.items():
        text = text.replace(old, new)
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_scenarios_parse_as_the_issue_says() -> None:
    assert {p.name for p in SCENARIOS} >= {"radar-terminal-paris.toml", "adsb-gaps.toml",
                                           "enroute-switzerland.toml",
                                           "enroute-switzerland-nobias.toml", "demo.toml"}
    paris = load_scenario(ROOT / "scenarios" / "radar-terminal-paris.toml")
    (r,) = paris.radars
    assert (r.lat_deg, r.lon_deg, r.height_m, r.rotation_period_s) == (49.01, 2.55, 60.0, 4.0)
    assert (r.sigma_range_m, r.sigma_azimuth_deg, r.pd, r.max_range_nm) == (30, 0.07, 0.98, 120)
    assert r.psr is not None
    assert (r.psr.sigma_range_m, r.psr.sigma_azimuth_deg, r.psr.pd, r.psr.max_range_nm,
            r.psr.clutter_per_scan) == (50, 0.12, 0.9, 60, 20)
    assert paris.adsb is None and paris.duration_s == 3600
    ch = load_scenario(ROOT / "scenarios" / "enroute-switzerland.toml")
    got = [(r.lat_deg, r.lon_deg, r.rotation_period_s, r.range_bias_m, r.azimuth_bias_deg)
           for r in ch.radars]
    assert got == [(47.46, 8.55, 8, 60, 0.05), (46.24, 6.11, 10, -40, -0.08),
                   (46.95, 7.45, 12, 0, 0.10)]
    assert all((r.sigma_range_m, r.sigma_azimuth_deg, r.pd, r.max_range_nm) ==
               (40, 0.08, 0.97, 200) for r in ch.radars)
    assert ch.adsb is not None
    assert (ch.adsb.equipage, ch.adsb.nacp, ch.adsb.position_rate_hz, ch.adsb.loss) == \
        (0.7, (8,), 1.0, 0.05)
    nb = load_scenario(ROOT / "scenarios" / "enroute-switzerland-nobias.toml")
    assert all(r.range_bias_m == 0 and r.azimuth_bias_deg == 0 for r in nb.radars)
    assert [(r.lat_deg, r.rotation_period_s) for r in nb.radars] == \
        [(r.lat_deg, r.rotation_period_s) for r in ch.radars]
    gaps = load_scenario(ROOT / "scenarios" / "adsb-gaps.toml")
    assert gaps.radars == () and gaps.adsb is not None
    assert (gaps.adsb.nacp, gaps.adsb.gap_fraction, gaps.adsb.gaps_per_aircraft,
            gaps.adsb.gap_s) == ((7, 8, 9), 0.2, (1, 3), (10.0, 60.0))


@pytest.mark.parametrize("text, message", [
    ("[scenario]\nname='x'\ntrajectories='quickstart'\n", "missing required key 'duration_s'"),
    ("[scenario]\nname='x'\ntrajectories='q'\nduration_s=1\nbogus=1\n", "unknown key 'bogus'"),
    ("[scenario]\nname='x'\ntrajectories='q'\nduration_s='a'\n", "duration_s must be a finite"),
    ("[scenario]\nname='x'\ntrajectories='q'\nduration_s=1\n[[radar]]\nname='r'\nsac=1\n"
     "sic=1\nlat_deg=1\nlon_deg=1\npd=1.5\n", "radar[0] (r): pd must be within 0..1"),
    ("[scenario]\nname='x'\ntrajectories='q'\nduration_s=1\n[adsb]\nformat='sbs'\n",
     "format must be beast, avr or cat021"),
    ("[scenario\n", "not valid TOML"),
    # regression: NACp 0 (no accuracy bound) was accepted and gave infinite position noise
    ("[scenario]\nname='x'\ntrajectories='q'\nduration_s=1\n[adsb]\nnacp=[8, 0]\n",
     "nacp values must be 1..11"),
])
def test_bad_scenarios_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(text, "s.toml")


def test_disable_switches_sensors_off() -> None:
    sc = load_scenario(ROOT / "scenarios" / "enroute-switzerland.toml", ["GVA", "adsb"])
    assert [r.enabled for r in sc.radars] == [True, False, True]
    assert sc.adsb is not None and not sc.adsb.enabled
    with pytest.raises(ScenarioError, match="cannot disable 'XXX'"):
        load_scenario(ROOT / "scenarios" / "enroute-switzerland.toml", ["XXX"])


def test_truth_is_smooth_close_to_the_recording_and_drops_spikes() -> None:
    s = load_sample("quickstart")
    t0 = s.window_s[0] + 600.0
    sel = (s.t_s >= t0) & (s.t_s < t0 + 600)
    # one aircraft's rows, with a 5 km spike injected
    ac = int(np.bincount(s.aircraft[sel & ~s.onground & np.isfinite(s.alt_ft)]).argmax())
    rows = np.flatnonzero(sel & (s.aircraft == ac))
    lat = s.lat_deg.copy()
    spike = rows[len(rows) // 2]
    lat[spike] += 0.05
    one = Sample(t_s=s.t_s, aircraft=s.aircraft, icao24=s.icao24, callsign=s.callsign,
                 squawk=s.squawk, lat_deg=lat, lon_deg=s.lon_deg, alt_ft=s.alt_ft,
                 onground=s.onground | (s.aircraft != ac), window_s=s.window_s)
    traj = build_trajectories(one, t0, t0 + 600)
    assert len(traj) == 1
    assert traj.icao24[0] == int(str(s.icao24[ac]), 16)
    frame = LocalFrame(49.0, 2.5)
    truth = frame.to_plane(*[traj.at(np.zeros(len(rows), int), s.t_s[rows])[k]
                             for k in ("lat_deg", "lon_deg")])
    rec = frame.to_plane(s.lat_deg[rows], s.lon_deg[rows])
    d = np.hypot(*(truth - rec).T)
    # the recording repeats stale positions (steps of ~100 m at 1 s); the 5.5 km spike
    # is gone from the truth
    assert np.median(d) < 40.0 and d.max() < 300.0
    k = int(np.flatnonzero(rows == spike)[0])
    spiked = frame.to_plane(lat[spike], s.lon_deg[spike])[0]
    assert np.hypot(*(truth[k] - spiked)) > 5000.0 and d[k] < 300.0
    # velocity = derivative of the position (east/north at the aircraft)
    g = traj.start[0] + np.arange(10, traj.count[0] - 10)
    xy = frame.to_plane(traj.lat_deg[g], traj.lon_deg[g])
    v_num = np.gradient(xy, traj.dt_s, axis=0)
    v = np.stack([traj.vx_mps[g], traj.vy_mps[g]], 1)
    # (the plane's axes turn against local east/north by the meridian convergence, up to
    # ~1° here: compare speeds, and headings loosely)
    assert np.percentile(np.abs(np.hypot(*v_num.T) - np.hypot(*v.T)), 95) < 1.0
    dh = np.degrees(np.arctan2(v_num[:, 0], v_num[:, 1]) - np.arctan2(v[:, 0], v[:, 1]))
    assert np.percentile(np.abs((dh + 180) % 360 - 180), 95) < 2.0


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_simulate_writes_contract_files_deterministically(tmp_path: Path) -> None:
    sc = _short(tmp_path, "enroute-switzerland.toml", 240.0)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main(["simulate", str(sc), "-o", str(a)]) == 0
    assert main(["simulate", str(sc), "-o", str(b)]) == 0
    assert main(["simulate", str(sc), "-o", str(c), "--seed", "99"]) == 0
    for name in ("asterix.pcap", "truth.csv", "sensors.toml"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "asterix.pcap").read_bytes() != (c / "asterix.pcap").read_bytes()
    with open(a / "truth.csv") as f:
        assert f.readline().strip() == ("t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps"
                                         ",adsb")
    truth = _rows(a / "truth.csv")
    assert len(truth) > 1000
    assert all(len(r["icao24"]) == 6 for r in truth)
    meta = json.loads((a / "scenario.json").read_text())
    assert meta["update_period_s"] == {"ZRH": 8.0, "GVA": 10.0, "BRN": 12.0, "adsb": 1.0}
    assert meta["nominal_period_s"] == 8.0                 # the shortest radar period
    assert meta["reference"] == [46.8, 7.6]
    assert {f["path"] for f in meta["files"]} == {"asterix.pcap", "truth.csv", "sensors.toml"}
    ts = np.array([float(r["t_s"]) for r in truth])
    assert meta["t_start_s"] <= ts.min() and ts.max() < meta["t_end_s"] == meta["t_start_s"] + 240
    sensors = load_sensors(a / "sensors.toml")
    assert [s.name for s in sensors.sensors] == ["ZRH", "GVA", "BRN", "ADS-B ground station"]
    assert all(s.range_bias_m == 0 for s in sensors.sensors)    # biases unknown to operator
    assert sensors.sensors[0].rotation_period_s == 8.0
    eq = set(meta["adsb"]["equipped_icao24"])
    addrs = {r["icao24"] for r in truth}
    assert 0.5 < len(eq & addrs) / len(addrs) < 0.9          # 70 % of the aircraft
    assert all(r["adsb"] == ("1" if r["icao24"] in eq else "0") for r in truth)


def test_disabled_sensor_leaves_the_others_unchanged(tmp_path: Path) -> None:
    sc = _short(tmp_path, "enroute-switzerland.toml", 120.0)
    from skyfuse.decode.asterix import AsterixDecoder, decode_datagrams
    from skyfuse.ingest.asterix_source import iter_asterix_file

    def plots(d: Path) -> dict[int, list[float]]:
        b = decode_datagrams(((x.t_s, x.payload) for x in iter_asterix_file(d / "asterix.pcap")),
                             AsterixDecoder(dedup=False)).plots
        return {int(s): b.slant_range_m[b.sic == s].tolist() for s in np.unique(b.sic)}

    assert main(["simulate", str(sc), "-o", str(tmp_path / "all")]) == 0
    assert main(["simulate", str(sc), "-o", str(tmp_path / "two"), "--disable", "GVA",
                 "--disable", "adsb"]) == 0
    full, two = plots(tmp_path / "all"), plots(tmp_path / "two")
    assert set(two) == {1, 3}
    assert two[1] == full[1] and two[3] == full[3]


def test_simulate_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\nname='x'\ntrajectories='quickstart'\nduration_s=1\nfoo=2\n")
    assert main(["simulate", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "bad.toml: [scenario]: unknown key 'foo'" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "missing.toml"), "-o", str(tmp_path / "o")]) == 2
    missing = tmp_path / "m.toml"
    missing.write_text("[scenario]\nname='x'\ntrajectories='/nope/x.npz'\nduration_s=1\n")
    assert main(["simulate", str(missing), "-o", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
    gaps = _short(tmp_path, "adsb-gaps.toml", 120.0)
    assert main(["bench-scenario", str(gaps), "-o", str(tmp_path / "b"), "--disable",
                 "adsb"]) == 2
    assert "no sensor enabled" in capsys.readouterr().err


def test_bench_scenario_last_line_is_the_summary(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sc = _short(tmp_path, "adsb-gaps.toml", 300.0, **{"gap_fraction = 0.2": "gap_fraction = 0.5"})
    assert main(["bench-scenario", str(sc), "-o", str(tmp_path / "run")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["scenario"] == "adsb-gaps"
    assert 5.0 < summary["position_rms_m"] < 80.0          # NACp 7-9 (σ 12-76 m), smoothed
    assert summary["identity_swaps"] == 0
    g = summary["gaps"]
    assert g["gaps"] > 0 and g["breaks_le_30s"] == 0 and g["swaps"] == 0
    assert (tmp_path / "run" / "tracks.csv").exists()
    assert (tmp_path / "run" / "report" / "summary.json").exists()
    # CONTRACTS.md: the last line IS the summary.json object (it lacked gaps, bench ...)
    assert json.loads((tmp_path / "run" / "report" / "summary.json").read_text()) == summary


def test_gap_continuity_counts_breaks_and_swaps(tmp_path: Path) -> None:
    from skyfuse.cli.bench_scenario import gap_continuity

    rows = ["t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps"]
    for t in range(0, 100):
        a_id = 1 if t < 50 else 2                       # aaaaaa: new track after its gap
        b_id = 3 if t < 50 else 4                       # bbbbbb: takes track 4 ...
        if not 40 <= t < 45:
            rows.append(f"{t},{a_id},confirmed,1,1,0,aaaaaa,,0,0")
        if not 60 <= t < 70:
            rows.append(f"{t},{b_id if t < 70 else 1},confirmed,1,1,0,bbbbbb,,0,0")
    p = tmp_path / "tracks.csv"
    p.write_text("\n".join(rows) + "\n")
    gaps = [{"icao24": "aaaaaa", "t0_s": 40.0, "t1_s": 45.0},     # same track across: ok
            {"icao24": "bbbbbb", "t0_s": 60.0, "t1_s": 70.0},     # 4 → 1 (held by aaaaaa)
            {"icao24": "cccccc", "t0_s": 10.0, "t1_s": 80.0}]     # never seen
    g = gap_continuity(p, gaps)
    assert g == {"gaps": 3, "gaps_le_30s": 2, "breaks_le_30s": 1, "breaks_gt_30s": 0,
                 "swaps": 1, "unobserved": 1}


def test_adsb_gaps_as_configured_never_overlap() -> None:
    """Regression: aircraft were picked for gaps one by one with probability gap_fraction
    (23 of 86 = 27 % instead of 20 % in adsb-gaps.toml) and their gaps could overlap (one
    merged gap of 73 s where 10-60 s was asked)."""
    from skyfuse.sim.adsb import simulate_adsb
    from skyfuse.sim.scenario import AdsbConfig

    s = load_sample("quickstart")
    t0 = s.window_s[0]
    traj = build_trajectories(s, t0, t0 + 1800.0)
    cfg = AdsbConfig(gap_fraction=0.2, gaps_per_aircraft=(1, 3), gap_s=(10.0, 60.0),
                     position_rate_hz=0.5, velocity_rate_hz=0.2,
                     identification_period_s=30.0, status_period_s=30.0)
    sim = simulate_adsb(traj, cfg, (49.01, 2.55), t0, t0 + 1800.0,
                        np.random.default_rng(3))
    g = sim.gaps
    seg = g[:, 0].astype(int)
    assert len(np.unique(seg)) == round(0.2 * int(sim.equipped.sum()))
    d = g[:, 2] - g[:, 1]
    assert (d >= 10.0).all() and (d <= 60.0).all()
    assert (np.bincount(seg) <= 3).all() and len(g) > len(np.unique(seg))
    for f in np.unique(seg):
        mine = g[seg == f]
        mine = mine[np.argsort(mine[:, 1])]
        assert (mine[1:, 1] - mine[:-1, 2] >= 30.0).all()        # 30 s heard between gaps
        assert mine[0, 1] >= traj.t0_s[f] + 30.0 and mine[-1, 2] <= traj.t1_s[f] - 30.0
        t = sim.t_s[sim.truth_id == f]
        for _f, a, b in mine:
            assert not ((t >= a) & (t < b)).any()                 # nothing heard in a gap
