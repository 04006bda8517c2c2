"""ADS-B transmitters → the DF17 frames one receiver hears → Beast or AVR recording.

Equipage: ``round(equipage · N)`` of the N distinct addresses, chosen by the seed; all
segments of an address share it. Each equipped address gets a NACp drawn from ``nacp``.

Message schedule of an equipped aircraft (received messages; transmitters send more):
positions every ``1/position_rate_hz`` s, velocities every ``1/velocity_rate_hz`` s,
identification every ``identification_period_s`` and operational status (carrying NACp)
every ``status_period_s``, each stream with its own random phase and ±10 % jitter of the
interval. The CPR format (even/odd) of each position is drawn at random (a receiver hears
a random subset of the alternating transmissions). Every message is lost with
probability ``loss``; during a gap (``round(gap_fraction · N)`` of the N equipped
aircraft get 1-3 gaps of ``gap_s``, placed at random, not overlapping, with at least 30 s
of reception before and after each) nothing is heard. Coverage:
slant range ≤ ``max_range_nm`` and line of sight (4/3 earth) from the receiver.

Position error: white Gaussian, per axis ``σ = EPU(NACp) / 2.45`` (EPU the 95 % bound of
:data:`skyfuse.measure.adsb.EPU_M`; 95 % of a circular 2-D Gaussian lies within 2.45 σ),
applied east/north at the aircraft: ``Δφ = Δn/(M+h)``, ``Δλ = Δe/((N+h)·cos φ)``. The
airborne position's type code follows NIC = NACp (TC 11 for NIC 8, 12 for 7, 10 for 9..).

Timestamps: a 12 MHz counter, ``ticks = round((t − t_first)·12·10⁶)`` from the recording's
first frame; ``skyfuse replay --t0 t_first`` puts the frames back on UTC (``scenario.json``
records ``t_first``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from skyfuse.ingest.avr import encode_avr
from skyfuse.ingest.beast import encode_beast
from skyfuse.measure.adsb import EPU_M
from skyfuse.measure.geodesy import FT_TO_M, radii_of_curvature_m
from skyfuse.sim import modes_encode as me
from skyfuse.sim.radar import coverage_mask, radar_geometry
from skyfuse.sim.scenario import AdsbConfig, RadarConfig
from skyfuse.sim.trajectories import Trajectories

__all__ = ["AdsbSim", "equipped_segments", "receiver_coverage", "simulate_adsb",
           "write_recording"]

F64 = NDArray[np.float64]
_TC_FOR_NACP = {11: 9, 10: 10, 9: 10, 8: 11, 7: 12, 6: 13, 5: 14, 4: 15, 3: 16, 2: 17,
                1: 18, 0: 18}
_KIND_POS, _KIND_VEL, _KIND_ID, _KIND_STATUS = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class AdsbSim:
    """Received DF17 frames, time-sorted: ``t_s``, ``frames [K,14]``, ``kind`` (0 position,
    1 velocity, 2 identification, 3 status), ``truth_id``, and per position the encoded
    (noisy) ``lat_deg``/``lon_deg`` (NaN for other kinds). ``equipped`` per segment,
    ``nacp`` per segment (-1 when not equipped), ``gaps`` as (segment, t0, t1) rows."""

    t_s: F64
    frames: NDArray[np.uint8]
    kind: NDArray[np.int8]
    truth_id: NDArray[np.int64]
    lat_deg: F64
    lon_deg: F64
    equipped: NDArray[np.bool_]
    nacp: NDArray[np.int8]
    gaps: F64

    def __len__(self) -> int:
        return len(self.t_s)


def equipped_segments(traj: Trajectories, cfg: AdsbConfig, rng: np.random.Generator
                      ) -> tuple[NDArray[np.bool_], NDArray[np.int8]]:
    """Which segments transmit ADS-B (by address), and each one's NACp (-1: none)."""
    addrs = np.unique(traj.icao24)
    n = round(cfg.equipage * len(addrs))
    chosen = addrs[rng.permutation(len(addrs))[:n]]
    eq = np.isin(traj.icao24, chosen)
    nacp_addr = rng.choice(np.asarray(cfg.nacp, np.int8), size=len(addrs))
    nacp = nacp_addr[np.searchsorted(addrs, traj.icao24)]
    return eq, np.where(eq, nacp, -1).astype(np.int8)


