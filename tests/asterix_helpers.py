"""Helpers for the ASTERIX / pcap tests: the real capture, pcap writers, a seeded mutator,
libasterix-encoded CAT021/CAT020 samples, tshark's dissection as an independent oracle."""

from __future__ import annotations

import json
import random
import struct
import subprocess
from pathlib import Path
from typing import Any

PCAP = Path(__file__).parent / "data" / "cat_034_048.pcap"

# UDP ports of the real capture: 7 radar streams × 2 redundant multicast groups.
PCAP_PORTS = (21111, 21112, 21113, 21114, 21131, 21134, 21135,
              22111, 22112, 22113, 22114, 22131, 22134, 22135)


def udp_frame(payload: bytes, *, dport: int = 8600, vlan: bool = False, pad: int = 0,
              src: str = "10.0.0.1", dst: str = "232.1.1.1", frag: int = 0,
              proto: int = 17) -> bytes:
    """An Ethernet/IPv4/UDP frame (optionally 802.1Q-tagged, with trailing padding)."""
    udp = struct.pack(">HHHH", 4000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, frag, 64, proto, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    eth = b"\x01\x00\x5e\x01\x01\x01" + b"\x02\x00\x00\x00\x00\x01"
    if vlan:
        eth += b"\x81\x00\x00\x0a"
    return eth + b"\x08\x00" + ip + udp + b"\x00" * pad


def pcap_bytes(frames: list[tuple[float, bytes]], *, big_endian: bool = False,
               nanos: bool = False, linktype: int = 1) -> bytes:
    """A classic pcap file holding ``(t_s, frame)`` records."""
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for t, f in frames:
        sec = int(t)
        sub = round((t - sec) * (1e9 if nanos else 1e6))
        out.append(struct.pack(e + "IIII", sec, sub, len(f), len(f)) + f)
    return b"".join(out)


def pcapng_bytes(frames: list[tuple[float, bytes]]) -> bytes:
    """A little-endian pcapng file (SHB, one Ethernet IDB at µs resolution, EPBs)."""
    def block(btype: int, body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", 1, 0, 65535))]
    for t, f in frames:
        ts = round(t * 1e6)
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f),
                                        len(f)) + f))
    return b"".join(out)


class Mutator:
    """Seeded byte mutations: overwrite, bit flip, insert, delete, then maybe truncate."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self, data: bytes, *, max_ops: int = 4, p_truncate: float = 0.3) -> bytes:
        rng = self.rng
        b = bytearray(data)
        for _ in range(rng.randint(1, max_ops)):
            op = rng.randrange(5)
            if op == 0 and b:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op == 1 and b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            elif op == 2:
                b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
            elif op == 3 and b:
                del b[rng.randrange(len(b))]
            elif op == 4 and b:  # duplicate a slice (repeated headers, lengths)
                i = rng.randrange(len(b))
                b[i:i] = b[i:i + rng.randint(1, 16)]
        if rng.random() < p_truncate:
            b = b[:rng.randrange(len(b) + 1)]
        return bytes(b)


def cat021_block() -> bytes:
    """One CAT021 2.6 record encoded with libasterix (values checked in the tests)."""
    import asterix.generated as gen

    C = gen.Cat_021_2_6
    rec = C.cv_record.create({
        "010": (("SAC", 1), ("SIC", 2)),
        "040": ((0, 0, 0, 0, None),),  # extended item: trailing None per group (FX)
        "071": (45000.5, "s"),
        "131": (("LAT", (47.25, "°")), ("LON", (-8.5, "°"))),
        "080": 0xABCDEF,
        "145": (350.25, "FL"),
        "170": "SWR123",
        "090": ((1, 2, None), (0, 2, 9, None)),
    })
    return bytes(C.create([rec]).unparse().to_bytes())


def cat020_block() -> bytes:
    """One CAT020 1.10 record encoded with libasterix (values checked in the tests)."""
    import asterix.generated as gen

    C = gen.Cat_020_1_10
    rec = C.cv_record.create({
        "010": (("SAC", 3), ("SIC", 4)),
        "140": (86399.0, "s"),
        "041": (("LAT", (47.25, "°")), ("LON", (8.5, "°"))),
        "042": (("X", (-1000.5, "m")), ("Y", (2000.0, "m"))),
        "220": 0x123456,
        "245": (("STI", 0), 0, ("CHR", "EZY12")),
        "090": (("V", 0), ("G", 0), ("FL", (-2.5, "FL"))),
        "161": (0, ("TRN", 77)),
    })
    return bytes(C.create([rec]).unparse().to_bytes())


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def tshark_records(tshark: str, pcap: Path, ports: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every ASTERIX record tshark dissects, as ``{"cat": int, "frame": int, item: {...}}``."""
    cmd = [tshark, "-r", str(pcap), "-T", "json", "--no-duplicate-keys"]
    for p in ports:
        cmd += ["-d", f"udp.port=={p},asterix"]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=120).stdout
    recs: list[dict[str, Any]] = []
    for pkt in json.loads(out):
        layers = pkt["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        for block in _as_list(layers.get("asterix", [])):
            cat = int(block["asterix.category"])
            for msg in _as_list(block.get("asterix.message", [])):
                rec: dict[str, Any] = {"cat": cat, "frame": frame}
                for k, v in msg.items():
                    if k.startswith(f"asterix.{cat:03d}_"):
                        rec[k.split("_", 1)[1]] = v
                recs.append(rec)
    return recs


def cat048_block(plots: list[dict[str, Any]]) -> bytes:
    """One CAT048 1.31 block encoded with libasterix, one record per dict with keys ``sac``,
    ``sic``, ``tod_s``, ``rho_nm``, ``theta_deg`` and optionally ``icao24``, ``fl``,
    ``mode3a``, ``callsign``, ``trn``."""
    import asterix.generated as gen

    C = gen.Cat_048_1_31
    recs = []
    for p in plots:
        items: dict[str, Any] = {
            "010": (("SAC", p["sac"]), ("SIC", p["sic"])),
            "140": (p["tod_s"], "s"),
            "020": ((5, 0, 0, 0, 0, None),),  # TYP 5: Mode S roll-call + PSR; trailing FX
            "040": (("RHO", (p["rho_nm"], "NM")), ("THETA", (p["theta_deg"], "°"))),
        }
        if "mode3a" in p:
            items["070"] = (0, 0, 0, 0, ("MODE3A", p["mode3a"]))
        if "fl" in p:
            items["090"] = (("V", 0), ("G", 0), ("FL", (p["fl"], "FL")))
        if "icao24" in p:
            items["220"] = p["icao24"]
        if "callsign" in p:
            items["240"] = p["callsign"]
        if "trn" in p:
            items["161"] = (0, ("TRN", p["trn"]))
        recs.append(C.cv_record.create(items))
    return bytes(C.create(recs).unparse().to_bytes())


def cat034_north_marker(sac: int, sic: int, tod_s: float, period_s: float = 4.0) -> bytes:
    """One CAT034 1.29 north-marker block (message type 1) with the rotation period."""
    import asterix.generated as gen

    C = gen.Cat_034_1_29
    rec = C.cv_record.create({"010": (("SAC", sac), ("SIC", sic)), "000": 1,
                              "030": (tod_s, "s"), "041": (period_s, "s")})
    return bytes(C.create([rec]).unparse().to_bytes())
