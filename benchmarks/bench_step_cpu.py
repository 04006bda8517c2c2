#!/usr/bin/env python3
"""Tracker CPU cost per scan, in process: ``Tracker.step`` + ``snapshot`` under process_time.

What ``skyfuse track`` spends per scan once started, without start-up or CSV I/O, measured
as CPU time (``time.process_time``), which a shared, noisy machine disturbs far less than
wall time. The scenario is ``../shared/bench/scenario.py``'s (N targets, N clutter plots per
scan, σ = 10 m, Pd = 0.9 unless told), the tracker configured as ``skyfuse track`` configures
it. Each configuration is run ``--repeat`` times; the best total is reported (the least
disturbed run), as milliseconds of CPU per scan.

    python benchmarks/bench_step_cpu.py --n 100 1000 [--filter kf imm] [--assoc gnn jpda]
    python benchmarks/bench_step_cpu.py --n 100 --dump /tmp/before.npz   # keep the tracks
    python benchmarks/bench_step_cpu.py --n 100 --check /tmp/before.npz  # compare with them

``--dump`` saves every configuration's output rows (scan time, track id, x, P); ``--check``
compares a run with such a file and prints the largest differences (ids must be equal; a
faster code path must give the same tracks up to floating-point round-off).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skyfuse.ingest.plotfile import read_plots  # noqa: E402
from skyfuse.measure.batch import MeasurementBatch  # noqa: E402
from skyfuse.track.filters.imm import imm_cv_ct  # noqa: E402
from skyfuse.track.filters.kf import KalmanFilter  # noqa: E402
from skyfuse.track.models.motion import ConstantVelocity  # noqa: E402
from skyfuse.track.tracker import Tracker, TrackerConfig  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"


def scenario(workdir: Path, n: int, scans: int, seed: int, extra: list[str]) -> tuple[Path, dict]:
    """Make (or reuse) the scenario folder; returns it and its params."""
    tag = "-".join(extra).replace("--", "") or "default"
    d = workdir / f"scenario-n{n}-k{scans}-s{seed}-{tag}"
    if not (d / "params.json").exists():
        subprocess.run([sys.executable, str(SHARED / "scenario.py"), str(d), "--n", str(n),
                        "--scans", str(scans), "--seed", str(seed), *extra], check=True,
                       stdout=subprocess.DEVNULL)
    return d, json.loads((d / "params.json").read_text())


def run_once(scans: list[MeasurementBatch], scan_t: np.ndarray, cfg: TrackerConfig
             ) -> tuple[float, dict[str, np.ndarray]]:
    """CPU seconds for all scans (step + snapshot) and the output rows."""
    tracker = Tracker(cfg)
    snaps = []
    t0 = time.process_time()
    for t, batch in zip(scan_t.tolist(), scans, strict=True):
        tracker.step(batch)
        snaps.append(tracker.snapshot(t))
    cpu = time.process_time() - t0
    rows = dict(
        t_s=np.concatenate([np.full(len(s.track_id), s.t_s) for s in snaps]),
        track_id=np.concatenate([s.track_id for s in snaps]),
        x=np.concatenate([s.x for s in snaps]),
        P=np.concatenate([s.P for s in snaps]))
    return cpu, rows


def main() -> None:
    """Parse arguments, run every configuration, print one JSON line each."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--scans", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--filter", nargs="+", default=["kf"], choices=("kf", "imm"))
    ap.add_argument("--assoc", nargs="+", default=["gnn"], choices=("gnn", "jpda"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario-args", default="",
                    help="extra scenario.py options, e.g. '--pd 0.7 --sigma 30'")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "skyfuse-bench")
    ap.add_argument("--dump", type=Path, default=None)
    ap.add_argument("--check", type=Path, default=None)
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    dumped: dict[str, np.ndarray] = {}
    ref = dict(np.load(a.check)) if a.check else None
    for n in a.n:
        d, p = scenario(a.workdir, n, a.scans, a.seed, a.scenario_args.split())
        plots = read_plots(d / "plots.csv")
        order = np.argsort(plots.t_s, kind="stable")
        t_all = plots.t_s[order]
        xy = np.stack([plots.x_m[order], plots.y_m[order]], axis=1)
        scan_t, first = np.unique(t_all, return_index=True)
        bounds = np.append(first, len(t_all))
        scans = [MeasurementBatch.cartesian(t_all[bounds[i]:bounds[i + 1]],
                                            xy[bounds[i]:bounds[i + 1]], p["sigma_m"])
                 for i in range(len(scan_t))]
        for filt in a.filter:
            for assoc in a.assoc:
                f = (imm_cv_ct(q_cv=p["q"], q_ct=p["q"], d=2) if filt == "imm"
                     else KalmanFilter(ConstantVelocity(q=p["q"], d=2)))
                cfg = TrackerConfig(filter=f, association=assoc, pd=p["pd"],
                                    clutter_density=p["clutter_density_per_m2"],
                                    revisit_s=p["dt"])
                cpus = []
                for _ in range(a.repeat):
                    cpu, rows = run_once(scans, scan_t, cfg)
                    cpus.append(cpu)
                key = f"n{n}_{filt}_{assoc}"
                out = dict(config=key, scans=len(scan_t),
                           cpu_ms_per_scan_best=1e3 * min(cpus) / len(scan_t),
                           cpu_ms_per_scan_median=1e3 * float(np.median(cpus)) / len(scan_t),
                           rows=len(rows["t_s"]))
                for name, v in rows.items():
                    dumped[f"{key}:{name}"] = v
                if ref is not None and f"{key}:t_s" in ref:
                    same_ids = (len(ref[f"{key}:track_id"]) == len(rows["track_id"])
                                and np.array_equal(ref[f"{key}:track_id"], rows["track_id"]))
                    out["same_track_ids"] = bool(same_ids)
                    if same_ids:
                        out["max_dx"] = float(np.abs(ref[f"{key}:x"] - rows["x"]).max())
                        out["max_dP"] = float(np.abs(ref[f"{key}:P"] - rows["P"]).max())
                print(json.dumps(out), flush=True)
    if a.dump:
        np.savez_compressed(a.dump, **dumped)


if __name__ == "__main__":
    main()
