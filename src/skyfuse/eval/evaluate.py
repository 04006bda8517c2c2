"""``evaluate``: tracks against truth → ``summary.json``, ``per_target.csv``, ``index.html``.

The steps, each in its own module::

    read (csvio) → associate (associate) → accuracy, update probability, continuity
    (metrics) → GOSPA over time (gospa) → thresholds → files (report, html)

:func:`evaluate` works on arrays already read; :func:`evaluate_files` is what ``skyfuse
evaluate`` and ``skyfuse bench-scenario`` call. Every figure is defined in
``docs/evaluation.md`` and in the docstrings of :mod:`skyfuse.eval.metrics` and
:mod:`skyfuse.eval.gospa`. A figure that cannot be computed (no associated update, no
velocity column) is ``null`` in the JSON, and a threshold on it fails.

Nominal period ``P``: given (``period_s``, the scenario's update period: 4 s for a 4 s
radar, 1 s for 1 Hz ADS-B) or, when None, inferred as the median interval between
consecutive confirmed rows of one track (then ``period_source`` says so).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skyfuse.eval.associate import Association, associate
from skyfuse.eval.csvio import TrackData, TruthData, read_tracks, read_truth
from skyfuse.eval.geo import TruthCurve
from skyfuse.eval.gospa import GospaSeries, gospa_series
from skyfuse.eval.metrics import (
    Continuity,
    MetricConfig,
    accuracy,
    continuity,
    per_target,
    update_probability,
)

__all__ = ["THRESHOLDS", "EvalConfig", "Evaluation", "Threshold", "evaluate",
           "evaluate_files", "infer_period_s"]

SCHEMA = "skyfuse-eval/1"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A named pass/fail test ``summary[metric] OP limit``."""

    name: str
    metric: str
    op: str                 # "<=" or ">="
    limit: float
    source: str

    def passes(self, value: float | int | None) -> bool:
        """Whether ``value`` meets the threshold (None: fails)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value <= self.limit if self.op == "<=" else value >= self.limit


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("rms_le_500m", "position_rms_m", "<=", 500.0,
              "ESASSP: horizontal RMS for 5 NM separation"),
    Threshold("rms_le_300m", "position_rms_m", "<=", 300.0,
              "ESASSP: horizontal RMS for 3 NM separation"),
    Threshold("update_probability_ge_97pct", "update_probability", ">=", 0.97,
              "skyfuse: probability of update"),
    Threshold("no_identity_swaps", "identity_swaps", "<=", 0, "skyfuse: continuity"),
    Threshold("false_tracks_le_5pct", "false_track_fraction", "<=", 0.05,
              "skyfuse: false confirmed tracks / confirmed tracks"),
)
"""The thresholds of every report (plus ``adsb_rms_le_50m`` when truth has ``adsb``)."""

ADSB_THRESHOLD = Threshold("adsb_rms_le_50m", "position_rms_m_adsb", "<=", 50.0,
                           "skyfuse: horizontal RMS of ADS-B-equipped aircraft")


@dataclass(frozen=True, slots=True)
class EvalConfig:
    """Evaluation parameters (see ``docs/evaluation.md``); distances m, times s."""

    period_s: float | None = None
    max_distance_m: float = 2000.0
    identity_gate_m: float = 10_000.0
    break_periods: float = 3.0
    min_run: int = 3
    duplicate_periods: float = 5.0
    swap_window_periods: float = 10.0
    gospa_c_m: float = 1000.0


@dataclass(slots=True)
class Evaluation:
    """Everything an evaluation produced: the summary and what the report plots."""

    summary: dict[str, Any]
    per_target: dict[str, NDArray[Any]]
    tracks: TrackData
    truth: TruthData
    association: Association
    gospa: GospaSeries
    continuity: Continuity
    thresholds: list[tuple[Threshold, Any, bool]] = field(default_factory=list)


def infer_period_s(tracks: TrackData, truth: TruthData) -> float | None:
    """Median interval between consecutive confirmed rows of one track (None if none)."""
    m = tracks.status == 1
    tk, t = tracks.track[m], tracks.t_s[m]
    o = np.lexsort((t, tk))
    tk, t = tk[o], t[o]
    d = np.diff(t)[(tk[1:] == tk[:-1])]
    d = d[d > 1e-6]
    if len(d):
        return float(np.median(d))
    dt = np.diff(truth.t_s)[np.diff(truth.obj) == 0]
    return float(np.median(dt)) if len(dt) else None


def _num(v: Any) -> Any:
    """JSON-safe: NaN/inf → None, numpy scalars → Python."""
    if isinstance(v, np.integer | int) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        return None if not math.isfinite(f) else f
    return v


def evaluate(tracks: TrackData, truth: TruthData, config: EvalConfig | None = None
             ) -> Evaluation:
    """Evaluate ``tracks`` against ``truth`` (see the module docstring)."""
    cfg = config or EvalConfig()
    if cfg.period_s is not None:
        period, source = float(cfg.period_s), "given"
    else:
        inferred = infer_period_s(tracks, truth)
        period = inferred if inferred is not None else 1.0
        source = ("inferred: median interval between consecutive confirmed updates of a "
                  "track" if inferred is not None else "default 1 s: nothing to infer from")
    mc = MetricConfig(period_s=period, break_periods=cfg.break_periods, min_run=cfg.min_run,
                      duplicate_periods=cfg.duplicate_periods,
                      swap_window_periods=cfg.swap_window_periods)
    curve = TruthCurve.of(truth)
    a = associate(tracks, truth, max_distance_m=cfg.max_distance_m,
                  identity_gate_m=cfg.identity_gate_m, curve=curve)
    acc = accuracy(tracks, a, mc)
    expected, updated = update_probability(tracks, truth, a, mc, curve)
    cont = continuity(tracks, truth, a, mc)
    gs = gospa_series(tracks, truth, period, c_m=cfg.gospa_c_m, curve=curve)
    pt = per_target(tracks, truth, a, mc)
    with np.errstate(invalid="ignore", divide="ignore"):
        pt_up = np.where(expected > 0, updated / np.maximum(expected, 1), np.nan)
    pt.update(expected_intervals=expected, updated_intervals=updated,
              update_probability=pt_up, n_tracks=cont.n_tracks,
              track_number_changes=cont.track_number_changes,
              track_breaks=cont.track_breaks, gaps_bridged=cont.gaps_bridged)

    def of_row(per_obj: NDArray[Any], fill: int) -> NDArray[Any]:
        """``per_obj[truth]`` of every update, ``fill`` where not associated."""
        out = np.full(len(tracks), fill, per_obj.dtype)
        out[a.associated] = per_obj[a.truth[a.associated]]
        return out

    identified = a.associated & (of_row(truth.obj_icao24, -1) >= 0)
    summary: dict[str, Any] = {"schema": SCHEMA}
    summary.update(acc)
    summary.pop("n_updates")
    summary["position_rms_m_identified"] = accuracy(tracks, a, mc, identified)["position_rms_m"]
    has_adsb = bool((truth.obj_adsb >= 0).any())
    if has_adsb:
        adsb_rows = a.associated & (of_row(truth.obj_adsb, -1) == 1)
        non_rows = a.associated & (of_row(truth.obj_adsb, -1) == 0)
        summary["position_rms_m_adsb"] = accuracy(tracks, a, mc, adsb_rows)["position_rms_m"]
        summary["position_rms_m_non_adsb"] = accuracy(tracks, a, mc, non_rows)["position_rms_m"]
    n_exp = int(expected.sum())
    summary["update_probability"] = int(updated.sum()) / n_exp if n_exp else None
    summary.update({
        "track_breaks": int(cont.track_breaks.sum()),
        "track_number_changes": int(cont.track_number_changes.sum()),
        "gaps_bridged": int(cont.gaps_bridged.sum()),
        "identity_swaps": cont.identity_swaps,
        "track_switches": cont.track_switches,
        "swapped_pairs": cont.swapped_pairs,
        "false_tracks": cont.false_tracks,
        "false_track_fraction": (cont.false_tracks / cont.n_confirmed_tracks
                                 if cont.n_confirmed_tracks else 0.0),
        "duplicate_tracks": cont.duplicate_tracks,
        "confirmation_delay_s": _median(pt["confirmation_delay_s"]),
        "time_to_track_s": _median(pt["time_to_track_s"]),
        "gospa_mean": _mean(gs.gospa_m),
        "gospa_localisation_mean": _mean(gs.localisation_m),
        "gospa_missed_mean": _mean(gs.missed_m),
        "gospa_false_mean": _mean(gs.false_m),
        "gospa_per_truth_mean": (float(gs.gospa_m.sum() / gs.n_truth.sum())
                                 if gs.n_truth.sum() else None),
        "gospa_steps": len(gs.t_s),
    })
    conf = tracks.status == 1
    summary["counts"] = {
        "track_rows": len(tracks),
        "confirmed_rows": int(conf.sum()),
        "coasting_rows": int((tracks.status == 2).sum()),
        "tentative_rows": int((tracks.status == 0).sum()),
        "associated_confirmed_rows": int((a.associated & conf).sum()),
        "associated_by_identity": int((a.by_identity & conf).sum()),
        "unassociated_confirmed_rows": int((~a.associated & conf).sum()),
        "tracks": len(np.unique(tracks.track)),
        "confirmed_tracks": cont.n_confirmed_tracks,
        "truth_rows": len(truth),
        "truth_objects": truth.n_objects,
        "truth_objects_tracked": int((pt["n_updates"] > 0).sum()),
        "expected_intervals": n_exp,
        "updated_intervals": int(updated.sum()),
    }
    summary["false_track_ids"] = cont.false_track_labels
    summary["notes"] = _notes(tracks, truth, summary["counts"])
    summary["period_s"] = period
    summary["period_source"] = source
    summary["parameters"] = {
        "max_distance_m": cfg.max_distance_m, "identity_gate_m": cfg.identity_gate_m,
        "break_gap_s": mc.break_gap_s, "min_run": cfg.min_run,
        "duplicate_min_s": cfg.duplicate_periods * period,
        "swap_window_s": cfg.swap_window_periods * period,
        "gospa": {"c_m": cfg.gospa_c_m, "alpha": 2, "p": 1},
    }
    tests = list(THRESHOLDS) + ([ADSB_THRESHOLD] if has_adsb else [])
    results = [(th, summary.get(th.metric), th.passes(summary.get(th.metric))) for th in tests]
    summary["thresholds"] = {th.name: ok for th, _v, ok in results}
    summary["threshold_details"] = [
        {"name": th.name, "metric": th.metric, "value": v, "op": th.op, "limit": th.limit,
         "pass": ok, "source": th.source} for th, v, ok in results]
    summary = {k: _clean(v) for k, v in summary.items()}
    return Evaluation(summary=summary, per_target=pt, tracks=tracks, truth=truth,
                      association=a, gospa=gs, continuity=cont, thresholds=results)


def _notes(tracks: TrackData, truth: TruthData, counts: dict[str, int]) -> list[str]:
    """Plain-language warnings about the inputs (empty when nothing looks wrong)."""
    notes = []
    if len(tracks) and len(truth):
        a0, a1 = float(tracks.t_s.min()), float(tracks.t_s.max())
        b0, b1 = float(truth.t_s.min()), float(truth.t_s.max())
        if a1 < b0 or b1 < a0:
            notes.append(f"the tracks (t_s {a0:.0f}..{a1:.0f}) and the truth (t_s {b0:.0f}.."
                         f"{b1:.0f}) do not overlap in time: same time base? (--t0 of "
                         "skyfuse replay anchors a relative Beast/AVR counter)")
    if counts["confirmed_rows"] and not counts["associated_confirmed_rows"]:
        notes.append("no confirmed track update is associated with truth: check the time "
                     "base and --max-distance")
    elif counts["confirmed_rows"] and \
            counts["unassociated_confirmed_rows"] > 0.5 * counts["confirmed_rows"]:
        notes.append("more than half of the confirmed updates are not associated with truth")
    if len(tracks) and not np.isfinite(tracks.vx_mps).any():
        notes.append("the tracks carry no velocity (vx_mps, vy_mps): no velocity or heading "
                     "figures, GOSPA holds positions between updates")
    return notes


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return _num(v)


def _median(x: NDArray[np.float64]) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def _mean(x: NDArray[np.float64]) -> float | None:
    return float(np.mean(x)) if len(x) else None


def evaluate_files(tracks_path: str | os.PathLike[str], truth_path: str | os.PathLike[str],
                   out_dir: str | os.PathLike[str], *, period_s: float | None = None,
                   **options: Any) -> dict[str, Any]:
    """Evaluate a TRACKS CSV against a truth CSV; write ``out_dir/summary.json``,
    ``out_dir/per_target.csv`` and ``out_dir/index.html``; return the summary.

    ``options`` are the other :class:`EvalConfig` fields (``max_distance_m`` ...). Bad
    input raises :class:`~skyfuse.cli.errors.InputError` naming the file, line and column.
    """
    from skyfuse.eval.html import write_html
    from skyfuse.eval.report import write_per_target, write_summary

    cfg = EvalConfig(period_s=period_s, **options)
    tracks = read_tracks(tracks_path)
    truth = read_truth(truth_path)
    ev = evaluate(tracks, truth, cfg)
    ev.summary["inputs"] = {"tracks": os.fspath(tracks_path), "truth": os.fspath(truth_path)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_summary(out / "summary.json", ev.summary)
    write_per_target(out / "per_target.csv", ev)
    write_html(out / "index.html", ev)
    return ev.summary
