"""Evaluation metrics on synthetic truth and tracks with known answers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from eval_helpers import Flight, TrackRowsBuilder, write_truth
from skyfuse.eval import EvalConfig, evaluate, read_tracks, read_truth
from skyfuse.eval.gospa import gospa_step


def _run(tmp_path: Path, flights: list[Flight], tb: TrackRowsBuilder, period_s: float | None = 1.0,
         adsb_column: bool = False, **kw: float) -> dict:
    truth = read_truth(write_truth(tmp_path / "truth.csv", flights, adsb_column=adsb_column))
    tracks = read_tracks(tb.write(tmp_path / "tracks.csv"))
    return evaluate(tracks, truth, EvalConfig(period_s=period_s, **kw)).summary


def _truth_as_tracks(truth_csv: Path, out: Path) -> Path:
    """The truth rows written as a TRACKS file (truth_id → track_id)."""
    with truth_csv.open() as f:
        rows = list(csv.DictReader(f))
    lines = ["t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps"]
    for r in sorted(rows, key=lambda r: float(r["t_s"])):
        lines.append(f"{r['t_s']},{r['truth_id']},confirmed,{r['lat_deg']},{r['lon_deg']},"
                     f"{r['alt_ft']},{r['icao24']},,{r['vx_mps']},{r['vy_mps']}")
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("dt_s", [1.0, 10.0])
def test_truth_against_itself_is_perfect(tmp_path: Path, dt_s: float) -> None:
    flights = [Flight("A1", 0, 0, 90, dt_s=dt_s, icao24="3c6444"),
               Flight("B2", 0, 5000, 45, dt_s=dt_s),
               Flight("C3", -3000, -8000, 200, dt_s=dt_s, t0_s=1200, t1_s=1900),
               Flight("D4", 9000, -3000, 0, speed_mps=0.0, dt_s=dt_s)]  # parked
    truth_csv = write_truth(tmp_path / "truth.csv", flights)
    tracks = read_tracks(_truth_as_tracks(truth_csv, tmp_path / "tracks.csv"))
    ev = evaluate(tracks, read_truth(truth_csv), EvalConfig(period_s=None))
    s = ev.summary
    assert s["period_s"] == pytest.approx(dt_s)
    assert s["period_source"].startswith("inferred")
    assert s["position_rms_m"] == pytest.approx(0.0, abs=1e-3)
    assert s["along_track_rms_m"] == pytest.approx(0.0, abs=1e-3)
    assert s["velocity_rms_mps"] == pytest.approx(0.0, abs=1e-6)
    assert s["heading_rms_deg"] == pytest.approx(0.0, abs=1e-6)
    assert s["update_probability"] == 1.0
    assert s["counts"]["expected_intervals"] == sum(len(f.t_s) for f in flights)
    for key in ("track_breaks", "track_number_changes", "identity_swaps", "track_switches",
                "false_tracks", "duplicate_tracks"):
        assert s[key] == 0, key
    assert s["gospa_mean"] == pytest.approx(0.0, abs=1e-3)
    assert s["gospa_missed_mean"] == 0.0 and s["gospa_false_mean"] == 0.0
    assert s["counts"]["truth_objects_tracked"] == 4
    assert s["confirmation_delay_s"] == 0.0 and s["time_to_track_s"] == 0.0
    assert all(s["thresholds"].values())
    assert np.all(ev.per_target["update_probability"] == 1.0)


@pytest.mark.parametrize("heading_deg", [90.0, 30.0])
def test_constant_200m_offset_along_and_across(tmp_path: Path, heading_deg: float) -> None:
    f = Flight("A", 0, 0, heading_deg)
    vx, vy = np.array(f.velocity) / f.speed_mps               # unit along
    along = TrackRowsBuilder()
    along.follow("7", f, d_east_m=200 * vx, d_north_m=200 * vy)
    s = _run(tmp_path, [f], along)
    assert s["position_rms_m"] == pytest.approx(200.0, abs=0.05)
    assert s["along_track_rms_m"] == pytest.approx(200.0, abs=0.05)
    assert s["along_track_mean_m"] == pytest.approx(200.0, abs=0.05)   # ahead of truth
    assert s["across_track_rms_m"] == pytest.approx(0.0, abs=0.05)
    assert s["latency_s"] == pytest.approx(-1.0, abs=1e-3)              # 200 m / 200 m/s
    assert s["thresholds"]["rms_le_300m"] and s["thresholds"]["rms_le_500m"]
    assert s["gospa_mean"] == pytest.approx(200.0, abs=0.05)
    across = TrackRowsBuilder()
    across.follow("7", f, d_east_m=-200 * vy, d_north_m=200 * vx)       # to the left
    s = _run(tmp_path, [f], across)
    assert s["position_rms_m"] == pytest.approx(200.0, abs=0.05)
    assert s["across_track_rms_m"] == pytest.approx(200.0, abs=0.05)
    assert s["along_track_rms_m"] == pytest.approx(0.0, abs=0.05)


def test_offset_400m_fails_the_300m_threshold(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 0)
    tb = TrackRowsBuilder()
    tb.follow("1", f, d_east_m=400)
    s = _run(tmp_path, [f], tb)
    assert s["position_rms_m"] == pytest.approx(400.0, abs=0.05)
    assert s["thresholds"]["rms_le_500m"] is True
    assert s["thresholds"]["rms_le_300m"] is False


def _parallel_pair() -> tuple[Flight, Flight]:
    return Flight("A", 0, 0, 90), Flight("B", 0, 600, 90)   # 600 m apart, flying east


def test_swapped_pair_counts_one_swap(tmp_path: Path) -> None:
    a, b = _parallel_pair()
    half = a.t_s < 1300
    tb = TrackRowsBuilder()
    tb.follow("1", a, a.t_s[half])
    tb.follow("1", b, b.t_s[~half])          # track 1: A, then B
    tb.follow("2", b, b.t_s[half])
    tb.follow("2", a, a.t_s[~half])          # track 2: B, then A
    s = _run(tmp_path, [a, b], tb)
    assert s["track_switches"] == 2
    assert s["swapped_pairs"] == 1
    assert s["identity_swaps"] == 1
    assert s["thresholds"]["no_identity_swaps"] is False
    assert s["track_number_changes"] == 2 and s["track_breaks"] == 0
    assert s["position_rms_m"] == pytest.approx(0.0, abs=0.05)


def test_two_swaps_at_different_times_count_two(tmp_path: Path) -> None:
    a, b = _parallel_pair()
    tb = TrackRowsBuilder()
    seg = [a.t_s < 1200, (a.t_s >= 1200) & (a.t_s < 1450), a.t_s >= 1450]
    for k, m in enumerate(seg):                      # swap at 1200, swap back at 1450
        first, second = (a, b) if k % 2 == 0 else (b, a)
        tb.follow("1", first, first.t_s[m])
        tb.follow("2", second, second.t_s[m])
    s = _run(tmp_path, [a, b], tb)
    assert s["track_switches"] == 4
    assert s["identity_swaps"] == 2


def test_one_track_jumping_to_another_truth_is_one_swap(tmp_path: Path) -> None:
    a, b = _parallel_pair()
    half = a.t_s < 1300
    tb = TrackRowsBuilder()
    tb.follow("1", a, a.t_s[half])
    tb.follow("1", b, b.t_s[~half])          # jumps to B, whose own track ends there
    tb.follow("2", b, b.t_s[half])
    s = _run(tmp_path, [a, b], tb)
    assert s["identity_swaps"] == 1 and s["swapped_pairs"] == 0


def test_short_flicker_at_a_crossing_is_not_a_swap(tmp_path: Path) -> None:
    a, b = _parallel_pair()
    tb = TrackRowsBuilder()
    flick = (a.t_s >= 1300) & (a.t_s < 1302)     # 2 updates on the other truth
    tb.follow("1", a, a.t_s[~flick])
    tb.follow("1", b, b.t_s[flick])
    tb.follow("2", b)
    s = _run(tmp_path, [a, b], tb)
    assert s["identity_swaps"] == 0
    assert s["duplicate_tracks"] == 0


def test_false_track_is_counted(tmp_path: Path) -> None:
    a, b = _parallel_pair()
    tb = TrackRowsBuilder()
    tb.follow("1", a)
    tb.follow("2", b)
    tb.add("99", a.t_s[:50], np.full(50, 50_000.0), np.zeros(50), 0.0, 0.0)   # 50 km off
    tb.add("98", a.t_s[:50], np.full(50, -50_000.0), np.zeros(50), 0.0, 0.0,
           status="tentative")                                                # not counted
    s = _run(tmp_path, [a, b], tb)
    assert s["false_tracks"] == 1
    assert s["false_track_ids"] == ["99"]
    assert s["false_track_fraction"] == pytest.approx(1 / 3)
    assert s["thresholds"]["false_tracks_le_5pct"] is False
    assert s["position_rms_m"] == pytest.approx(0.0, abs=0.05)   # the false one is no error
    # GOSPA: 50 steps with one false track (c/2 = 500 m) over 601 steps
    assert s["gospa_false_mean"] == pytest.approx(500.0 * 50 / 601, rel=1e-9)


def test_gap_with_a_new_track_is_a_break_same_track_is_bridged(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    before, after = f.t_s <= 1200, f.t_s >= 1260           # a 60 s hole
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[before])
    tb.follow("2", f, f.t_s[after])
    s = _run(tmp_path, [f], tb)
    assert s["track_breaks"] == 1 and s["track_number_changes"] == 1
    assert s["gaps_bridged"] == 0
    assert s["update_probability"] == pytest.approx((len(f.t_s) - 59) / len(f.t_s))
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[before])
    tb.follow("1", f, f.t_s[after])
    s = _run(tmp_path, [f], tb)
    assert s["track_breaks"] == 0 and s["track_number_changes"] == 0
    assert s["gaps_bridged"] == 1


def test_handover_without_gap_changes_number_but_does_not_break(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[f.t_s < 1300])
    tb.follow("2", f, f.t_s[f.t_s >= 1300])
    s = _run(tmp_path, [f], tb)
    assert s["track_number_changes"] == 1 and s["track_breaks"] == 0
    assert s["update_probability"] == 1.0


def test_duplicate_track_is_counted_once(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    tb = TrackRowsBuilder()
    tb.follow("1", f)
    tb.follow("2", f, d_north_m=100)
    s = _run(tmp_path, [f], tb)
    assert s["duplicate_tracks"] == 1
    assert s["false_tracks"] == 0
    assert s["gospa_false_mean"] == pytest.approx(500.0)      # the duplicate is extra


def test_coasting_rows_count_for_continuity_not_accuracy(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    tb = TrackRowsBuilder()
    upd = (f.t_s < 1200) | (f.t_s > 1250)
    tb.follow("1", f, f.t_s[upd])
    tb.follow("1", f, f.t_s[~upd][::2], d_north_m=900, status="coasting")   # bad coasts
    s = _run(tmp_path, [f], tb)
    assert s["position_rms_m"] == pytest.approx(0.0, abs=0.05)
    assert s["gaps_bridged"] == 0 and s["track_breaks"] == 0
    assert s["counts"]["coasting_rows"] == 26
    assert s["update_probability"] == pytest.approx(upd.sum() / len(f.t_s))


def test_identity_wins_over_a_nearer_truth(tmp_path: Path) -> None:
    a = Flight("A", 0, 0, 90, icao24="4ca123")
    b = Flight("B", 0, 1500, 90, icao24="4ca456")
    tb = TrackRowsBuilder()
    tb.follow("1", a, d_north_m=1000, icao24="4ca123")     # 1000 m from A, 500 m from B
    s = _run(tmp_path, [a, b], tb)
    assert s["position_rms_m"] == pytest.approx(1000.0, abs=0.05)
    assert s["counts"]["associated_by_identity"] == len(a.t_s)
    tb = TrackRowsBuilder()
    tb.follow("1", a, d_north_m=1000)                      # no address: the nearest, B
    s = _run(tmp_path, [a, b], tb)
    assert s["position_rms_m"] == pytest.approx(500.0, abs=0.05)
    tb = TrackRowsBuilder()                                # an address known to neither
    tb.follow("1", a, d_north_m=1000, icao24="abcdef")     # contradicts both: no pair
    s = _run(tmp_path, [a, b], tb)
    assert s["counts"]["associated_confirmed_rows"] == 0


def test_contradicting_addresses_never_associate(tmp_path: Path) -> None:
    a = Flight("A", 0, 0, 90, icao24="4ca123")
    tb = TrackRowsBuilder()
    tb.follow("1", a, d_north_m=100, icao24="abcdef")
    s = _run(tmp_path, [a], tb)
    assert s["counts"]["associated_confirmed_rows"] == 0
    assert s["position_rms_m"] is None
    assert s["false_tracks"] == 1
    assert s["thresholds"]["rms_le_500m"] is False           # no figure fails


def test_adsb_split_and_identified_rms(tmp_path: Path) -> None:
    a = Flight("A", 0, 0, 90, icao24="4ca123", adsb=1)
    b = Flight("B", 0, 5000, 90, adsb=0)
    tb = TrackRowsBuilder()
    tb.follow("1", a, d_north_m=30)
    tb.follow("2", b, d_north_m=-120)
    s = _run(tmp_path, [a, b], tb, adsb_column=True)
    assert s["position_rms_m_adsb"] == pytest.approx(30.0, abs=0.05)
    assert s["position_rms_m_non_adsb"] == pytest.approx(120.0, abs=0.05)
    assert s["position_rms_m_identified"] == pytest.approx(30.0, abs=0.05)
    assert s["position_rms_m"] == pytest.approx(np.sqrt((30**2 + 120**2) / 2), abs=0.05)
    assert s["thresholds"]["adsb_rms_le_50m"] is True


def test_update_probability_counts_missed_intervals(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90, dt_s=1.0)
    keep = np.ones(len(f.t_s), bool)
    keep[10::4] = False                        # every 4th period after the 10th missed
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[keep])
    s = _run(tmp_path, [f], tb)
    assert s["update_probability"] == pytest.approx(keep.sum() / len(f.t_s))
    assert s["thresholds"]["update_probability_ge_97pct"] is False


def test_radar_period_updates_phase_shifted(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90, dt_s=1.0)
    t = np.arange(1001.7, 1600, 4.0)              # a 4 s radar, 1.7 s after the truth grid
    tb = TrackRowsBuilder()
    tb.follow("1", f, t, d_east_m=50)
    s = _run(tmp_path, [f], tb, period_s=4.0)
    assert s["update_probability"] == 1.0
    assert s["position_rms_m"] == pytest.approx(50.0, abs=0.05)    # Hermite: exact
    assert s["gospa_localisation_mean"] > 0


def test_gospa_step_hand_computed() -> None:
    d = np.array([[100.0, 2000.0], [3000.0, 400.0], [5000.0, 5000.0]])
    g, loc, missed, false = gospa_step(d)
    assert (loc, missed, false) == (500.0, 500.0, 0.0)
    assert g == 1000.0
    # the optimum is not the greedy choice: 100 + 900 > 200 + 150
    g, loc, _m, _f = gospa_step(np.array([[100.0, 200.0], [150.0, 900.0]]))
    assert g == pytest.approx(350.0) and loc == pytest.approx(350.0)
    # a pair at c or more is never assigned: two halves instead
    assert gospa_step(np.array([[1000.0]])) == (1000.0, 0.0, 500.0, 500.0)
    assert gospa_step(np.zeros((0, 3))) == (1500.0, 0.0, 0.0, 1500.0)
    assert gospa_step(np.array([[999.0]]))[0] == 999.0


def test_gospa_series_hand_computed(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90, t0_s=1000, t1_s=1100, dt_s=1.0)
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[f.t_s <= 1050], d_north_m=300)      # 51 steps at 300 m
    # 1051..1100: the track is older than one period: 50 steps missed (500 m)
    s = _run(tmp_path, [f], tb)
    assert s["gospa_steps"] == 101
    assert s["gospa_mean"] == pytest.approx((51 * 300 + 50 * 500) / 101, abs=0.01)
    assert s["gospa_localisation_mean"] == pytest.approx(51 * 300 / 101, abs=0.01)
    assert s["gospa_missed_mean"] == pytest.approx(50 * 500 / 101)


def test_gospa_predicts_tracks_between_updates(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90, t0_s=1000, t1_s=1100, dt_s=1.0)
    tb = TrackRowsBuilder()
    tb.follow("1", f, np.arange(1000.0, 1101.0, 2.0))         # updates every 2 s
    s = _run(tmp_path, [f], tb, period_s=2.0)
    assert s["gospa_mean"] == pytest.approx(0.0, abs=0.01)
    tb = TrackRowsBuilder()
    tb.follow("1", f, np.arange(999.0, 1101.0, 2.0))          # 1 s before every step
    s = _run(tmp_path, [f], tb, period_s=2.0)
    assert s["gospa_mean"] == pytest.approx(0.0, abs=0.01)     # predicted 1 s ahead
    assert s["gospa_steps"] == 51
    s = _run(tmp_path, [f], tb, period_s=1.0)                  # on a 1 s grid: every other
    assert s["gospa_missed_mean"] == pytest.approx(500.0 * 51 / 101)   # step is stale


def test_hole_in_truth_is_not_expected_to_be_updated(tmp_path: Path) -> None:
    """Truth out of coverage for 120 s (no samples): no missed intervals there."""
    f = Flight("A", 0, 0, 90, dt_s=1.0)
    f.t_s = f.t_s[(f.t_s < 1200) | (f.t_s >= 1320)]
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[::4])
    s = _run(tmp_path, [f], tb, period_s=4.0)
    assert s["update_probability"] == 1.0
    assert s["counts"]["expected_intervals"] == pytest.approx((601 - 120) / 4, abs=2)
    assert s["gaps_bridged"] == 1 and s["track_breaks"] == 0
    assert s["gospa_mean"] == pytest.approx(0.0, abs=0.01)     # nothing alive in the hole


def test_tentative_rows_give_the_confirmation_delay_only(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90, t0_s=1000, t1_s=1100)
    tb = TrackRowsBuilder()
    tb.follow("1", f, np.arange(1010.0, 1013.0), d_north_m=1500, status="tentative")
    tb.follow("1", f, np.arange(1013.0, 1101.0))
    s = _run(tmp_path, [f], tb)
    assert s["confirmation_delay_s"] == 3.0
    assert s["time_to_track_s"] == 13.0
    assert s["position_rms_m"] == pytest.approx(0.0, abs=0.05)      # tentative: no error
    assert s["counts"]["tentative_rows"] == 3
    assert s["update_probability"] == 1.0                          # window from 1013


def test_short_overlap_is_not_a_duplicate(tmp_path: Path) -> None:
    f = Flight("A", 0, 0, 90)
    tb = TrackRowsBuilder()
    tb.follow("1", f, f.t_s[f.t_s <= 1303])
    tb.follow("2", f, f.t_s[f.t_s >= 1300], d_north_m=50)           # 4 s of overlap
    s = _run(tmp_path, [f], tb)
    assert s["duplicate_tracks"] == 0
    assert s["track_number_changes"] == 1 and s["track_breaks"] == 0


def test_identity_beyond_its_gate_falls_back_to_position(tmp_path: Path) -> None:
    a = Flight("A", 0, 0, 90, icao24="4ca123")
    b = Flight("B", 0, 20_000, 90)                                  # no address
    tb = TrackRowsBuilder()
    tb.follow("1", b, d_north_m=300, icao24="4ca123")               # A's address, 20 km off
    s = _run(tmp_path, [a, b], tb)
    assert s["counts"]["associated_by_identity"] == 0
    assert s["position_rms_m"] == pytest.approx(300.0, abs=0.05)    # on B, by position
    s = _run(tmp_path, [a, b], tb, identity_gate_m=30_000.0)
    assert s["counts"]["associated_by_identity"] == len(a.t_s)      # now on A by identity
    assert s["position_rms_m"] == pytest.approx(20_300.0, abs=1.0)
