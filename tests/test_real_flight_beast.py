"""The real 57,793-frame AFR34ZG flight replayed from Beast binary as well as from AVR.

``../shared/checks/real-flight.sh`` checks the AVR replay of traffic's
``full_flight_short.jsonl`` against the oracle. Here the same frames, with the same 12 MHz
timestamps, are also written as Beast binary: both replays must give exactly the same TRACKS
rows, and the Beast one must pass the check's criteria (one confirmed track for 393322 with
callsign AFR34ZG, p99 distance to the oracle's decoded path ≤ 100 m, covering take-off to
landing).

The recording is not in the repository (it ships inside the ``traffic`` wheel): the test
runs when it is in ``$CHECKS_CACHE/data`` (default ``~/.cache/skyfuse-checks/data``, where
the shared checks and ``scripts/fetch-test-data.sh`` — run by
``scripts/install-system-deps.sh`` — unpack it) or at ``$SKYFUSE_FLIGHT_JSONL``, and is
skipped otherwise.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from skyfuse.cli.main import main
from skyfuse.ingest.beast import encode_beast

pytestmark = pytest.mark.slow


def _flight_jsonl() -> Path | None:
    env = os.environ.get("SKYFUSE_FLIGHT_JSONL")
    cache = Path(os.environ.get("CHECKS_CACHE", Path.home() / ".cache" / "skyfuse-checks"))
    for p in (Path(env) if env else None, cache / "data" / "full_flight_short.jsonl"):
        if p is not None and p.is_file():
            return p
    return None


def _write_inputs(src: Path, d: Path) -> tuple[Path, Path, np.ndarray]:
    """AVR (``@TTTTTTTTTTTTHEX;``) and Beast files of the same frames, and the oracle's
    decoded positions ``[t_s, lat, lon]`` (as ../shared/checks/jsonl2avr.py writes them)."""
    with src.open() as f:
        rows = sorted((json.loads(line) for line in f), key=lambda r: r["timestamp"])
    t0 = rows[0]["timestamp"]
    avr, beast, oracle = [], [], []
    for r in rows:
        hexa = r["frame"]
        if int(hexa[:2], 16) >> 3 < 16:                  # short frames are stored padded
            hexa = hexa[:14]
        ticks = int((r["timestamp"] - t0) * 12e6)
        avr.append(f"@{ticks:012X}{hexa.upper()};\n")
        beast.append(encode_beast(bytes.fromhex(hexa), ticks))
        if "latitude" in r:
            oracle.append((r["timestamp"] - t0, r["latitude"], r["longitude"]))
    (d / "flight.avr").write_text("".join(avr))
    (d / "flight.beast").write_bytes(b"".join(beast))
    return d / "flight.avr", d / "flight.beast", np.array(oracle)


def _dist_to_path_m(lat: np.ndarray, lon: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Distance of each point to the polyline of the oracle's fixes (metres, local plane)."""
    k = np.cos(np.radians(path[:, 1].mean()))

    def xy(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return np.stack([np.radians(lo) * 6371e3 * k, np.radians(la) * 6371e3], -1)

    o, p = xy(path[:, 1], path[:, 2]), xy(lat, lon)
    a, ab = o[:-1], o[1:] - o[:-1]
    L2 = np.maximum((ab**2).sum(1), 1e-9)
    out = np.empty(len(p))
    for i in range(0, len(p), 2000):
        q = p[i:i + 2000, None, :]
        t = np.clip(((q - a) * ab).sum(-1) / L2, 0, 1)
        out[i:i + 2000] = np.sqrt((((a + t[..., None] * ab) - q) ** 2).sum(-1)).min(1)
    return out


def test_full_flight_from_beast_equals_avr_and_follows_the_oracle(tmp_path: Path) -> None:
    src = _flight_jsonl()
    if src is None:
        pytest.skip("full_flight_short.jsonl not found (set SKYFUSE_FLIGHT_JSONL, or run "
                    "../shared/checks/real-flight.sh once to unpack it)")
    avr, beast, oracle = _write_inputs(src, tmp_path)
    assert len(oracle) > 7000
    out = {}
    for name, path in (("avr", avr), ("beast", beast)):
        dst = tmp_path / f"tracks-{name}.csv"
        assert main(["replay", str(path), "-o", str(dst)]) == 0
        with dst.open(newline="") as f:
            out[name] = list(csv.DictReader(f))
    assert len(out["beast"]) > 5000
    assert out["beast"] == out["avr"]                      # same frames, same tracks
    mine = [r for r in out["beast"] if r["icao24"] == "393322"
            and r["status"] in ("confirmed", "coasting")]
    assert {r["track_id"] for r in mine} and len({r["track_id"] for r in mine}) == 1
    assert "AFR34ZG" in {r["callsign"].strip() for r in mine}
    lat = np.array([float(r["lat_deg"]) for r in mine])
    lon = np.array([float(r["lon_deg"]) for r in mine])
    dist = _dist_to_path_m(lat, lon, oracle)
    assert np.percentile(dist, 99) <= 100.0, np.percentile(dist, 99)
    t = np.array([float(r["t_s"]) for r in mine])
    span = (t.max() - t.min()) / (oracle[:, 0].max() - oracle[:, 0].min())
    assert span >= 0.72, span