def _stream(traj: Trajectories, segs: NDArray[np.int64], period: float, t0: float,
            t1: float, rng: np.random.Generator) -> tuple[NDArray[np.int64], F64]:
    """Message times of one stream for ``segs``: period with random phase, ±10 % jitter."""
    start = np.maximum(traj.t0_s[segs], t0) + rng.random(len(segs)) * period
    end = np.minimum(traj.t1_s[segs], t1)
    n = np.maximum(np.floor((end - start) / period).astype(np.int64) + 1, 0)
    seg = np.repeat(segs, n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    t = np.repeat(start, n) + k * period + (rng.random(len(seg)) - 0.5) * 0.2 * period
    ok = (t >= traj.t0_s[seg]) & (t <= traj.t1_s[seg]) & (t >= t0) & (t < t1)
    return seg[ok], t[ok]


_GAP_MARGIN_S = 30.0


def _gaps(segs: NDArray[np.int64], traj: Trajectories, cfg: AdsbConfig,
          rng: np.random.Generator) -> F64:
    """(segment, t0, t1) rows: exactly ``round(gap_fraction · N)`` of the ``N`` equipped
    segments, among those long enough for one gap, get ``gaps_per_aircraft`` gaps (fewer
    when the flight is too short); each lies in its own slot of the flight, with 30 s of
    reception before it and after it, so gaps never overlap or touch."""
    rows: list[tuple[float, float, float]] = []
    if cfg.gap_fraction <= 0 or len(segs) == 0:
        return np.empty((0, 3))
    slot_min = cfg.gap_s[1] + _GAP_MARGIN_S              # a slot holds any gap + a margin
    span = traj.t1_s[segs] - traj.t0_s[segs] - _GAP_MARGIN_S
    eligible = segs[span >= slot_min]
    n = min(round(cfg.gap_fraction * len(segs)), len(eligible))
    chosen = np.sort(eligible[rng.permutation(len(eligible))[:n]])
    for f in chosen.tolist():
        lo, hi = traj.t0_s[f] + _GAP_MARGIN_S, traj.t1_s[f]
        k = int(rng.integers(cfg.gaps_per_aircraft[0], cfg.gaps_per_aircraft[1] + 1))
        k = min(k, int((hi - lo) // slot_min))
        if k <= 0:
            continue
        slot = (hi - lo) / k
        for i in range(k):
            d = float(rng.uniform(*cfg.gap_s))
            g0 = lo + i * slot + float(rng.uniform(0.0, slot - _GAP_MARGIN_S - d))
            rows.append((f, g0, g0 + d))
    return np.array(rows, np.float64).reshape(-1, 3)


def receiver_coverage(traj: Trajectories, seg: NDArray[np.int64], t: F64, cfg: AdsbConfig,
                      receiver: tuple[float, float]) -> NDArray[np.bool_]:
    """(segment, time) pairs the receiver can hear: range and line of sight (4/3 earth)."""
    rx = RadarConfig(name="rx", sac=0, sic=0, lat_deg=receiver[0], lon_deg=receiver[1],
                     height_m=cfg.receiver_height_m, cone_of_silence_deg=90.0, min_range_nm=0.0)
    s = traj.at(seg, t)
    rho, _az, el = radar_geometry(rx, s["ecef_m"])
    return coverage_mask(rx, rho, el, s["lat_deg"], s["lon_deg"], s["alt_ft"] * FT_TO_M,
                         cfg.max_range_nm)


def simulate_adsb(traj: Trajectories, cfg: AdsbConfig, receiver: tuple[float, float],
                  t0: float, t1: float, rng: np.random.Generator) -> AdsbSim:
    """The frames heard in ``[t0, t1)`` (see the module docstring)."""
    eq, nacp = equipped_segments(traj, cfg, rng)
    segs = np.flatnonzero(eq).astype(np.int64)
    gaps = _gaps(segs, traj, cfg, rng)
    parts = []
    for kind, period in ((_KIND_POS, 1.0 / cfg.position_rate_hz),
                         (_KIND_VEL, 1.0 / cfg.velocity_rate_hz),
                         (_KIND_ID, cfg.identification_period_s),
                         (_KIND_STATUS, cfg.status_period_s)):
        seg, t = _stream(traj, segs, period, t0, t1, rng)
        parts.append((np.full(len(t), kind, np.int8), seg, t))
    kind = np.concatenate([p[0] for p in parts])
    seg = np.concatenate([p[1] for p in parts])
    t = np.concatenate([p[2] for p in parts])
    keep = rng.random(len(t)) >= cfg.loss
    for f, g0, g1 in gaps.tolist():
        keep &= ~((seg == int(f)) & (t >= g0) & (t < g1))
    keep &= receiver_coverage(traj, seg, t, cfg, receiver)
    order = np.argsort(t[keep], kind="stable")
    kind, seg, t = kind[keep][order], seg[keep][order], t[keep][order]
    s = traj.at(seg, t)
    n = len(t)
    lat, lon = np.full(n, np.nan), np.full(n, np.nan)
    mes = np.zeros(n, np.uint64)
    pos = kind == _KIND_POS
    if pos.any():
        sig = EPU_M[nacp[seg[pos]]] / 2.45
        la, lo, h = s["lat_deg"][pos], s["lon_deg"][pos], s["alt_ft"][pos] * FT_TO_M
        phi = np.radians(la)
        M, N = radii_of_curvature_m(la)
        de, dn = sig * rng.standard_normal(pos.sum()), sig * rng.standard_normal(pos.sum())
        lat[pos] = la + np.degrees(dn / (M + h))
        lon[pos] = lo + np.degrees(de / ((N + h) * np.cos(phi)))
        tc = np.array([_TC_FOR_NACP[int(v)] for v in nacp[seg[pos]]], np.int64)
        mes[pos] = me.airborne_position_me(lat[pos], lon[pos], s["alt_ft"][pos],
                                           rng.random(pos.sum()) < 0.5, tc)
    vel = kind == _KIND_VEL
    if vel.any():
        mes[vel] = me.velocity_me(s["vx_mps"][vel], s["vy_mps"][vel],
                                  s["vz_mps"][vel] * 196.850394)
    ide = kind == _KIND_ID
    if ide.any():
        mes[ide] = me.identification_me([str(c) for c in traj.callsign[seg[ide]]])
    st = kind == _KIND_STATUS
    if st.any():
        mes[st] = me.operational_status_me(nacp[seg[st]])
    frames = me.df17_frames(traj.icao24[seg], mes)
    return AdsbSim(t_s=t, frames=frames, kind=kind, truth_id=seg, lat_deg=lat, lon_deg=lon,
                   equipped=eq, nacp=nacp, gaps=gaps)


def write_recording(path: str | Path, sim: AdsbSim, fmt: str) -> tuple[int, float]:
    """Write ``sim`` as Beast binary or AVR ``@`` text; returns (bytes, t_first_s)."""
    if len(sim) == 0:
        Path(path).write_bytes(b"")
        return 0, float("nan")
    t_first = float(sim.t_s[0])
    ticks = np.round((sim.t_s - t_first) * 12e6).astype(np.int64).tolist()
    enc = encode_beast if fmt == "beast" else encode_avr
    data = b"".join(enc(bytes(f), tk) for f, tk in zip(sim.frames, ticks, strict=True))
    Path(path).write_bytes(data)
    return len(data), t_first
