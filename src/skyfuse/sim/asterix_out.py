"""Simulated radar plots → ASTERIX CAT048 1.31 + CAT034 1.29 datagrams → a pcap file.

Records are encoded with libasterix (the editions tshark decodes by default). Values are
quantised here to the items' LSBs and handed to libasterix as raw integers, so what is
written is exactly what :func:`quantised` says (tests compare against it):

| item     | content                                   | raw value                        |
|----------|-------------------------------------------|----------------------------------|
| I048/010 | SAC, SIC                                  |                                  |
| I048/140 | time of day                               | ``round(tod·128)`` (1/128 s)     |
| I048/020 | TYP (3 bits), SIM RDP SPI RAB 0, no FX    | extended item: trailing ``None`` |
| I048/040 | RHO, THETA                                | ``round(ρ/NM·256)``,             |
|          |                                           | ``round(θ·2¹⁶/360) mod 2¹⁶``     |
| I048/070 | V G L 0, Mode 3/A (when known)            | 12 bits                          |
| I048/090 | V G, FL (when Mode C)                     | ``round(FL·4)``, 14-bit 2's compl. |
| I048/220 | aircraft address (Mode S)                 | 24 bits                          |
| I048/240 | aircraft identification (Mode S)          | 8 ICAO characters                |
| I034/000 | message type 1 (north marker)             |                                  |
| I034/010, /030, /041 | SAC SIC, time of day, antenna rotation period (1/128 s) |          |
| I021/010 | SAC, SIC of the ADS-B ground station      |                                  |
| I021/040 | ATP 0 (24-bit ICAO), ARC, RC, RAB, no FX  | extended item: trailing ``None`` |
| I021/071 | time of applicability for position        | ``round(tod·128)``               |
| I021/131 | LAT, LON high resolution                  | ``round(φ·2³⁰/180)`` (s32 each)  |
| I021/080 | target address                            | 24 bits                          |
| I021/145 | flight level                              | ``round(FL·4)`` (s16)            |
| I021/170 | target identification (when known)        | 8 ICAO characters                |
| I021/090 | quality: NUCr/NACv, NUCp/NIC; NICbaro, SIL, NACp | two groups, trailing ``None`` |

Datagrams, as a radar sends them: one per 1/32 of a revolution (a sector), holding the
CAT048 records of the plots made in it, stamped (pcap time) at the sector's end; one
CAT034 north marker per scan and per SIC at the scan start. ADS-B ground station
(CAT021 2.6): one datagram per 1/4 s holding the reports received in it. All streams
of a scenario go into one capture (as recorded on a surveillance LAN), every datagram
Ethernet/IPv4/UDP to its stream's port (default 8600, tshark's ASTERIX port), in
capture-time order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asterix.generated as _gen
import numpy as np
from numpy.typing import NDArray

from skyfuse.sim.radar import NM_M, TOD_LSB_S, RadarPlotsSim
from skyfuse.sim.scenario import RadarConfig

__all__ = ["SECTORS", "cat021_block", "cat021_datagrams", "cat034_north_marker",
           "cat048_block", "quantised", "radar_datagrams", "udp_frame", "write_pcap"]

SECTORS = 32
_C48 = _gen.Cat_048_1_31
_C34 = _gen.Cat_034_1_29
_C21 = _gen.Cat_021_2_6
DAY_S = 86400.0


def quantised(plots: RadarPlotsSim) -> dict[str, NDArray]:
    """Raw item values of ``plots``: ``tod``, ``rho``, ``theta``, ``fl`` (14-bit), as written."""
    tod = np.round(np.mod(plots.t_s, DAY_S) / TOD_LSB_S).astype(np.int64) % (1 << 24)
    rho = np.clip(np.round(plots.range_m / NM_M * 256.0), 0, 65535).astype(np.int64)
    theta = np.round(plots.azimuth_deg * 65536.0 / 360.0).astype(np.int64) % 65536
    fl = np.where(np.isfinite(plots.fl), np.round(np.nan_to_num(plots.fl) * 4.0), 0)
    fl = np.clip(fl, -8192, 8191).astype(np.int64) & 0x3FFF
    return {"tod": tod, "rho": rho, "theta": theta, "fl": fl}


def cat048_block(sac: int, plots: RadarPlotsSim, rows: Iterable[int],
                 q: dict[str, NDArray]) -> bytes:
    """One CAT048 data block holding ``rows`` of ``plots`` (``q`` from :func:`quantised`)."""
    recs = []
    for i in rows:
        items: dict[str, Any] = {
            "010": (("SAC", sac), ("SIC", int(plots.sic[i]))),
            "140": int(q["tod"][i]),
            "020": ((int(plots.typ[i]), 0, 0, 0, 0, None),),
            "040": (("RHO", int(q["rho"][i])), ("THETA", int(q["theta"][i]))),
        }
        if plots.mode3a[i] >= 0:
            items["070"] = (0, 0, 0, 0, ("MODE3A", int(plots.mode3a[i])))
        if np.isfinite(plots.fl[i]):
            items["090"] = (("V", 0), ("G", 0), ("FL", int(q["fl"][i])))
        if plots.icao24[i] >= 0:
            items["220"] = int(plots.icao24[i])
        if plots.callsign[i]:
            items["240"] = str(plots.callsign[i])
        recs.append(_C48.cv_record.create(items))
    return bytes(_C48.create(recs).unparse().to_bytes())


def cat034_north_marker(sac: int, sic: int, t_s: float, period_s: float) -> bytes:
    """One CAT034 block: a north marker (message type 1) with the rotation period."""
    rec = _C34.cv_record.create({
        "010": (("SAC", sac), ("SIC", sic)), "000": 1,
        "030": round((t_s % DAY_S) / TOD_LSB_S) % (1 << 24),
        "041": round(period_s / TOD_LSB_S)})
    return bytes(_C34.create([rec]).unparse().to_bytes())


def radar_datagrams(r: RadarConfig, plots: RadarPlotsSim) -> list[tuple[float, bytes]]:
    """``(t_capture_s, payload)`` datagrams of one radar site, in time order."""
    q = quantised(plots)
    period = r.rotation_period_s
    north0 = float(plots.north_s[0]) if len(plots.north_s) else 0.0
    width = period / SECTORS
    sector = np.floor((plots.t_s - north0) / width).astype(np.int64)
    out: list[tuple[float, bytes]] = []
    sics = [r.sic] + ([r.psr.sic] if r.psr is not None else [])
    for t_n in plots.north_s.tolist():
        for sic in sics:
            out.append((t_n, cat034_north_marker(r.sac, sic, t_n, period)))
    cuts = np.flatnonzero(np.diff(sector)) + 1
    for rows in np.split(np.arange(len(plots)), cuts):
        if len(rows) == 0:
            continue
        t_cap = north0 + (int(sector[rows[0]]) + 1) * width
        for k in range(0, len(rows), 100):                    # blocks stay < 4 kB
            out.append((t_cap, cat048_block(r.sac, plots, rows[k:k + 100].tolist(), q)))
    out.sort(key=lambda d: d[0])
    return out


def cat021_block(sac: int, sic: int, rows: list[tuple[float, float, float, int, float, str,
                                                   int]]) -> bytes:
    """One CAT021 block; each row ``(t_s, lat_deg, lon_deg, icao24, fl, callsign, nacp)``."""
    recs = []
    for t, lat, lon, icao, fl, call, nacp in rows:
        items: dict[str, Any] = {
            "010": (("SAC", sac), ("SIC", sic)),
            "040": ((0, 0, 0, 0, None),),
            "071": round((t % DAY_S) / TOD_LSB_S) % (1 << 24),
            "131": (("LAT", round(lat * 2**30 / 180.0)), ("LON", round(lon * 2**30 / 180.0))),
            "080": icao,
            "090": ((0, 7, None), (0, 3, nacp, None)),
        }
        if np.isfinite(fl):
            items["145"] = round(fl * 4.0) & 0xFFFF
        if call:
            items["170"] = call
        recs.append(_C21.cv_record.create(items))
    return bytes(_C21.create(recs).unparse().to_bytes())


def cat021_datagrams(sac: int, sic: int, t_s: NDArray, lat_deg: NDArray, lon_deg: NDArray,
                     icao24: NDArray, fl: NDArray, callsign: NDArray, nacp: NDArray,
                     slot_s: float = 0.25) -> list[tuple[float, bytes]]:
    """CAT021 datagrams of time-sorted ADS-B reports, one per ``slot_s`` slot."""
    tod_t = np.round(np.asarray(t_s) / TOD_LSB_S) * TOD_LSB_S
    slot = np.floor(tod_t / slot_s).astype(np.int64)
    cuts = np.flatnonzero(np.diff(slot)) + 1
    out: list[tuple[float, bytes]] = []
    cols = list(zip(tod_t.tolist(), np.asarray(lat_deg).tolist(), np.asarray(lon_deg).tolist(),
                    np.asarray(icao24).tolist(), np.asarray(fl).tolist(),
                    [str(c) for c in callsign], np.asarray(nacp).tolist(), strict=True))
    for rows in np.split(np.arange(len(tod_t)), cuts):
        if len(rows):
            t_cap = (int(slot[rows[0]]) + 1) * slot_s
            for k in range(0, len(rows), 60):
                out.append((t_cap, cat021_block(sac, sic, [cols[i] for i in
                                                           rows[k:k + 60].tolist()])))
    return out


def udp_frame(payload: bytes, dport: int, src: str = "10.1.0.1",
              dst: str = "232.1.1.1") -> bytes:
    """An Ethernet II / IPv4 / UDP frame around ``payload`` (IP checksum computed)."""
    udp = struct.pack(">HHHH", 50000, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 32, 17, 0,
                      bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    s = sum(struct.unpack(">10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack(">H", ~s & 0xFFFF) + hdr[12:]
    eth = b"\x01\x00\x5e\x01\x01\x01" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + hdr + udp


def write_pcap(path: str | Path, datagrams: list[tuple[float, bytes, int]]) -> int:
    """Write ``(t_s, payload, udp_port)`` datagrams, sorted by time (stable), as a classic
    little-endian pcap (µs, Ethernet); returns the file's size."""
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for t, payload, dport in sorted(datagrams, key=lambda d: d[0]):
        f = udp_frame(payload, dport)
        us = round(t * 1e6)
        parts.append(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(f), len(f)))
        parts.append(f)
    data = b"".join(parts)
    Path(path).write_bytes(data)
    return len(data)
