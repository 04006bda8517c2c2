"""Benchmark: Beast bytes → frames → decode → measurements → tracker, frames per second.

The real AFR34ZG flight (``full_flight_short.jsonl`` from the ``traffic`` wheel, as the
acceptance checks cache it; else the committed 4,000-frame sample) is copied ``--copies``
times, each copy with its own 24-bit address (the address XOR a per-copy mask, parity
fixed up: Mode S CRC is linear, so ``crc(m ⊕ δ) = crc(m) ⊕ crc(δ)``) and rotated in time
by ``k/copies`` of the recording, so that the copies fly different parts of the path at
once. The merged, time-sorted frames are encoded as Beast and timed through:

* **bare**: ``rs1090.decode(list_of_hex, list_of_timestamps)`` on the same frames;
* **skyfuse**: Beast parsing, 12 MHz timebase, dedup + decode + CPR validation,
  measurements, ``Tracker.step`` and TRACKS rows (:class:`~skyfuse.runtime.pipeline.Pipeline`).

Prints both rates and their ratio (target: skyfuse ≥ 75 % of bare), and the CPU seconds of
both (this process, all threads: rs1090 decodes on several threads) with the share spent in
``Tracker.step``: on a shared machine the wall-clock ratio moves with the load, the CPU
figures much less.

    python benchmarks/bench_modes_pipeline.py [--copies 20] [--jsonl PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import rs1090

from skyfuse.ingest.beast import BeastParser, encode_beast
from skyfuse.ingest.stream import read_file
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.measure.batch import MeasurementBatch
from skyfuse.runtime.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
CACHED = Path.home() / ".cache" / "skyfuse-checks" / "data" / "full_flight_short.jsonl"
SAMPLE = ROOT / "tests" / "data" / "afr34zg_4000.avr"
_AA_IN_FRAME = (11, 17, 18)                 # address in bytes 1-3, parity = CRC (⊕ IID)
_AP_OVERLAY = (0, 4, 5, 16, 20, 21)          # parity = CRC ⊕ address


def crc24(data: bytes) -> int:
    """Mode S CRC-24 (generator 0x1FFF409) of ``data``."""
    crc = 0
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1FFF409
    return crc & 0xFFFFFF


def load_frames(jsonl: Path | None) -> tuple[np.ndarray, list[bytes]]:
    """(t_s relative, frames) of the real flight, time-sorted."""
    if jsonl is not None and jsonl.exists():
        with open(jsonl) as f:
            rows = sorted((json.loads(line) for line in f), key=lambda d: d["timestamp"])
        t0 = rows[0]["timestamp"]
        t = np.array([d["timestamp"] - t0 for d in rows])
        frames = []
        for d in rows:
            f = bytes.fromhex(d["frame"])
            frames.append(f[:7] if f[0] >> 3 < 16 else f)
        return t, frames
    ts: list[float] = []
    frames = []
    for _, batch in read_file(SAMPLE):
        ts += (batch.ticks / 12e6).tolist()
        frames += batch.data
    return np.array(ts), frames


def make_fleet(t: np.ndarray, frames: list[bytes], copies: int) -> tuple[np.ndarray, list[bytes]]:
    """``copies`` aircraft: per-copy address mask and time rotation; merged by time."""
    span = float(t[-1] - t[0]) + 1.0
    df = np.array([f[0] >> 3 for f in frames])
    keep = np.isin(df, _AA_IN_FRAME + _AP_OVERLAY)
    out_t: list[np.ndarray] = []
    out_f: list[bytes] = []
    for k in range(copies):
        mask = (k * 0x0B3A75 + (k << 4)) & 0xFFFFFF if k else 0
        fix = {n: crc24(b"\x00" + mask.to_bytes(3, "big") + bytes(n - 7)) for n in (7, 14)}
        tk = (t - t[0] + k * span / copies) % span
        new = []
        for f, d, ok in zip(frames, df.tolist(), keep.tolist(), strict=True):
            if not ok:
                continue
            b = bytearray(f)
            n = len(b)
            if d in _AA_IN_FRAME:
                aa = int.from_bytes(b[1:4], "big") ^ mask
                b[1:4] = aa.to_bytes(3, "big")
                p = int.from_bytes(b[n - 3:], "big") ^ fix[n]
            else:
                p = int.from_bytes(b[n - 3:], "big") ^ mask
            b[n - 3:] = p.to_bytes(3, "big")
            new.append(bytes(b))
        out_t.append(tk[keep])
        out_f.extend(new)
    all_t = np.concatenate(out_t)
    order = np.argsort(all_t, kind="stable")
    return all_t[order], [out_f[i] for i in order.tolist()]


def bench_bare(t: np.ndarray, frames: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads) for rs1090 to decode every frame
    (hex strings and timestamps)."""
    hexes = [f.hex() for f in frames]
    ts = t.tolist()
    cpu, start = time.process_time(), time.perf_counter()
    rs1090.decode(hexes, ts)
    return time.perf_counter() - start, time.process_time() - cpu


