"""``skyfuse evaluate --tracks TRACKS --truth truth.csv -o REPORT_DIR`` (CONTRACTS.md).

Writes ``REPORT_DIR/summary.json``, ``REPORT_DIR/per_target.csv`` and
``REPORT_DIR/index.html`` and prints the summary as one JSON line, the last line on stdout.
The work is :func:`skyfuse.eval.evaluate_files`; this module only parses arguments (and
imports numpy and the evaluation lazily, in :func:`run`).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "evaluate tracks against ground truth: summary.json, per_target.csv, index.html"

DESCRIPTION = """\
Evaluate a TRACKS file against ground truth, the way an air-navigation service provider
does (docs/evaluation.md defines every figure).

TRACKS (CSV, as written by 'skyfuse replay' / 'skyfuse run'):
  t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps
  required: t_s, track_id, lat_deg, lon_deg; status (tentative|confirmed|coasting),
  icao24 and vx_mps, vy_mps are used when present.
TRUTH (CSV, as written by 'skyfuse simulate'):
  t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps   (velocity east/north, m/s)
  an optional extra column adsb (0/1) splits the position RMS into ADS-B-equipped
  aircraft and the others.

Association: each track update goes to at most one truth object: the one with its icao24
(within --identity-gate), else the nearest within --max-distance. Tentative rows count
for nothing but the confirmation delay, coasting rows for continuity only.

Output: REPORT_DIR/summary.json, REPORT_DIR/per_target.csv (one row per truth object),
REPORT_DIR/index.html (self-contained); the summary as one JSON line on stdout.

Exit status: 0 done (whether or not the thresholds pass), 2 bad input or usage (the
message names the file, line and column), 1 any other failure.
"""


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (v > 0 and v != float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return v


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``skyfuse evaluate``."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--tracks", required=True, metavar="TRACKS", help="TRACKS CSV")
    parser.add_argument("--truth", required=True, metavar="TRUTH", help="truth CSV")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT_DIR",
                        help="folder for summary.json, per_target.csv, index.html")
    parser.add_argument("--period", type=_positive, default=None, metavar="S",
                        help="the scenario's nominal update period, s (e.g. 4 for a 4 s "
                             "radar, 1 for 1 Hz ADS-B); default: inferred, the median "
                             "interval between updates of a track")
    parser.add_argument("--max-distance", type=_positive, default=2000.0, metavar="M",
                        help="position gate of the association, m (default: %(default)s)")
    parser.add_argument("--identity-gate", type=_positive, default=10_000.0, metavar="M",
                        help="sanity gate of the association by icao24, m "
                             "(default: %(default)s)")
    parser.add_argument("--break-periods", type=_positive, default=3.0, metavar="K",
                        help="an interruption of more than K periods ends an association "
                             "segment (default: %(default)s)")
    parser.add_argument("--min-run", type=_count, default=3, metavar="N",
                        help="runs of fewer than N updates on one truth object are ignored "
                             "when counting identity switches (default: %(default)s)")
    parser.add_argument("--duplicate-periods", type=_positive, default=5.0, metavar="K",
                        help="two tracks on one truth object for more than K periods make a "
                             "duplicate (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report, print the summary line."""
    from skyfuse.eval import evaluate_files
    from skyfuse.eval.report import summary_line

    summary = evaluate_files(
        args.tracks, args.truth, args.output, period_s=args.period,
        max_distance_m=args.max_distance, identity_gate_m=args.identity_gate,
        break_periods=args.break_periods, min_run=args.min_run,
        duplicate_periods=args.duplicate_periods)
    sys.stdout.write(summary_line(summary) + "\n")
    sys.stdout.flush()
    return 0
