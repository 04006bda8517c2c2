"""skyfuse's DF17 encoder (skyfuse.sim.modes_encode) checked through rs1090, and the
simulated ADS-B recordings replayed through skyfuse's own Beast/AVR path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rs1090
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfuse.cli.main import main
from skyfuse.sim import modes_encode as me

# NL transition latitudes: NL drops from n to n-1 where 2π/acos(1 − (1−cos(π/30))/cos²φ) = n,
# i.e. cos φ = sqrt((1 − cos(π/30)) / (1 − cos(2π/n))) (closed form, independent of nl()).
_NS = [59, 58, 50, 44, 30, 20, 10, 3]
_TRANSITIONS = [float(np.degrees(np.arccos(np.sqrt((1 - np.cos(np.pi / 30))
                                                   / (1 - np.cos(2 * np.pi / n))))))
                for n in _NS]


def _hex(frames: np.ndarray) -> list[str]:
    return [bytes(f).hex() for f in frames]


def _lon_lsb(lat: float, odd: bool) -> float:
    return 360.0 / max(int(me.nl(lat)) - int(odd), 1) / 2**17


def test_crc_matches_a_real_frame() -> None:
    # a real DF17 identification frame (KLM1023, category set A 0) from the literature
    frame = bytes.fromhex("8D4840D6202CC371C32CE0576098")
    body = np.frombuffer(frame[:11], np.uint8)[None, :]
    assert int(me.crc24(body)[0]) == 0x576098
    ident = me.df17_frames([0x4840D6], me.identification_me(["KLM1023"], category=0))
    assert bytes(ident[0]) == frame
    whole = np.frombuffer(frame, np.uint8)[None, :]
    assert int(me.crc24(whole)[0]) == 0                  # remainder of a good frame is 0


def test_nl_table_values() -> None:
    assert me.nl([0.0, 87.0, 87.5, -87.5, 10.0, -10.0]).tolist() == [59, 2, 1, 1, 59, 59]
    assert abs(_TRANSITIONS[0] - 10.47047130) < 1e-7       # the published table's first row
    for n, lat in zip(_NS, _TRANSITIONS, strict=True):
        assert me.nl(lat - 1e-6) == n
        assert me.nl(lat + 1e-6) == n - 1
        assert me.nl(-(lat + 1e-6)) == n - 1


@settings(max_examples=150, deadline=None)
@given(lat=st.floats(-85.0, 85.0), lon=st.floats(-180.0, 179.999), odd=st.booleans())
def test_local_cpr_decodes_within_resolution(lat: float, lon: float, odd: bool) -> None:
    f = me.df17_frames([0x3C6586], me.airborne_position_me([lat], [lon], [35000.0], [odd]))
    msg = rs1090.decode(bytes(f[0]).hex(), 0.0, reference=(lat + 0.3, lon - 0.3))
    assert msg["parity"] == ("odd" if odd else "even")
    dlat = 360.0 / (60 - int(odd)) / 2**17
    assert abs(msg["latitude"] - lat) <= 0.5 * dlat + 1e-9
    dlon = (msg["longitude"] - lon + 180.0) % 360.0 - 180.0
    assert abs(dlon) <= 0.5 * _lon_lsb(msg["latitude"], odd) + 1e-9


@pytest.mark.parametrize("hemisphere", [1.0, -1.0])
@pytest.mark.parametrize("lon", [0.0001, -0.0001, 179.9999, -179.9999, 7.5, -120.25])
def test_global_cpr_near_zone_boundaries(hemisphere: float, lon: float) -> None:
    """Even+odd pairs around every NL transition, both hemispheres, near lon 0 and ±180."""
    checked = 0
    for tr in _TRANSITIONS[:-1]:
        for dy in (-3e-5, -1e-5, 1e-5, 3e-5, -2e-3, 2e-3):
            lat = hemisphere * (tr + dy)
            pair = me.df17_frames([0xABCDEF, 0xABCDEF], me.airborne_position_me(
                [lat, lat], [lon, lon], [30000.0, 30000.0], [False, True]))
            msgs = rs1090.decode(_hex(pair), [0.0, 1.0])
            got = msgs[1].get("latitude")
            if got is None:    # even/odd latitudes in different NL zones: no global fix
                ye, _ = me.cpr_encode_airborne([lat], [lon], [False])
                yo, _ = me.cpr_encode_airborne([lat], [lon], [True])
                rl_e = 6.0 * (ye[0] / 2**17 + np.floor(lat / 6.0))
                rl_o = 360 / 59 * (yo[0] / 2**17 + np.floor(lat / (360 / 59)))
                assert me.nl(rl_e) != me.nl(rl_o)
                continue
            checked += 1
            assert abs(got - lat) <= 0.5 * 360 / 59 / 2**17 + 1e-9
            dlon = (msgs[1]["longitude"] - lon + 180.0) % 360.0 - 180.0
            assert abs(dlon) <= 0.5 * _lon_lsb(got, True) + 1e-9
            # the same point, decoded locally from the even message alone
            loc = rs1090.decode(_hex(pair[:1])[0], 0.0, reference=(lat, lon))
            dlon = (loc["longitude"] - lon + 180.0) % 360.0 - 180.0
            assert abs(dlon) <= 0.5 * _lon_lsb(loc["latitude"], False) + 1e-9
    assert checked >= 30                                 # most pairs share their NL zone


def test_nl_taken_at_the_decoded_latitude() -> None:
    """Just above a transition the true latitude's NL is one less than the decoded one's:
    encoding with NL(true lat) (the adsb-generator mistake) would be kilometres off."""
    tr = _TRANSITIONS[3]                                  # 42.81 N: NL 44 → 43
    for lat in np.linspace(tr - 2e-5, tr + 2e-5, 9):
        for odd in (False, True):
            f = me.df17_frames([1], me.airborne_position_me([lat], [8.0], [1e4], [odd]))
            msg = rs1090.decode(bytes(f[0]).hex(), 0.0, reference=(tr + 0.1, 8.1))
            assert abs(msg["longitude"] - 8.0) < 1e-3, (lat, odd, msg["longitude"])


def test_other_messages_decode() -> None:
    ident = rs1090.decode(_hex(me.df17_frames([0x4CA123], me.identification_me(["EZY12A"])))[0])
    assert ident["callsign"] == "EZY12A"
    vel = rs1090.decode(_hex(me.df17_frames([1], me.velocity_me([-100.0], [50.0],
                                                                [-1200.0])))[0])
    gs_kt = np.hypot(100.0, 50.0) * me.MS_TO_KT
    assert abs(vel["groundspeed"] - gs_kt) < 1.0
    assert abs(vel["track"] - (360.0 - np.degrees(np.arctan2(100.0, 50.0)))) < 0.5
    assert abs(vel["vertical_rate"] - -1200) <= 32
    status = rs1090.decode(_hex(me.df17_frames([1], me.operational_status_me([9])))[0])
    assert status["NACp"] == 9 and status["version"] == 2
    for alt in (-1000.0, 0.0, 12345.0, 38000.0, 50000.0):
        pos = rs1090.decode(_hex(me.df17_frames([1], me.airborne_position_me(
            [45.0], [5.0], [alt], [False])))[0])
        assert abs(pos["altitude"] - alt) <= 12.5


def _gaps_scenario(tmp_path: Path, fmt: str) -> Path:
    text = (Path(__file__).parent.parent / "scenarios" / "adsb-gaps.toml").read_text()
    text = text.replace("duration_s = 3600.0", "duration_s = 300.0")
    text = text.replace('format = "beast"', f'format = "{fmt}"')
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("fmt", ["beast", "avr"])
def test_simulated_recording_replays(tmp_path: Path, fmt: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", str(_gaps_scenario(tmp_path, fmt)), "-o", str(out)]) == 0
    meta = json.loads((out / "scenario.json").read_text())
    rec = out / f"adsb.{fmt}"
    assert rec.stat().st_size > 0
    n_pos = meta["files"][0]["positions"]
    t0 = meta["files"][0]["t_first_s"]
    tracks = tmp_path / "tracks.csv"
    assert main(["replay", str(rec), "-o", str(tracks), "--receiver", "49.01,2.55",
                 "--t0", repr(t0)]) == 0
    err = capsys.readouterr().err
    assert "crc failures 0" in err
    positions = int(err.split("positions ")[1].split(",")[0])
    assert positions >= 0.97 * n_pos                     # all but the first of each pair
    truth_icao = {line.split(",")[2] for line in
                  (out / "truth.csv").read_text().splitlines()[1:]}
    rows = [r.split(",") for r in tracks.read_text().splitlines()[1:]]
    assert {r[6] for r in rows if r[2] == "confirmed"} == truth_icao
    t = np.array([float(r[0]) for r in rows])
    assert meta["t_start_s"] <= t.min() and t.max() < meta["t_end_s"]


def _cat021_sim() -> tuple[object, object, list[tuple[float, bytes, int]]]:
    from skyfuse.sim.adsb import simulate_adsb
    from skyfuse.sim.asterix_out import cat021_datagrams
    from skyfuse.sim.scenario import AdsbConfig
    from skyfuse.sim.trajectories import build_trajectories, load_sample

    s = load_sample("quickstart")
    t0 = s.window_s[0] + 720.0
    traj = build_trajectories(s, t0, t0 + 300.0)
    cfg = AdsbConfig(format="cat021", equipage=1.0, nacp=(7, 9), receiver=(49.01, 2.55))
    sim = simulate_adsb(traj, cfg, (49.01, 2.55), t0, t0 + 30.0, np.random.default_rng(4))
    pos = np.flatnonzero(sim.kind == 0)
    seg = sim.truth_id[pos]
    fl = np.round(traj.at(seg, sim.t_s[pos])["alt_ft"] / 25.0) / 4.0
    dgrams = cat021_datagrams(0, 200, sim.t_s[pos], sim.lat_deg[pos], sim.lon_deg[pos],
                              traj.icao24[seg], fl, traj.callsign[seg], sim.nacp[seg])
    return traj, (sim, pos, fl), [(t, d, 8601) for t, d in dgrams]


def test_cat021_reads_back(tmp_path: Path, require_peer: Any) -> None:
    from asterix_helpers import tshark_records
    from skyfuse.decode.asterix import AsterixDecoder, decode_datagrams
    from skyfuse.ingest.asterix_source import iter_asterix_file
    from skyfuse.sim.asterix_out import write_pcap

    traj, (sim, pos, fl), dgrams = _cat021_sim()
    pcap = tmp_path / "a.pcap"
    write_pcap(pcap, dgrams)
    b = decode_datagrams(((d.t_s, d.payload) for d in iter_asterix_file(pcap)),
                         AsterixDecoder(dedup=False)).adsb
    assert len(b) == len(pos) > 200
    lsb = 180.0 / 2**30
    assert np.abs(b.lat_deg - sim.lat_deg[pos]).max() <= lsb
    assert np.abs(b.lon_deg - sim.lon_deg[pos]).max() <= lsb
    assert np.array_equal(b.icao24, traj.icao24[sim.truth_id[pos]])
    assert np.array_equal(b.nacp, sim.nacp[sim.truth_id[pos]])
    assert np.array_equal(b.fl, fl)
    assert np.abs(b.t_s - sim.t_s[pos]).max() <= 1 / 256 + 1e-9
    tshark = require_peer("tshark")
    theirs = [r for r in tshark_records(tshark, pcap, (8601,)) if r["cat"] == 21]
    assert len(theirs) == len(b)
    for i in (0, len(b) // 2, len(b) - 1):
        r = theirs[i]["131"]
        assert float(r["asterix.021_131_LAT"]) == pytest.approx(b.lat_deg[i], abs=1e-9)
        assert float(r["asterix.021_131_LON"]) == pytest.approx(b.lon_deg[i], abs=1e-9)
        assert int(theirs[i]["080"]["asterix.021_080_VALUE"], 16) == b.icao24[i]
