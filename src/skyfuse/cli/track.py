"""``skyfuse track PLOTS -o TRACKS``: track a plot file (CONTRACTS.md, ``skyfuse track``).

The command reads the plots, sorts them by time (rows need not be sorted), splits them into
scans (rows sharing ``t_s``) with one ``argsort`` and ``np.unique``, feeds the scans to
:class:`~skyfuse.track.tracker.Tracker` in order and, after every scan, takes the confirmed
and coasting tracks at that scan's time. The rows are collected per scan and written once.

Start-up stays lean: this module imports only ``argparse`` at import time; numpy, the plot
reader and the tracker (numpy, scipy) are imported by :func:`run`, tqdm only when a progress
bar is shown, pyarrow only for Parquet files.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from skyfuse.cli.errors import InputError, UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from skyfuse.ingest.plotfile import PlotTable, TrackRows
    from skyfuse.track.filters.base import TrackFilter

__all__ = ["HELP", "add_arguments", "run"]

HELP = "track a plot file (CSV or Parquet) and write the confirmed tracks"

DESCRIPTION = """\
Track the plots of a file and write the confirmed tracks at every scan time.

PLOTS (CSV with a header line, or Parquet):
  t_s       time of the plot, s        (required; rows sharing t_s form one scan)
  x_m, y_m  position, m (east, north)  (required)
  sensor    sensor id, integer or text (optional)
  sigma_m   this plot's noise, m/axis  (optional; overrides --sigma for that row)
  Other columns are ignored. Rows need not be sorted. Blank lines are skipped.

TRACKS (CSV, or Parquet when TRACKS ends with .parquet; '-' writes CSV to stdout):
  t_s,track_id,x_m,y_m,vx_mps,vy_mps
  One row for every confirmed track (coasting included, tentative excluded) at every scan
  time: the estimate after that scan's update. track_id is an integer, stable for the
  life of a track. Floats are written with 3 decimals.

Exit status: 0 done (also after Ctrl-C: the scans done so far are written), 2 bad input
or usage (the message names the file, line and column), 1 any other failure.

Examples:
  skyfuse track plots.csv -o tracks.csv --sigma 10 --q 1 --pd 0.9 --clutter-density 1e-8
  skyfuse track --example -o tracks.csv      (a built-in scenario: 50 targets, 60 scans)