def bench_pipeline(beast: bytes) -> tuple[float, float, float, Pipeline, int]:
    """Wall and CPU seconds for the whole skyfuse pipeline on the Beast bytes, CPU seconds
    inside ``Tracker.step``; the pipeline; rows."""
    rows = 0
    step_cpu = 0.0

    def sink(r: object) -> None:
        nonlocal rows
        rows += len(r)  # type: ignore[arg-type]

    cpu, start = time.process_time(), time.perf_counter()
    pipe = Pipeline(sink=sink)
    step = pipe.tracker.step

    def timed_step(batch: MeasurementBatch) -> None:
        nonlocal step_cpu
        c = time.process_time()
        step(batch)
        step_cpu += time.process_time() - c

    pipe.tracker.step = timed_step  # type: ignore[method-assign]
    parser = BeastParser()
    timebase = Timebase(TimeMode.COUNTER)
    chunk = 1 << 20
    for i in range(0, len(beast), chunk):
        batch = parser.feed(beast[i:i + chunk])
        if len(batch):
            pipe.add_frames(timebase.to_seconds(batch.ticks), batch.data)
            pipe.advance()
    pipe.finish()
    return time.perf_counter() - start, time.process_time() - cpu, step_cpu, pipe, rows


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--jsonl", type=Path, default=CACHED)
    args = ap.parse_args()
    t, frames = load_frames(args.jsonl)
    t, frames = make_fleet(t, frames, args.copies)
    beast = b"".join(encode_beast(f, int(x * 12e6)) for x, f in zip(t.tolist(), frames,
                                                                     strict=True))
    n = len(frames)
    bare_s, bare_cpu = bench_bare(t, frames)
    pipe_s, pipe_cpu, step_cpu, pipe, rows = bench_pipeline(beast)
    c = pipe.decoder.counters
    print(f"frames {n:,} ({args.copies} aircraft, {t[-1] - t[0]:.0f} s of data)")
    print(f"rs1090.decode (bare):          {n / bare_s:12,.0f} frames/s  ({bare_s:.2f} s; "
          f"CPU {bare_cpu:.2f} s)")
    print(f"skyfuse Beast→tracks pipeline: {n / pipe_s:12,.0f} frames/s  ({pipe_s:.2f} s; "
          f"CPU {pipe_cpu:.2f} s, of which Tracker.step {step_cpu:.2f} s)")
    print(f"ratio pipeline/bare: {bare_s / pipe_s:.0%} (target ≥ 75 %; CPU-time ratio "
          f"{bare_cpu / pipe_cpu:.0%}); positions {c.positions:,}, "
          f"tracks {pipe.tracker.next_track_id - 1}, rows {rows:,}, "
          f"tracker steps {pipe.counters.steps:,}")


if __name__ == "__main__":
    main()
