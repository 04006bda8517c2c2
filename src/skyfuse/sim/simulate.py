"""``simulate(scenario, out_dir)``: fly the truth past the sensors, write what they send.

Writes into ``out_dir``:

| file                    | content                                                       |
|-------------------------|---------------------------------------------------------------|
| ``asterix.pcap``        | all ASTERIX streams, one UDP port each: per enabled radar     |
|                         | CAT048 plots + CAT034 north markers; CAT021 when ADS-B is     |
|                         | ``format = "cat021"``                                         |
| ``adsb.beast`` / ``.avr`` | the DF17 frames the ADS-B receiver hears (12 MHz counter)   |
| ``truth.csv``           | ``t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps``  |
|                         | (+ ``adsb`` 0/1 when the scenario has ADS-B)                  |
| ``sensors.toml``        | the sensor file for ``skyfuse replay --sensors``              |
| ``scenario.json``       | periods, reference, files, equipage, gaps, replay arguments  |

``nominal_period_s`` (for the evaluation's probability of update) is the shortest radar
rotation period, or the ADS-B position period without radars.

Truth rows are written every ``truth_period_s`` while the aircraft is inside the geometric
coverage of at least one enabled sensor (radar: range, cone of silence, line of sight;
ADS-B: equipped and in the receiver's range, *including* its gaps, which the tracker must
bridge): what an ANSP's evaluation calls the coverage volume. ``truth_id`` is stable per
flight segment; ``icao24`` its address.

The sensor file describes the radars as their operator believes them to be: positions and
noise as configured, biases **zero** (unknown: estimating them is the tracker's job), so a
biased scenario measures the effect of the biases.

Randomness: one :class:`numpy.random.SeedSequence` of ``seed``, spawned into one stream per
radar (by its position in the file) and one for ADS-B, so switching a sensor off leaves
the others' output unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from skyfuse.measure.geodesy import FT_TO_M
from skyfuse.sim.adsb import receiver_coverage, simulate_adsb, write_recording
from skyfuse.sim.asterix_out import cat021_datagrams, radar_datagrams, write_pcap
from skyfuse.sim.radar import coverage_mask, radar_geometry, simulate_radar
from skyfuse.sim.scenario import AdsbConfig, RadarConfig, Scenario
from skyfuse.sim.trajectories import (
    Trajectories,
    TrajectoryConfig,
    build_trajectories,
    load_sample,
)

__all__ = ["ASTERIX_FILE", "sensors_toml", "simulate", "write_truth"]

ASTERIX_FILE = "asterix.pcap"


def sensors_toml(radars: list[RadarConfig], adsb: AdsbConfig | None = None) -> str:
    """The sensor file (``skyfuse.measure.sensors`` format) for the enabled radars."""
    out = ["# Written by skyfuse simulate. Biases are unknown to the operator: zero here.", ""]

    def entry(name: str, sic: int, kind: str, r: RadarConfig, sr: float, sa: float) -> None:
        out.extend([
            "[[sensor]]", f"name = {json.dumps(name)}", f"sac = {r.sac}", f"sic = {sic}",
            f'kind = "{kind}"', f"lat_deg = {r.lat_deg!r}", f"lon_deg = {r.lon_deg!r}",
            f"height_m = {r.height_m!r}", f"sigma_range_m = {sr!r}",
            f"sigma_azimuth_deg = {sa!r}", "range_bias_m = 0.0", "azimuth_bias_deg = 0.0",
            f"rotation_period_s = {r.rotation_period_s!r}", ""])

    for r in radars:
        entry(r.name, r.sic, r.kind, r, r.sigma_range_m, r.sigma_azimuth_deg)
        if r.psr is not None:
            entry(f"{r.name} PSR", r.psr.sic, "psr", r, r.psr.sigma_range_m,
                  r.psr.sigma_azimuth_deg)
    if adsb is not None and adsb.enabled and adsb.format == "cat021" and adsb.receiver:
        out.extend(["[[sensor]]", 'name = "ADS-B ground station"', f"sac = {adsb.sac}",
                    f"sic = {adsb.sic}", 'kind = "adsb"', f"lat_deg = {adsb.receiver[0]!r}",
                    f"lon_deg = {adsb.receiver[1]!r}",
                    f"height_m = {adsb.receiver_height_m!r}", ""])
    return "\n".join(out)


def _radar_coverage(traj: Trajectories, seg: np.ndarray, t: np.ndarray,
                    r: RadarConfig) -> np.ndarray:
    s = traj.at(seg, t)
    rho, _az, el = radar_geometry(r, s["ecef_m"])
    max_nm = r.max_range_nm
    if r.psr is not None:
        max_nm = max(max_nm, r.psr.max_range_nm)
    return coverage_mask(r, rho, el, s["lat_deg"], s["lon_deg"], s["alt_ft"] * FT_TO_M, max_nm)


def write_truth(path: Path, traj: Trajectories, seg: np.ndarray, t: np.ndarray,
                adsb: np.ndarray | None = None) -> int:
    """Write truth rows at (segment, time) pairs in CONTRACTS.md's columns, plus ``adsb``
    (0/1 per segment: ADS-B equipped) when given; returns the number of rows."""
    order = np.lexsort((seg, t))
    seg, t = seg[order], t[order]
    s = traj.at(seg, t)
    icao = [f"{a:06x}" for a in traj.icao24[seg].tolist()]
    extra = ([f",{int(v)}" for v in adsb[seg].tolist()] if adsb is not None
             else [""] * len(seg))
    lines = ["t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps"
             + (",adsb" if adsb is not None else "")]
    for row in zip(t.tolist(), (seg + 1).tolist(), icao, s["lat_deg"].tolist(),
                   s["lon_deg"].tolist(), s["alt_ft"].tolist(), s["vx_mps"].tolist(),
                   s["vy_mps"].tolist(), extra, strict=True):
        t_s, k, icao_s, la, lo, alt, vx, vy, ex = row
        lines.append(f"{t_s:.3f},{k},{icao_s},{la:.7f},{lo:.7f},{alt:.0f},{vx:.2f},{vy:.2f}"
                     f"{ex}")
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def _nominal_period(sc: Scenario, periods: dict[str, float]) -> float | None:
    """The evaluation's update period: the shortest radar rotation, else ADS-B's."""
    radar = [p for name, p in periods.items() if name != "adsb"]
    if radar:
        return min(radar)
    return periods.get("adsb")


def simulate(sc: Scenario, out_dir: str | Path, seed: int | None = None) -> dict[str, Any]:
    """Run scenario ``sc`` into ``out_dir`` (created); returns the ``scenario.json`` object."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed = sc.seed if seed is None else seed
    sample = load_sample(sc.trajectories)
    t0 = sample.window_s[0] + sc.start_s
    t1 = t0 + sc.duration_s
    traj = build_trajectories(sample, t0, t1, TrajectoryConfig(smooth_s=sc.smooth_s))
    streams = np.random.SeedSequence(seed).spawn(len(sc.radars) + 1)
    ref = sc.reference_latlon()
    files: list[dict[str, Any]] = []
    periods: dict[str, float] = {}
    # truth sampling grid: every truth_period_s on the 1 s grid
    step = max(1, round(sc.truth_period_s / traj.dt_s))
    rows = np.arange(int(traj.count.sum()))
    seg_all = traj.segment_of_row
    sel = ((rows - traj.start[seg_all]) % step) == 0
    t_all = traj.t_row_s
    tseg, tt = seg_all[sel], t_all[sel]
    tin = (tt >= t0) & (tt < t1)
    tseg, tt = tseg[tin], tt[tin]
    covered = np.zeros(len(tt), bool)
    enabled = [r for r in sc.radars if r.enabled]
    datagrams: list[tuple[float, bytes, int]] = []
    streams_info: list[dict[str, Any]] = []
    for i, r in enumerate(sc.radars):
        if not r.enabled:
            continue
        plots = simulate_radar(traj, r, t0, t1, np.random.default_rng(streams[i]))
        datagrams += [(t, d, r.port) for t, d in radar_datagrams(r, plots)]
        streams_info.append({"kind": "radar", "sensor": r.name, "sac": r.sac,
                             "sic": [r.sic] + ([r.psr.sic] if r.psr else []),
                             "port": r.port, "plots": len(plots)})
        periods[r.name] = r.rotation_period_s
        covered |= _radar_coverage(traj, tseg, tt, r)
    adsb_info: dict[str, Any] | None = None
    equipped = None
    replay_t0 = None
    receiver = ref
    a = sc.adsb
    if a is not None and a.enabled:
        receiver = a.receiver if a.receiver is not None else ref
        a = dataclasses.replace(a, receiver=receiver)
        sim = simulate_adsb(traj, a, receiver, t0, t1, np.random.default_rng(streams[-1]))
        equipped = sim.equipped
        if a.format == "cat021":
            pos = np.flatnonzero(sim.kind == 0)
            seg = sim.truth_id[pos]
            fl = traj.at(seg, sim.t_s[pos])["alt_ft"] / 100.0
            datagrams += [(t, d, a.port) for t, d in cat021_datagrams(
                a.sac, a.sic, sim.t_s[pos], sim.lat_deg[pos], sim.lon_deg[pos],
                traj.icao24[seg], np.round(fl * 4.0) / 4.0, traj.callsign[seg],
                sim.nacp[seg])]
            streams_info.append({"kind": "adsb", "sensor": "ADS-B ground station",
                                 "sac": a.sac, "sic": [a.sic], "port": a.port,
                                 "reports": len(pos)})
        else:
            name = f"adsb.{a.format}"
            size, t_first = write_recording(out / name, sim, a.format)
            replay_t0 = t_first if np.isfinite(t_first) else None
            files.append({"path": name, "kind": "adsb", "format": a.format,
                          "frames": len(sim), "positions": int((sim.kind == 0).sum()),
                          "bytes": size, "t_first_s": replay_t0})
        periods["adsb"] = 1.0 / a.position_rate_hz
        covered |= sim.equipped[tseg] & receiver_coverage(traj, tseg, tt, a, receiver)
        adsb_info = {
            "equipped_icao24": sorted({f"{v:06x}" for v in
                                       traj.icao24[sim.equipped].tolist()}),
            "nacp": {f"{v:06x}": int(n) for v, n in
                     zip(traj.icao24[sim.equipped].tolist(),
                         sim.nacp[sim.equipped].tolist(), strict=True)},
            "gaps": [{"truth_id": int(f) + 1, "icao24": f"{int(traj.icao24[int(f)]):06x}",
                      "t0_s": g0, "t1_s": g1} for f, g0, g1 in sim.gaps.tolist()],
        }
    if datagrams:
        size = write_pcap(out / ASTERIX_FILE, datagrams)
        files.insert(0, {"path": ASTERIX_FILE, "kind": "asterix", "format": "pcap",
                         "streams": streams_info, "datagrams": len(datagrams),
                         "bytes": size})
    n_truth = write_truth(out / "truth.csv", traj, tseg[covered], tt[covered],
                          equipped)
    (out / "sensors.toml").write_text(sensors_toml(enabled, a))
    replay_files = [f["path"] for f in files]
    replay_args = [*replay_files, "--sensors", "sensors.toml",
                   "--receiver", f"{ref[0]},{ref[1]}"]
    if replay_t0 is not None:
        replay_args += ["--t0", repr(replay_t0)]
    meta: dict[str, Any] = {
        "scenario": sc.name, "source": sc.source, "seed": seed, "trajectories": sc.trajectories,
        "t_start_s": t0, "t_end_s": t1, "reference": list(ref), "receiver": list(receiver),
        "update_period_s": periods,
        "nominal_period_s": _nominal_period(sc, periods),
        "truth": {"path": "truth.csv", "rows": n_truth, "segments": len(traj),
                  "period_s": sc.truth_period_s},
        "files": [*files, {"path": "truth.csv", "kind": "truth"},
                  {"path": "sensors.toml", "kind": "sensors"}],
        "replay_args": replay_args,
        "adsb": adsb_info,
        "biases_in_sensors_toml": False,
    }
    (out / "scenario.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta
