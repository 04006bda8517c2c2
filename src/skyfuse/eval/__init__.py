"""Evaluation of tracks against ground truth, as an air-navigation service provider does it.

``skyfuse evaluate --tracks TRACKS.csv --truth truth.csv -o REPORT_DIR`` (and
:func:`evaluate_files`, which ``skyfuse bench-scenario`` calls) associates every track
update with at most one truth object (identity first, then position: OpenATS COMPASS's
order), measures accuracy (horizontal, along/across-track, velocity, heading), probability
of update, continuity (breaks, track-number changes, identity swaps), false and duplicate
tracks, delays and GOSPA over time, checks ESASSP-style thresholds and writes
``summary.json``, ``per_target.csv`` and a self-contained ``index.html``.

Modules, in pipeline order: :mod:`~skyfuse.eval.csvio` (read), :mod:`~skyfuse.eval.geo`
(local metres, truth interpolation), :mod:`~skyfuse.eval.associate`,
:mod:`~skyfuse.eval.metrics`, :mod:`~skyfuse.eval.gospa`, :mod:`~skyfuse.eval.evaluate`
(the summary and thresholds), :mod:`~skyfuse.eval.report` / :mod:`~skyfuse.eval.html` /
:mod:`~skyfuse.eval.svg` (files). Definitions: ``docs/evaluation.md``.
"""

from __future__ import annotations

from skyfuse.eval.csvio import TrackData, TruthData, read_tracks, read_truth
from skyfuse.eval.evaluate import THRESHOLDS, EvalConfig, Evaluation, evaluate, evaluate_files

__all__ = ["THRESHOLDS", "EvalConfig", "Evaluation", "TrackData", "TruthData", "evaluate",
           "evaluate_files", "read_tracks", "read_truth"]
