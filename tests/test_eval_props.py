"""Properties of the evaluation: readers never crash, order does not matter, RMS is exact."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_helpers import Flight, TrackRowsBuilder, write_truth
from skyfuse.cli.errors import InputError
from skyfuse.eval import EvalConfig, evaluate, read_tracks, read_truth
from skyfuse.eval.geo import local_offset_m, truth_at

TRACKS_HEAD = "t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps\n"
TRUTH_HEAD = "t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps\n"

_field = st.one_of(
    st.sampled_from(["", "1", "-3.5", "1e9", "nan", "inf", "confirmed", "coasting", "abc",
                     "4ca123", "48.9", "2.4", '"', '"x,y"', " 7 ", "\t", "\u00e9", "0x10"]),
    st.text(alphabet="0123456789.,-e\"\r\n ab", max_size=6))
_line = st.lists(_field, min_size=0, max_size=12).map(",".join)
_body = st.lists(_line, min_size=0, max_size=8).map("\n".join)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(body=_body, raw=st.binary(max_size=40))
def test_readers_never_crash_on_garbage(tmp_path: Path, body: str, raw: bytes) -> None:
    for head, reader in ((TRACKS_HEAD, read_tracks), (TRUTH_HEAD, read_truth)):
        for data in ((head + body).encode(), head.encode() + raw, raw):
            p = tmp_path / "f.csv"
            p.write_bytes(data)
            try:
                out = reader(p)
            except InputError as e:
                assert "f.csv" in str(e)
            else:
                assert len(out) <= data.count(b"\n") + 1


def _scenario(tmp_path: Path, seed: int) -> tuple[Path, Path, list[Flight]]:
    rng = np.random.default_rng(seed)
    flights = [Flight(f"T{i}", float(rng.uniform(-20e3, 20e3)), float(rng.uniform(-20e3, 20e3)),
                      float(rng.uniform(0, 360)), speed_mps=float(rng.uniform(80, 250)),
                      t1_s=1300, dt_s=float(rng.choice([1.0, 10.0])),
                      icao24=f"{0x400000 + i:06x}" if i % 2 else "")
               for i in range(6)]
    tb = TrackRowsBuilder()
    for i, f in enumerate(flights):
        t = np.arange(1000.0 + rng.uniform(0, 4), 1300.0, 4.0)
        tb.follow(str(i), f, t, d_east_m=float(rng.normal(0, 80)),
                  d_north_m=float(rng.normal(0, 80)), icao24=f.icao24)
    tb.add("99", np.arange(1000.0, 1100.0, 4.0), np.full(25, 80e3), np.zeros(25), 0.0, 0.0)
    return (tb.write(tmp_path / "tracks.csv"), write_truth(tmp_path / "truth.csv", flights),
            flights)


def _shuffled(src: Path, dst: Path, seed: int) -> Path:
    lines = src.read_text().splitlines()
    body = lines[1:]
    random.Random(seed).shuffle(body)
    dst.write_text("\n".join([lines[0], *body]) + "\n")
    return dst


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_does_not_depend_on_row_order(tmp_path: Path, seed: int) -> None:
    tracks, truth, _f = _scenario(tmp_path, seed)
    cfg = EvalConfig(period_s=4.0)
    a = evaluate(read_tracks(tracks), read_truth(truth), cfg).summary
    b = evaluate(read_tracks(_shuffled(tracks, tmp_path / "t2.csv", seed)),
                 read_truth(_shuffled(truth, tmp_path / "g2.csv", seed)), cfg).summary
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float):
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9), k
        else:
            assert a[k] == b[k], k
    assert a["false_tracks"] == 1 and a["identity_swaps"] == 0


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_rms_equals_the_rms_of_the_offsets(tmp_path: Path, seed: int) -> None:
    """Random per-row offsets below the gate: RMS = √mean(d²) of the offsets themselves.

    (Rows at truth sample times, so the truth needs no interpolation: the Hermite curve has
    its own test below.)
    """
    rng = np.random.default_rng(seed)
    f = Flight("A", 0, 0, float(rng.uniform(0, 360)), dt_s=float(rng.choice([1.0, 10.0])))
    t = np.sort(rng.choice(f.t_s, 40, replace=False))
    de = rng.uniform(-600, 600, len(t))
    dn = rng.uniform(-600, 600, len(t))
    tb = TrackRowsBuilder()
    for k in range(len(t)):
        tb.follow("1", f, t[k:k + 1], d_east_m=float(de[k]), d_north_m=float(dn[k]))
    truth = read_truth(write_truth(tmp_path / "truth.csv", [f]))
    s = evaluate(read_tracks(tb.write(tmp_path / "tracks.csv")), truth,
                 EvalConfig(period_s=1.0)).summary
    assert s["position_rms_m"] == pytest.approx(np.sqrt(np.mean(de**2 + dn**2)), abs=0.05)


def test_hermite_interpolation_of_a_turn_beats_linear() -> None:
    """A 3 °/s turn sampled every 10 s: the Hermite truth stays within a metre of the arc."""
    from eval_helpers import en_to_latlon
    from skyfuse.eval.csvio import TruthData

    omega, v, r = np.radians(3.0), 200.0, 200.0 / np.radians(3.0)
    t = np.arange(0.0, 121.0, 10.0)
    th = omega * t
    e, n = r * np.sin(th), r * (1 - np.cos(th))
    lat, lon = en_to_latlon(e, n)
    truth = TruthData(t_s=t, obj=np.zeros(len(t), np.int64), labels=np.array(["A"]),
                      lat_deg=lat, lon_deg=lon, vx_mps=v * np.cos(th), vy_mps=v * np.sin(th),
                      starts=np.array([0, len(t)]), obj_icao24=np.array([-1]),
                      obj_adsb=np.array([-1], np.int8))
    tq = np.arange(0.0, 120.0, 0.7)
    inside, la, lo, _vx, _vy = truth_at(truth, 0, tq)
    assert inside.all()
    la_true, lo_true = en_to_latlon(r * np.sin(omega * tq), r * (1 - np.cos(omega * tq)))
    err = np.hypot(*local_offset_m(la, lo, la_true, lo_true))
    assert err.max() < 3.0                        # a linear chord is off by up to ~130 m
    inside, *_ = truth_at(truth, 0, np.array([-1.0, 121.0]))
    assert not inside.any()


@pytest.mark.parametrize("seed", [4, 5])
def test_gospa_sparse_search_equals_dense(seed: int) -> None:
    """Large steps use a k-d tree for the close pairs: same GOSPA as the dense matrix."""
    from eval_helpers import en_to_latlon
    from skyfuse.eval.gospa import _close_pairs, gospa_pairs, gospa_step

    rng = np.random.default_rng(seed)
    latx, lonx = en_to_latlon(rng.uniform(-15e3, 15e3, 300), rng.uniform(-15e3, 15e3, 300))
    laty, lony = en_to_latlon(rng.uniform(-15e3, 15e3, 280), rng.uniform(-15e3, 15e3, 280))
    ri, ci, d = _close_pairs(latx, lonx, laty, lony, 1000.0)          # 84,000 pairs: tree
    de, dn = local_offset_m(laty[None, :], lony[None, :], latx[:, None], lonx[:, None])
    dense = gospa_step(np.hypot(de, dn))
    sparse = gospa_pairs(300, 280, ri, ci, d)
    assert sparse == pytest.approx(dense, rel=1e-12)
    assert dense[1] > 0 and dense[2] > 0 and dense[3] > 0
