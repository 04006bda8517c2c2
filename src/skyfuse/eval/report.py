"""Writing ``summary.json`` and ``per_target.csv``.

``summary.json`` is the summary object (``docs/evaluation.md`` lists every key), indented,
with ``null`` for figures that cannot be computed. ``per_target.csv`` has one row per truth
object, columns :data:`PER_TARGET_COLUMNS` (empty cell: not computable, e.g. no update)::

    truth_id,icao24,adsb,t_first_s,t_last_s,n_updates,n_tracks,position_rms_m,
    along_track_rms_m,across_track_rms_m,velocity_rms_mps,expected_intervals,
    updated_intervals,update_probability,track_number_changes,track_breaks,gaps_bridged,
    confirmation_delay_s,time_to_track_s

so the RMS over any subset of aircraft is ``√(Σ n_updates·rms² / Σ n_updates)``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skyfuse.eval.evaluate import Evaluation

__all__ = ["PER_TARGET_COLUMNS", "summary_line", "write_per_target", "write_summary"]

PER_TARGET_COLUMNS = (
    "truth_id", "icao24", "adsb", "t_first_s", "t_last_s", "n_updates", "n_tracks",
    "position_rms_m", "along_track_rms_m", "across_track_rms_m", "velocity_rms_mps",
    "expected_intervals", "updated_intervals", "update_probability", "track_number_changes",
    "track_breaks", "gaps_bridged", "confirmation_delay_s", "time_to_track_s")
"""Columns of ``per_target.csv``, in order."""

_DIGITS = {"t_first_s": 3, "t_last_s": 3, "update_probability": 4}


def summary_line(summary: dict[str, Any]) -> str:
    """The summary as one JSON line (what ``skyfuse evaluate`` prints last)."""
    return json.dumps(summary, separators=(",", ":"), allow_nan=False)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """``summary.json``: the summary, indented."""
    path.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _cell(name: str, v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return f"{v:.{_DIGITS.get(name, 2)}f}"
    return str(v)


def write_per_target(path: Path, ev: Evaluation) -> None:
    """``per_target.csv``: one row per truth object (see the module docstring)."""
    pt = ev.per_target
    truth = ev.truth
    cols = {c: pt[c].tolist() for c in PER_TARGET_COLUMNS if c in pt}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(PER_TARGET_COLUMNS)
        for j in range(truth.n_objects):
            icao = int(truth.obj_icao24[j])
            adsb = int(truth.obj_adsb[j])
            row = [str(truth.labels[j]), f"{icao:06x}" if icao >= 0 else "",
                   "" if adsb < 0 else str(adsb)]
            row += [_cell(c, cols[c][j]) for c in PER_TARGET_COLUMNS[3:]]
            w.writerow(row)
