#!/usr/bin/env python3
"""Benchmark of ``skyfuse evaluate``: N aircraft for D seconds, truth at 1 s, tracks at 4 s.

Defaults: 250 aircraft × 1 h → 900k truth rows, 225k track rows (radar-like: 4 s updates,
60 m noise per axis, a few false tracks). Writes both CSVs into a temporary folder, then
times reading, association, metrics, GOSPA and the report files separately, and prints one
JSON line: ``{"n": .., "truth_rows": .., "track_rows": .., "read_s": .., ...,
"total_s": .., "html_bytes": .., "position_rms_m": ..}``.

    .venv/bin/python benchmarks/bench_eval.py [--n 250] [--duration 3600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from skyfuse.eval import EvalConfig, evaluate, read_tracks, read_truth
from skyfuse.eval.geo import radii_m
from skyfuse.eval.html import write_html
from skyfuse.eval.report import write_per_target, write_summary


def _scenario(d: Path, n: int, duration_s: float, seed: int) -> tuple[Path, Path]:
    """Straight and turning flights about 49 N 2.5 E; returns (truth.csv, tracks.csv)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s + 1e-9, 1.0)
    lat0, lon0 = 49.0, 2.5
    m0, n0 = radii_m(np.asarray(lat0))
    e0 = rng.uniform(-150e3, 150e3, n)
    n0_m = rng.uniform(-150e3, 150e3, n)
    hdg0 = rng.uniform(0, 2 * np.pi, n)
    turn = rng.choice([0.0, 0.0, 0.01, -0.01], n)                 # rad/s
    speed = rng.uniform(120, 250, n)
    hdg = hdg0[:, None] + turn[:, None] * t[None, :]
    vx, vy = speed[:, None] * np.sin(hdg), speed[:, None] * np.cos(hdg)
    east = e0[:, None] + np.cumsum(vx, axis=1) - vx[:, :1]
    north = n0_m[:, None] + np.cumsum(vy, axis=1) - vy[:, :1]
    lat = lat0 + np.degrees(north / m0)
    lon = lon0 + np.degrees(east / (n0 * np.cos(np.radians(lat0))))
    truth = d / "truth.csv"
    with truth.open("w") as f:
        f.write("t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps\n")
        for i in range(n):
            icao = f"{0x400000 + i:06x}" if i % 2 == 0 else ""
            f.writelines(f"{tt:.1f},T{i},{icao},{la:.7f},{lo:.7f},30000,{a:.2f},{b:.2f}\n"
                         for tt, la, lo, a, b in zip(t.tolist(), lat[i].tolist(),
                                                     lon[i].tolist(), vx[i].tolist(),
                                                     vy[i].tolist(), strict=True))
    tracks = d / "tracks.csv"
    rows = []
    for i in range(n):
        phase = rng.uniform(0, 4)
        k = np.arange(int(phase), len(t), 4)
        lat_n = lat[i, k] + np.degrees(rng.normal(0, 60, len(k)) / m0)
        lon_n = lon[i, k] + np.degrees(rng.normal(0, 60, len(k)) /
                                       (n0 * np.cos(np.radians(lat0))))
        icao = f"{0x400000 + i:06x}" if i % 2 == 0 else ""
        rows.extend((float(t[j]), i, la, lo, icao, float(vx[i, j]), float(vy[i, j]))
                    for j, la, lo in zip(k.tolist(), lat_n.tolist(), lon_n.tolist(),
                                         strict=True))
    for f_id in range(5):                                          # false tracks
        for j in range(0, 300, 4):
            rows.append((float(j), 10_000 + f_id, lat0 + 2.0, lon0 + 0.1 * f_id, "", 0.0, 0.0))
    rows.sort(key=lambda r: r[0])
    with tracks.open("w") as f:
        f.write("t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign,vx_mps,vy_mps\n")
        f.writelines(f"{a:.3f},{b},confirmed,{c:.6f},{e:.6f},30000,{g},,{h:.1f},{k:.1f}\n"
                     for a, b, c, e, g, h, k in rows)
    return truth, tracks


def main() -> None:
    """Run the benchmark and print its JSON line."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=250)
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = args.keep or Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        truth_p, tracks_p = _scenario(d, args.n, args.duration, args.seed)
        t0 = time.perf_counter()
        truth = read_truth(truth_p)
        tracks = read_tracks(tracks_p)
        t1 = time.perf_counter()
        ev = evaluate(tracks, truth, EvalConfig(period_s=4.0))
        t2 = time.perf_counter()
        out = d / "report"
        out.mkdir(exist_ok=True)
        write_summary(out / "summary.json", ev.summary)
        write_per_target(out / "per_target.csv", ev)
        write_html(out / "index.html", ev)
        t3 = time.perf_counter()
        s = ev.summary
        print(json.dumps({
            "n": args.n, "duration_s": args.duration, "truth_rows": len(truth),
            "track_rows": len(tracks), "read_s": round(t1 - t0, 2),
            "evaluate_s": round(t2 - t1, 2), "write_s": round(t3 - t2, 2),
            "total_s": round(t3 - t0, 2),
            "html_bytes": (out / "index.html").stat().st_size,
            "position_rms_m": s["position_rms_m"], "update_probability":
                s["update_probability"], "false_tracks": s["false_tracks"],
            "identity_swaps": s["identity_swaps"], "gospa_mean": s["gospa_mean"]}))


if __name__ == "__main__":
    main()
