"""``skyfuse decode FILE``: print every decoded frame of a Mode S recording as JSON lines.

One object per decoded frame: ``t_s`` (UTC seconds, or seconds since the first frame for
a relative 12 MHz counter; null without a timestamp), ``source`` (beast|avr|sbs),
``kind`` (``DF17``, ``MSG3`` ...), ``icao24``, ``crc_ok``, rs1090's fields, and
``latitude``/``longitude`` where skyfuse validated a position. With ``--errors``, bad
input as ``{"error": ..., "offset": N}``. A summary goes to stderr.
"""

from __future__ import annotations

import json
import math
import sys
from argparse import ArgumentParser, Namespace
from typing import TextIO

import numpy as np

from skyfuse.cli.errors import InputError
from skyfuse.decode.modes import DecodedBatch, ModeSDecoder
from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.ingest.stream import ModeSParser, read_file
from skyfuse.ingest.timebase import Timebase, TimeMode

__all__ = ["HELP", "add_arguments", "parse_latlon", "run"]

HELP = "decode a Mode S recording (Beast, AVR, SBS) to JSON lines, for debugging"


def parse_latlon(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` → (lat_deg, lon_deg); raises InputError when malformed."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise InputError(f"--receiver {text!r}: expected LAT,LON in degrees") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"--receiver {text!r}: out of range")
    return lat, lon


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse decode``."""
    parser.add_argument("file", help="recording: Beast binary, AVR text or SBS CSV")
    parser.add_argument("--format", choices=("beast", "avr", "sbs"),
                        help="input format (default: detected from the content)")
    parser.add_argument("--errors", action="store_true", help="also print bad input lines")
    parser.add_argument("--receiver", type=str, default=None, metavar="LAT,LON",
                        help="receiver position: reference for surface positions")
    parser.add_argument("--t0", type=float, default=0.0, metavar="EPOCH_S",
                        help="UTC time of the first frame for a 12 MHz counter")
    parser.add_argument("--time", choices=("auto", "counter", "gps"), default="auto",
                        help="meaning of 48-bit receiver timestamps (default: detect)")


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def _print_frames(dec: DecodedBatch, source: str, offsets: np.ndarray, out: TextIO,
                  errors: bool) -> None:
    for k in range(len(dec)):
        msg = dec.messages[k]
        if msg is None:
            if errors:
                out.write(json.dumps({"error": "CRC failure",
                                      "offset": int(offsets[dec.src_index[k]])}) + "\n")
            continue
        rec: dict[str, object] = {"t_s": _num(float(dec.t_s[k])), "source": source,
                                  "kind": f"DF{int(dec.df[k])}", "crc_ok": bool(dec.crc_ok[k])}
        for key, value in msg.items():  # rs1090's own "source" (of altitude) is renamed
            rec["rs1090_source" if key == "source" else key] = value
        if math.isfinite(dec.lat_deg[k]):
            rec["latitude"] = float(dec.lat_deg[k])
            rec["longitude"] = float(dec.lon_deg[k])
        out.write(json.dumps(rec) + "\n")


def _print_sbs(b: SbsBatch, out: TextIO) -> None:
    for k in range(len(b)):
        rec: dict[str, object] = {"t_s": float(b.t_s[k]), "source": "sbs",
                                  "kind": f"MSG{int(b.msg_type[k])}",
                                  "icao24": f"{int(b.icao24[k]):06x}"}
        if b.callsign[k]:
            rec["callsign"] = b.callsign[k].decode("ascii")
        for name in ("alt_ft", "gs_kt", "track_deg", "lat_deg", "lon_deg", "vrate_fpm"):
            v = float(getattr(b, name)[k])
            if math.isfinite(v):
                rec[name] = v
        if b.squawk[k] >= 0:
            rec["squawk"] = f"{int(b.squawk[k]):04o}"
        if b.on_ground[k] >= 0:
            rec["on_ground"] = bool(b.on_ground[k])
        out.write(json.dumps(rec) + "\n")


def run(args: Namespace) -> int:
    """Decode ``args.file``; exit 0 (2 when the file cannot be read or recognised)."""
    receiver = parse_latlon(args.receiver) if args.receiver else None
    decoder = ModeSDecoder(receiver=receiver, keep_messages=True)
    timebase = Timebase({"auto": TimeMode.AUTO, "counter": TimeMode.COUNTER,
                         "gps": TimeMode.GPS}[args.time], t0_s=args.t0)
    out = sys.stdout
    parser: ModeSParser | None = None
    try:
        for parser, batch in read_file(args.file, args.format, keep_errors=args.errors):
            if args.errors:
                for e in parser.counters.take_errors():
                    out.write(json.dumps({"error": e.reason, "offset": e.offset}) + "\n")
            if isinstance(batch, SbsBatch):
                _print_sbs(batch, out)
            elif isinstance(batch, FrameBatch) and len(batch):
                dec = decoder.decode(timebase.to_seconds(batch.ticks), batch.data)
                _print_frames(dec, parser.format_name, batch.offset, out, args.errors)
    except OSError as e:
        raise InputError(f"{args.file}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError(str(e)) from None
    pc = parser.counters if parser is not None else None
    dc = decoder.counters
    print(f"skyfuse decode: {args.file}: format {parser.format_name if parser else '?'}, "
          f"frames {pc.frames if pc else 0}, bad frames {pc.bad_frames if pc else 0}, "
          f"crc failures {dc.crc_failures}, duplicates {dc.duplicates}, "
          f"unknown address {dc.unknown_address}, positions {dc.positions}, "
          f"unknown categories 0", file=sys.stderr)
    return 0
