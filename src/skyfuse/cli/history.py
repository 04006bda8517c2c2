"""``skyfuse history --db FILE [filters] [--format table|csv|json]``: query the history store.

Reads the SQLite store that ``skyfuse serve`` writes (:mod:`skyfuse.outputs.history`),
read-only, so it works while the server is writing. Filters combine with AND:

- ``--start``, ``--end``: ISO 8601 (``2026-12-01T18:00:00Z``; no zone = UTC) or epoch
  seconds; inclusive.
- ``--icao24 HEX``, ``--callsign CS`` (exact, case-insensitive), ``--track-id N``,
  ``--bbox LAT0,LON0,LAT1,LON1`` (degrees, inclusive; ``LON0 > LON1`` crosses the
  antimeridian).
- ``--limit N`` (default 10,000, at most 1,000,000): the first N updates in time order; a
  note on stderr says when the limit cut the answer.

Output, on stdout, the TRACKS columns (CONTRACTS.md) ``t_s,track_id,status,lat_deg,
lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps``: ``table`` (aligned text, the default),
``csv`` (a valid TRACKS file: replay it, evaluate it — this is "replay from history") or
``json`` (one object per line; absent values are null).

Exit status: 0 (also for no matching rows), 2 for a bad argument or a file that is not a
skyfuse history store, 1 otherwise.
"""

from __future__ import annotations

import json
import math
import sys
from argparse import ArgumentParser, Namespace
from typing import Any, TextIO

import numpy as np

from skyfuse.cli.errors import InputError, UsageError
from skyfuse.outputs.history import (
    MAX_LIMIT,
    HistoryError,
    HistoryQueryError,
    HistoryReader,
    parse_time_s,
)
from skyfuse.runtime.tracks_csv import TRACKS_COLUMNS, TrackRows, TracksWriter
from skyfuse.track.table import STATUS_NAMES

__all__ = ["HELP", "add_arguments", "parse_time", "run"]

HELP = "query the track history store (table, TRACKS CSV or JSON lines)"


def parse_time(option: str, text: str) -> float:
    """``--start``/``--end`` value → UTC epoch seconds (ISO 8601 or a number)."""
    try:
        return parse_time_s(text, option)
    except HistoryQueryError as e:
        raise UsageError(str(e)) from None


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 4:
        raise UsageError(f"--bbox {text!r}: expected LAT0,LON0,LAT1,LON1 in degrees")
    return v[0], v[1], v[2], v[3]


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse history``."""
    parser.add_argument("--db", required=True, metavar="FILE",
                        help="history store (SQLite file written by skyfuse serve)")
    parser.add_argument("--start", metavar="TIME",
                        help="first update time: ISO 8601 (UTC if no zone) or epoch s")
    parser.add_argument("--end", metavar="TIME", help="last update time (inclusive)")
    parser.add_argument("--icao24", metavar="HEX", help="24-bit address, hex")
    parser.add_argument("--callsign", metavar="CS", help="callsign (exact, any case)")
    parser.add_argument("--track-id", type=int, metavar="N", help="system track number")
    parser.add_argument("--bbox", metavar="LAT0,LON0,LAT1,LON1",
                        help="area, degrees, corners south-west and north-east")
    parser.add_argument("--limit", type=int, default=10_000, metavar="N",
                        help=f"at most N updates, the first in time (default 10000, "
                             f"max {MAX_LIMIT})")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="table (default), csv (a TRACKS file) or json (lines)")


def _cells(rows: TrackRows) -> list[list[Any]]:
    """Per row the TRACKS values as Python objects (None when absent)."""
    status = STATUS_NAMES[np.clip(rows.status, 0, 2)].tolist()

    def opt(v: float) -> float | None:
        return None if math.isnan(v) else v

    out = []
    for t, tid, st, la, lo, alt, a, cs, vx, vy in zip(
            rows.t_s.tolist(), rows.track_id.tolist(), status, rows.lat_deg.tolist(),
            rows.lon_deg.tolist(), rows.alt_ft.tolist(), rows.icao24.tolist(),
            rows.callsign.tolist(), rows.vx_mps.tolist(), rows.vy_mps.tolist(), strict=True):
        call = cs.decode("ascii", "replace").strip()
        out.append([t, tid, st, opt(la), opt(lo), opt(alt), f"{a:06x}" if a >= 0 else None,
                    call or None, opt(vx), opt(vy)])
    return out


def _write_json(rows: TrackRows, out: TextIO) -> None:
    for cells in _cells(rows):
        out.write(json.dumps(dict(zip(TRACKS_COLUMNS, cells, strict=True))) + "\n")


def _write_table(rows: TrackRows, out: TextIO) -> None:
    fmt = ("{:>14}", "{:>8}", "{:<9}", "{:>10}", "{:>11}", "{:>7}", "{:<6}", "{:<8}",
           "{:>7}", "{:>7}")
    out.write("  ".join(f.format(c) for f, c in zip(fmt, TRACKS_COLUMNS, strict=True)) + "\n")
    for c in _cells(rows):
        text = [f"{c[0]:.3f}", str(c[1]), c[2],
                "" if c[3] is None else f"{c[3]:.5f}", "" if c[4] is None else f"{c[4]:.5f}",
                "" if c[5] is None else f"{c[5]:.0f}", c[6] or "", c[7] or "",
                "" if c[8] is None else f"{c[8]:.1f}", "" if c[9] is None else f"{c[9]:.1f}"]
        out.write("  ".join(f.format(v) for f, v in zip(fmt, text, strict=True)).rstrip()
                  + "\n")


def run(args: Namespace) -> int:
    """Run the query and print the rows; exit status 0."""
    start_s = None if args.start is None else parse_time("--start", args.start)
    end_s = None if args.end is None else parse_time("--end", args.end)
    bbox = None if args.bbox is None else _bbox(args.bbox)
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit {args.limit}: must be 1..{MAX_LIMIT}")
    try:
        with HistoryReader(args.db) as reader:
            rows = reader.query(start_s=start_s, end_s=end_s, icao24=args.icao24,
                                callsign=args.callsign, bbox=bbox, track_id=args.track_id,
                                limit=args.limit)
    except HistoryError as e:
        raise InputError(str(e)) from None
    except HistoryQueryError as e:
        raise UsageError(str(e)) from None
    out = sys.stdout
    if args.format == "csv":
        w = TracksWriter(out)
        w.write(rows)
        w.flush()
    elif args.format == "json":
        _write_json(rows, out)
    else:
        _write_table(rows, out)
    out.flush()
    if len(rows) == args.limit:
        print(f"skyfuse history: note: stopped at --limit {args.limit} rows; narrow the "
              "query or raise --limit", file=sys.stderr)
    return 0
