#!/usr/bin/env python3
"""Regenerate ``src/skyfuse/data/trajectories/*.npz`` from the ``traffic`` 2.13 wheel.

The wheel (MIT licence, Xavier Olive) ships real ADS-B flights as JSON lists of dicts
(``timestamp`` ms, ``icao24``, ``callsign``, ``latitude``, ``longitude``, ``altitude`` ft,
``groundspeed`` kt, ``track`` deg, ``vertical_rate`` ft/min, ``onground``, ``squawk``).
This script keeps one time window of each collection and stores the rows column-wise:

    skyfuse simulate reads them with :func:`skyfuse.sim.trajectories.load_sample`.

Usage::

    pip download --no-deps traffic==2.13 -d /tmp/w     # the wheel only, no dependencies
    scripts/derive-trajectories.py /tmp/w/traffic-2.13-py3-none-any.whl

Nothing is smoothed or dropped here (that is the simulation's job, reproducibly): rows are
only cut to the window, sorted by (aircraft, time) and stored compactly (float32 degrees,
i.e. < 1 m; times as integer ms).
"""

from __future__ import annotations

import argparse
import gzip
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "src" / "skyfuse" / "data" / "trajectories"
MEMBER = "traffic/data/samples/collections/{name}.json.gz"
WINDOWS = {  # name: (start, end) UTC
    "quickstart": (None, 3600.0),                                  # first hour of the file
    "switzerland": ("2018-08-01T13:00:00", "2018-08-01T15:00:00"),
}


def _num(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])


def derive(wheel: Path, name: str) -> Path:
    """Cut collection ``name`` of the wheel to its window; write ``OUT/name.npz``."""
    with zipfile.ZipFile(wheel) as z:
        rows = json.loads(gzip.decompress(z.read(MEMBER.format(name=name))))
    t_ms = np.array([int(r["timestamp"]) for r in rows], np.int64)
    start, end = WINDOWS[name]
    if start is None:
        t0 = int(t_ms.min())
        t1 = t0 + int(end * 1000)
    else:
        t0 = int(datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp() * 1000)
        t1 = int(datetime.fromisoformat(end).replace(tzinfo=UTC).timestamp() * 1000)
    keep = [i for i in range(len(rows)) if t0 <= t_ms[i] < t1]
    rows = [rows[i] for i in keep]
    icao = np.array([str(r["icao24"]).lower() for r in rows])
    order = np.lexsort((t_ms[keep], icao))
    rows = [rows[i] for i in order]
    icao = icao[order]
    names, aircraft = np.unique(icao, return_inverse=True)
    calls = np.array([(r.get("callsign") or "").strip() for r in rows])
    call_tab, call_idx = np.unique(calls, return_inverse=True)
    squawk = np.array([int(r["squawk"], 8) if r.get("squawk") and
                       str(r["squawk"]).isdigit() and "8" not in str(r["squawk"]) and
                       "9" not in str(r["squawk"]) else -1 for r in rows], np.int16)
    onground = np.array([bool(r.get("onground") or False) for r in rows])
    out = OUT / f"{name}.npz"
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        t_ms=np.array([int(r["timestamp"]) for r in rows], np.int64),
        aircraft=aircraft.astype(np.int32), icao24=names.astype("U6"),
        callsign_index=call_idx.astype(np.int32), callsigns=call_tab.astype("U8"),
        lat_deg=_num(rows, "latitude").astype(np.float32),
        lon_deg=_num(rows, "longitude").astype(np.float32),
        alt_ft=_num(rows, "altitude").astype(np.float32),
        gs_kt=_num(rows, "groundspeed").astype(np.float32),
        track_deg=_num(rows, "track").astype(np.float32),
        vrate_fpm=_num(rows, "vertical_rate").astype(np.float32),
        onground=onground, squawk=squawk,
        window_ms=np.array([t0, t1], np.int64))
    print(f"{out}: {len(rows)} rows, {len(names)} aircraft, "
          f"{out.stat().st_size / 1e6:.2f} MB")
    return out


def main() -> None:
    """Command line: the wheel's path."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="traffic-2.13-py3-none-any.whl")
    args = ap.parse_args()
    for name in WINDOWS:
        derive(args.wheel, name)


if __name__ == "__main__":
    main()
