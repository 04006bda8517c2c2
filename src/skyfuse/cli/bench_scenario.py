"""``skyfuse bench-scenario SCENARIO.toml [-o DIR]``: simulate → replay → evaluate.

1. ``skyfuse simulate`` into DIR (default: a new temporary directory);
2. ``skyfuse replay`` of the recordings, in process (the same code path as the command:
   :func:`skyfuse.cli.replay.run`), with ``--sensors DIR/sensors.toml``,
   ``--receiver`` the scenario's reference and ``--t0`` for a Beast/AVR counter, into
   ``DIR/tracks.csv``;
3. evaluation against ``DIR/truth.csv`` with the scenario's nominal period
   (``scenario.json``): :func:`skyfuse.eval.evaluate_files` into ``DIR/report``.

With ADS-B in the scenario the ADS-B-equipped aircraft are evaluated once more on their
own (``adsb_equipped`` in the summary, report in ``DIR/report/adsb-equipped``); with ADS-B
gaps, ``gaps`` counts, per gap, whether the aircraft kept the same track number across it
(``breaks_le_30s``: gaps of ≤ 30 s after which another track number carried the address).
Timings in ``bench`` (seconds of wall clock). The last stdout line is the summary, one
line of JSON, and ``DIR/report/summary.json`` holds the same object (CONTRACTS.md); the
stages' own lines go to stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any

from skyfuse.cli.errors import InputError
from skyfuse.cli.simulate import add_simulate_options, simulate_args

__all__ = ["HELP", "add_arguments", "gap_continuity", "run"]

HELP = "simulate a scenario, replay it through the tracker, evaluate: one JSON summary line"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse bench-scenario``."""
    parser.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file")
    parser.add_argument("-o", "--output", default=None, metavar="DIR",
                        help="working directory (default: a new temporary directory)")
    parser.add_argument("--period", type=float, default=None, metavar="S",
                        help="nominal update period for evaluation (default: scenario.json)")
    add_simulate_options(parser)


def _replay(out: Path, meta: dict[str, Any], tracks: Path) -> None:
    """``skyfuse replay`` with the arguments ``simulate`` wrote (``replay_args``), parsed by
    the command's own parser, so every replay option keeps its default."""
    from skyfuse.cli import replay
    from skyfuse.cli.main import build_parser

    argv = [str(out / a) if (out / a).is_file() else a for a in meta["replay_args"]]
    replay.run(build_parser("replay").parse_args(["replay", *argv, "-o", str(tracks)]))


def _evaluate(tracks: Path, truth: Path, report: Path, period_s: float | None) -> dict[str, Any]:
    from skyfuse.eval import evaluate_files

    report.mkdir(parents=True, exist_ok=True)
    return dict(evaluate_files(str(tracks), str(truth), str(report), period_s=period_s))


def _subset_truth(truth: Path, icao: set[str], out: Path) -> None:
    with open(truth) as f, open(out, "w") as g:
        head = f.readline()
        g.write(head)
        for line in f:
            if line.split(",", 3)[2] in icao:
                g.write(line)


def gap_continuity(tracks: Path, gaps: list[dict[str, Any]],
                   window_s: float = 30.0) -> dict[str, int]:
    """Per gap: did the rows carrying the address before and after it have one track id?

    ``breaks_le_30s``/``breaks_gt_30s``: gaps after which the address's first track number
    differs from its last one before the gap; ``swaps``: gaps after which the address's
    track number is one that another address held before the gap started;
    ``unobserved``: gaps without rows of the address within ``window_s`` on both sides.
    """
    import csv

    by_icao: dict[str, list[tuple[float, int]]] = {}
    with open(tracks, newline="") as f:
        for row in csv.DictReader(f):
            if row["icao24"] and row["status"] != "tentative":
                by_icao.setdefault(row["icao24"], []).append((float(row["t_s"]),
                                                              int(row["track_id"])))
    first: dict[int, dict[str, float]] = {}              # track → address → first time
    for a, rows in by_icao.items():
        for t, k in rows:
            held = first.setdefault(k, {})
            held[a] = min(held.get(a, t), t)
    out = {"gaps": len(gaps), "gaps_le_30s": 0, "breaks_le_30s": 0, "breaks_gt_30s": 0,
           "swaps": 0, "unobserved": 0}
    for g in gaps:
        short = g["t1_s"] - g["t0_s"] <= 30.0
        out["gaps_le_30s"] += int(short)
        rows = by_icao.get(g["icao24"], [])
        before = [k for t, k in rows if g["t0_s"] - window_s <= t < g["t0_s"]]
        after = [k for t, k in rows if g["t1_s"] <= t < g["t1_s"] + window_s]
        if not before or not after:
            out["unobserved"] += 1
            continue
        if before[-1] != after[0]:
            out["breaks_le_30s" if short else "breaks_gt_30s"] += 1
        if any(a != g["icao24"] and t < g["t0_s"] for a, t in first.get(after[0], {}).items()):
            out["swaps"] += 1
    return out


def run(args: Namespace) -> int:
    """Simulate, replay, evaluate; print the summary as the last stdout line."""
    out = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="skyfuse-bench-"))
    t = time.perf_counter()
    meta = simulate_args(args, str(out))
    if not any(f["kind"] in ("asterix", "adsb") for f in meta["files"]):
        raise InputError(f"{args.scenario}: no sensor enabled: nothing to replay")
    t_sim = time.perf_counter() - t
    tracks = out / "tracks.csv"
    t = time.perf_counter()
    _replay(out, meta, tracks)
    t_replay = time.perf_counter() - t
    t = time.perf_counter()
    period = args.period if args.period is not None else meta["nominal_period_s"]
    summary = _evaluate(tracks, out / "truth.csv", out / "report", period)
    adsb = meta.get("adsb")
    if adsb and adsb["equipped_icao24"] and meta["update_period_s"].keys() - {"adsb"}:
        sub = out / "truth-adsb-equipped.csv"
        _subset_truth(out / "truth.csv", set(adsb["equipped_icao24"]), sub)
        s2 = _evaluate(tracks, sub, out / "report" / "adsb-equipped", period)
        summary["adsb_equipped"] = {k: s2[k] for k in ("position_rms_m", "update_probability",
                                                       "track_breaks", "identity_swaps")
                                    if k in s2}
    if adsb and adsb["gaps"]:
        summary["gaps"] = gap_continuity(tracks, adsb["gaps"])
    summary["scenario"] = meta["scenario"]
    summary["bench"] = {"dir": str(out), "simulate_s": round(t_sim, 2),
                        "replay_s": round(t_replay, 2),
                        "evaluate_s": round(time.perf_counter() - t, 2)}
    from skyfuse.eval.report import write_summary

    write_summary(out / "report" / "summary.json", summary)   # the same object as printed
    print(f"skyfuse bench-scenario: {meta['scenario']}: results in {out}", file=sys.stderr)
    print(json.dumps(summary, allow_nan=False), flush=True)
    return 0