"""

EXAMPLE_TARGETS = 50
EXAMPLE_SCANS = 60
EXAMPLE_SEED = 20240601


# -- argument parsing ----------------------------------------------------------------------
def _positive(text: str) -> float:
    v = _float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return v


def _non_negative(text: str) -> float:
    v = _float(text)
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return v


def _probability(text: str) -> float:
    v = _float(text)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 1]")
    return v


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def _m_of_n(text: str) -> tuple[int, int]:
    try:
        m_s, n_s = text.split("/")
        m, n = int(m_s), int(n_s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not M/N (e.g. 3/4)") from None
    if not 1 <= m <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: need 1 <= M <= N")
    return m, n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``skyfuse track`` (and its ``--help`` text)."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("plots", nargs="?", metavar="PLOTS",
                        help="plot file: CSV with a header, or Parquet (see above)")
    parser.add_argument("-o", "--output", required=True, metavar="TRACKS",
                        help="tracks file to write: CSV, or Parquet if it ends with .parquet")
    parser.add_argument("--example", action="store_true",
                        help=f"track a built-in scenario instead of PLOTS ({EXAMPLE_TARGETS} "
                             f"targets, {EXAMPLE_SCANS} scans, clutter) and report the "
                             "position error against its truth")
    g = parser.add_argument_group("tracking model")
    g.add_argument("--sigma", type=_positive, default=10.0, metavar="M",
                   help="plot noise, standard deviation per axis, m (default: %(default)s); "
                        "a sigma_m column overrides it row by row")
    g.add_argument("--q", type=_positive, default=1.0, metavar="Q",
                   help="process noise: power spectral density of a continuous white-noise "
                        "acceleration, m²/s³, per axis Q = q·[[dt³/3, dt²/2], [dt²/2, dt]] "
                        "(default: %(default)s)")
    g.add_argument("--pd", type=_probability, default=0.9, metavar="P",
                   help="probability that a target is detected in a scan (default: "
                        "%(default)s)")
    g.add_argument("--clutter-density", type=_non_negative, default=1e-8, metavar="D",
                   help="false plots per m² per scan (default: %(default)s)")
    g.add_argument("--filter", choices=("kf", "imm"), default="kf",
                   help="kf: Kalman, nearly constant velocity; imm: IMM of constant velocity "
                        "and ±3°/s coordinated turns, for manoeuvring targets (default: "
                        "%(default)s)")
    g.add_argument("--assoc", choices=("gnn", "jpda"), default="gnn",
                   help="association: gnn (global nearest neighbour, optimal assignment) or "
                        "jpda (joint probabilistic, per cluster) (default: %(default)s)")
    g.add_argument("--confirm", type=_m_of_n, default=(3, 4), metavar="M/N",
                   help="confirm a tentative track after M updates in N scans (default: 3/4)")
    o = parser.add_argument_group("output")
    o.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    o.add_argument("-q", "--quiet", action="store_true",
                   help="no summary line on stderr")


# -- the command ---------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    """Read, track scan by scan, write; returns the exit status."""
    t_start = time.perf_counter()
    _check_usage(args)
    import numpy as np

    from skyfuse.ingest.plotfile import PlotFileError, read_plots, write_tracks

    truth = None
    try:
        if args.example:
            plots, truth = example_scenario()
        else:
            plots = read_plots(args.plots)
    except PlotFileError as e:
        raise InputError(str(e)) from None
    rows, done, n_scans = track_plots(plots, args)
    try:
        write_tracks(args.output, rows)
    except PlotFileError as e:
        raise InputError(str(e)) from None
    if not args.quiet:
        n_tracks = len(np.unique(rows.track_id))
        where = "stdout" if args.output == "-" else args.output
        stopped = "" if done == n_scans else f" (interrupted after {done} of {n_scans} scans)"
        quality = "" if truth is None else f", {_truth_summary(rows, truth)}"
        print(f"skyfuse track: {n_scans:,} scans, {len(plots):,} plots -> {n_tracks:,} confirmed "
              f"tracks{quality}; {len(rows):,} rows written to {where} in "
              f"{time.perf_counter() - t_start:.2f} s{stopped}", file=sys.stderr)
    return 0


def _check_usage(args: argparse.Namespace) -> None:
    """Fail fast (exit 2) on options that cannot work, before any tracking is done."""
    if args.example and args.plots:
        raise UsageError("give either PLOTS or --example, not both")
    if not args.example and not args.plots:
        raise UsageError("missing PLOTS (a plot file), or use --example for a built-in one")
    out = args.output
    if out != "-":
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise UsageError(f"-o {out}: directory {parent} does not exist")
        if os.path.isdir(out):
            raise UsageError(f"-o {out}: is a directory")
        if out.lower().endswith(".parquet"):
            import importlib.util

            if importlib.util.find_spec("pyarrow") is None:
                raise UsageError(f"-o {out}: Parquet needs pyarrow: "
                                 "pip install 'skyfuse[parquet]'")


def make_filter(kind: str, q: float) -> TrackFilter:
    """The filter named by ``--filter`` with acceleration PSD ``q`` (m²/s³), 2-D state."""
    from skyfuse.track.models.motion import ConstantVelocity

    if kind == "imm":
        from skyfuse.track.filters.imm import imm_cv_ct

        return imm_cv_ct(q_cv=q, q_ct=q, d=2)
    from skyfuse.track.filters.kf import KalmanFilter

    return KalmanFilter(ConstantVelocity(q=q, d=2))


def scan_bounds(t_s: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64],
                                                   NDArray[np.intp]]:
    """Time order of the rows, the scan times, and where each scan starts in that order.

    Returns ``(order, scan_t_s[S], starts[S+1])``: scan ``i`` is rows
    ``order[starts[i]:starts[i+1]]``, all with ``t_s == scan_t_s[i]``.
    """
    import numpy as np

    order = np.argsort(t_s, kind="stable")
    scan_t, first = np.unique(t_s[order], return_index=True)
    starts = np.append(first, len(t_s)).astype(np.intp)
    return order, scan_t, starts


def _median(v: NDArray[np.float64]) -> float:
    """Median by sorting (``np.median`` imports ``numpy.ma``: ~10 ms of every start)."""
    import numpy as np

    d = np.sort(v)
    m = len(d) // 2
    return float(d[m] if len(d) % 2 else (d[m - 1] + d[m]) / 2)


def track_plots(plots: PlotTable, args: argparse.Namespace) -> tuple[TrackRows, int, int]:
    """Run the tracker over the scans of ``plots``.

    Returns the TRACKS rows, the number of scans processed (fewer than all after Ctrl-C or
    SIGTERM) and the number of scans.
    """
    import numpy as np

    from skyfuse.ingest.plotfile import TrackRows
    from skyfuse.measure.batch import MeasurementBatch
    from skyfuse.track.tracker import Tracker, TrackerConfig

    order, scan_t, starts = scan_bounds(plots.t_s)
    n_scans = len(scan_t)
    revisit_s = _median(np.diff(scan_t)) if n_scans >= 2 else 1.0
    cfg = TrackerConfig(filter=make_filter(args.filter, args.q), association=args.assoc,
                        pd=args.pd, clutter_density=args.clutter_density,
                        revisit_s=revisit_s if revisit_s > 0 else 1.0,
                        confirm_m=args.confirm[0], confirm_n=args.confirm[1])
    tracker = Tracker(cfg)
    xy = np.stack([plots.x_m[order], plots.y_m[order]], axis=1)
    sigma = plots.sigma_m[order] if plots.sigma_m is not None else np.full(len(order),
                                                                           args.sigma)
    sensor = plots.sensor[order] if plots.sensor is not None else None
    parts: list[TrackRows] = []
    bar = None
    done = 0
    try:
        bar = _progress_bar(args, n_scans)
        for i in range(n_scans):
            a, b = starts[i], starts[i + 1]
            t = float(scan_t[i])
            cols = {} if sensor is None else {"sensor": sensor[a:b]}
            tracker.step(MeasurementBatch.cartesian(np.full(b - a, t), xy[a:b], sigma[a:b],
                                                    **cols))
            snap = tracker.snapshot(t)
            if len(snap.track_id):
                x = np.array(snap.x[:, :4])           # own copy: x, y, vx, vy (d = 2)
                parts.append(TrackRows(np.full(len(x), t), np.array(snap.track_id, np.int64),
                                       x[:, 0], x[:, 1], x[:, 2], x[:, 3]))
            done = i + 1
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:                     # Ctrl-C or SIGTERM: write what is done
        pass
    finally:
        if bar is not None:
            bar.close()
    return TrackRows.concat(parts), done, n_scans


def _progress_bar(args: argparse.Namespace, total: int) -> Any:
    """A tqdm bar on stderr when asked for, or by default when stderr is a terminal; or None."""
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    if not show or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="scan", file=sys.stderr, dynamic_ncols=True,
                desc="tracking")


# -- the built-in example ------------------------------------------------------------------
def example_scenario() -> tuple[PlotTable, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """A small deterministic scenario: plots, and truth positions ``[scans, targets, 2]``.

    Matches the defaults of ``skyfuse track``: targets at 100–250 m/s on nearly-constant-
    velocity paths (q = 1 m²/s³) in a square of side √N·10 km, σ = 10 m, Pd = 0.9, one scan
    per second, N clutter plots per scan on average (1e-8 per m²), rows of a scan shuffled.
    Returns ``(plots, (scan_t_s[S], truth_xy_m[S, N, 2]))``.
    """
    import numpy as np

    from skyfuse.ingest.plotfile import PlotTable

    rng = np.random.default_rng(EXAMPLE_SEED)
    n, scans, dt, sigma, q, pd = EXAMPLE_TARGETS, EXAMPLE_SCANS, 1.0, 10.0, 1.0, 0.9
    side = np.sqrt(n) * 10_000.0
    pos = rng.uniform(0.0, side, (n, 2))
    speed, hdg = rng.uniform(100.0, 250.0, n), rng.uniform(0.0, 2 * np.pi, n)
    vel = np.stack([speed * np.cos(hdg), speed * np.sin(hdg)], axis=1)
    # per axis, the exact discretisation of white-noise acceleration: Q = q [[dt³/3, dt²/2],
    # [dt²/2, dt]]; sample (position, velocity) increments with its Cholesky factor
    chol = np.linalg.cholesky(q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]]))
    truth = np.empty((scans, n, 2))
    t_parts, xy_parts = [], []
    for k in range(scans):
        if k:
            w = rng.standard_normal((n, 2, 2)) @ chol.T        # [target, axis, (dp, dv)]
            pos += vel * dt + w[:, :, 0]
            vel += w[:, :, 1]
        truth[k] = pos
        det = rng.random(n) < pd
        z = pos[det] + rng.normal(0.0, sigma, (int(det.sum()), 2))
        clutter = rng.uniform(0.0, side, (rng.poisson(n), 2))
        scan = np.concatenate([z, clutter])[rng.permutation(len(z) + len(clutter))]
        t_parts.append(np.full(len(scan), k * dt))
        xy_parts.append(scan)
    t, xy = np.concatenate(t_parts), np.concatenate(xy_parts)
    plots = PlotTable(t, np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]))
    return plots, (np.arange(scans) * dt, truth)


def _truth_summary(rows: TrackRows,
                   truth: tuple[NDArray[np.float64], NDArray[np.float64]]) -> str:
    """'position RMS x m over y% of the truth updates' (nearest truth within 100 m)."""
    import numpy as np

    scan_t, truth_xy = truth
    if len(rows) == 0:
        return "no track matched the truth"
    k = np.searchsorted(scan_t, rows.t_s)
    d = np.hypot(truth_xy[k, :, 0] - rows.x_m[:, None], truth_xy[k, :, 1] - rows.y_m[:, None])
    j = d.argmin(axis=1)
    near = d[np.arange(len(rows)), j]
    ok = near < 100.0
    if not ok.any():
        return "no track matched the truth"
    covered = len(np.unique(k[ok] * truth_xy.shape[1] + j[ok])) / truth_xy[:, :, 0].size
    rms = float(np.sqrt(np.mean(near[ok] ** 2)))
    return f"position RMS {rms:.1f} m against truth, {100 * covered:.0f}% of truth covered"
