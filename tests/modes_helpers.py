"""Shared helpers of the Mode S tests: the real recordings in tests/data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
AFR_AVR = DATA / "afr34zg_4000.avr"
AFR_ORACLE = DATA / "afr34zg_4000_oracle.csv"
DUMP1090_BEAST = DATA / "sample_dump1090.bin"
CDG = (49.0097, 2.5479)


def afr_oracle() -> tuple[float, dict[int, tuple[str, float, float]]]:
    """(t0_s, {line: (bds, lat_deg, lon_deg)}) of the oracle's decoded positions."""
    with open(AFR_ORACLE) as f:
        t0 = float(f.readline().split("=")[1])
        rows = {int(r["line"]): (r["bds"], float(r["lat_deg"]), float(r["lon_deg"]))
                for r in csv.DictReader(f)}
    return t0, rows


def rng(seed: int) -> np.random.Generator:
    """A seeded generator."""
    return np.random.default_rng(seed)
