#!/usr/bin/env python3
"""Tracker scaling benchmark: seconds per scan, peak memory and GOSPA per target.

Runs the tracker in this process (one thread for numerical libraries) over the scenarios of
``../shared/bench/scenario.py`` — N targets, N clutter plots per scan, σ = 10 m, Pd = 0.9 —
for each ``--n`` given (default 1,000 and 10,000), and prints one JSON line per N:

  scan_s_median / scan_s_p95 / scan_s_max   wall seconds per ``Tracker.step`` + snapshot
  peak_rss_mib                              peak resident memory of the process so far
  gospa_steady, gospa_per_target            ../shared/bench/gospa.py (c = 100 m, p = 1),
                                            scans after the first 10
  missed_steady, false_steady               per scan

Target (issue "Tracking core"): N = 10,000 at ≤ 0.5 s per scan on one core, with GOSPA per
target no worse than at N = 1,000.

    python benchmarks/bench_tracker_scale.py --n 1000 10000 --scans 40
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skyfuse.ingest.plotfile import TrackRows, read_plots, write_tracks  # noqa: E402
from skyfuse.measure.batch import MeasurementBatch  # noqa: E402
from skyfuse.track.filters.kf import KalmanFilter  # noqa: E402
from skyfuse.track.models.motion import ConstantVelocity  # noqa: E402
from skyfuse.track.tracker import Tracker, TrackerConfig  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"


def scenario(workdir: Path, n: int, scans: int, seed: int) -> tuple[Path, dict]:
    """Make (or reuse) the scenario folder for ``n`` targets; returns it and its params."""
    d = workdir / f"scenario-n{n}-k{scans}-s{seed}"
    if not (d / "params.json").exists():
        subprocess.run([sys.executable, str(SHARED / "scenario.py"), str(d), "--n", str(n),
                        "--scans", str(scans), "--seed", str(seed)], check=True,
                       stdout=subprocess.DEVNULL)
    return d, json.loads((d / "params.json").read_text())


def run(d: Path, params: dict) -> dict:
    """Track the scenario in ``d``; time every scan."""
    plots = read_plots(d / "plots.csv")
    order = np.argsort(plots.t_s, kind="stable")
    t_all = plots.t_s[order]
    xy = np.stack([plots.x_m[order], plots.y_m[order]], axis=1)
    scan_t, first = np.unique(t_all, return_index=True)
    bounds = np.append(first, len(t_all))
    cfg = TrackerConfig(filter=KalmanFilter(ConstantVelocity(q=params["q"])), pd=params["pd"],
                        clutter_density=params["clutter_density_per_m2"],
                        revisit_s=params["dt"])
    tracker = Tracker(cfg)
    times, parts = [], []
    for i, t in enumerate(scan_t):
        a, b = bounds[i], bounds[i + 1]
        batch = MeasurementBatch.cartesian(t_all[a:b], xy[a:b], params["sigma_m"])
        t0 = time.perf_counter()
        tracker.step(batch)
        snap = tracker.snapshot(float(t))
        times.append(time.perf_counter() - t0)
        parts.append(TrackRows(np.full(len(snap.track_id), t), snap.track_id, snap.x[:, 0],
                               snap.x[:, 1], snap.x[:, 2], snap.x[:, 3]))
    out = d / "skyfuse_tracks.csv"
    write_tracks(out, TrackRows.concat(parts))
    g = json.loads(subprocess.run(
        [sys.executable, str(SHARED / "gospa.py"), str(out), str(d / "truth.csv"),
         "--c", str(max(100.0, 10 * params["sigma_m"]))],
        check=True, capture_output=True, text=True).stdout)
    ts = np.array(times)
    return dict(n=params["n"], scans=len(ts), plots_per_scan=round(len(t_all) / len(ts)),
                scan_s_median=float(np.median(ts)), scan_s_p95=float(np.percentile(ts, 95)),
                scan_s_max=float(ts.max()),
                peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                gospa_steady=g["gospa_steady"], gospa_per_target=g["gospa_steady"] / params["n"],
                missed_steady=g["missed_steady"], false_steady=g["false_steady"])


def main() -> None:
    """Parse arguments, run each N, print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--scans", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "skyfuse-bench")
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    for n in a.n:
        d, params = scenario(a.workdir, n, a.scans, a.seed)
        print(json.dumps(run(d, params)), flush=True)


if __name__ == "__main__":
    main()
