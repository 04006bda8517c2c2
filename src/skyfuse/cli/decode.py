"""``skyfuse decode FILE``: print every decoded frame or record of a recording as JSON lines.

Mode S (Beast, AVR, SBS): one object per decoded frame: ``t_s`` (UTC seconds, or seconds
since the first frame for a relative 12 MHz counter; null without a timestamp), ``source``
(beast|avr|sbs), ``kind`` (``DF17``, ``MSG3`` ...), ``icao24``, ``crc_ok``, rs1090's fields,
and ``latitude``/``longitude`` where skyfuse validated a position.

ASTERIX (pcap/pcapng, detected by magic; raw data blocks, detected by a known category in
the first block header or forced with ``--format asterix``): one object per record with
``t_s`` (UTC epoch seconds: the time of day I048/140, I034/030 ... dated by the capture
timestamp, or for raw files by ``--date``, else day 0 = 1970-01-01), ``source: "asterix"``,
``kind`` (``CAT048``, ``CAT034``, ``CAT021``, ``CAT020``) and the record's decoded columns
(see :func:`skyfuse.decode.asterix.iter_json_records`). Redundant copies of a record are
dropped unless ``--no-dedup``.

With ``--errors``, bad input as ``{"error": ..., "offset": N}`` (ASTERIX: ``offset`` is the
byte offset in the file for raw files, within the datagram for captures, plus ``datagram``,
the datagram's index). A summary goes to stderr.
"""

from __future__ import annotations

import json
import math
import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

import numpy as np

from skyfuse.cli.errors import InputError, UsageError
from skyfuse.decode.modes import DecodedBatch, ModeSDecoder
from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.ingest.stream import ModeSParser, read_file
from skyfuse.ingest.timebase import Timebase, TimeMode

if TYPE_CHECKING:
    from skyfuse.ingest.asterix_source import Datagram

__all__ = ["HELP", "add_arguments", "parse_latlon", "run"]

HELP = "decode a recording (Beast, AVR, SBS, ASTERIX) to JSON lines, for debugging"

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
    parser.add_argument("file", help="recording: Beast binary, AVR text, SBS CSV, "
                        "ASTERIX pcap/pcapng or raw ASTERIX blocks")
    parser.add_argument("--format", choices=("beast", "avr", "sbs", "asterix"),
                        help="input format (default: detected from the content)")
    parser.add_argument("--errors", action="store_true", help="also print bad input lines")
    parser.add_argument("--receiver", type=str, default=None, metavar="LAT,LON",
                        help="receiver position: reference for surface positions")
    parser.add_argument("--t0", type=float, default=0.0, metavar="EPOCH_S",
                        help="UTC time of the first frame for a 12 MHz counter")
    parser.add_argument("--time", choices=("auto", "counter", "gps"), default="auto",
                        help="meaning of 48-bit receiver timestamps (default: detect)")
    parser.add_argument("--date", default=None, metavar="YYYY-MM-DD",
                        help="ASTERIX: UTC day of the recording's times of day (raw block "
                        "files carry no date; pcap timestamps give it)")
    parser.add_argument("--no-dedup", action="store_true",
                        help="ASTERIX: keep redundant copies of identical records")


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
                                  "kind": f"DF{int(dec.df[k])}", "crc_ok": bool(dec.crc_ok[k]),
                                  "receivers": int(dec.receivers[k])}
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


def _detect(path: str, forced: str | None) -> str | None:
    """``"asterix"`` for ASTERIX input (forced, pcap magic, or a plausible first block
    header), else the Mode S format when forced, else None (Mode S detection decides)."""
    if forced:
        return forced
    from skyfuse.ingest.stream import detect_file

    try:
        fmt = detect_file(path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    return "asterix" if fmt == "asterix" else None


def _asterix_datagrams(path: str, out: TextIO, errors: bool, kind: list[str],
                       bases: list[int]) -> Iterator[tuple[float, bytes]]:
    """``(t_capture_s, payload)`` of an ASTERIX file; problems of the file layer (corrupt
    pcap, truncated raw tail) become error lines. ``kind`` gets ``pcap`` or ``raw``;
    ``bases`` the file offset of each raw block (for the error offsets)."""
    from skyfuse.ingest.asterix_source import (
        RawFileStats,
        detect_asterix_file,
        iter_pcap_datagrams,
        iter_raw_blocks,
    )
    from skyfuse.ingest.pcap import PcapStats

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    kind.append(detect_asterix_file(data))
    it: Iterator[Datagram]
    if kind[0] == "pcap":
        pst = PcapStats()
        it = iter_pcap_datagrams(data, pst)
        for d in it:
            yield d.t_s, d.payload
        if pst.bad_file and pst.datagrams == 0:
            raise InputError(f"{path}: not a readable pcap/pcapng capture (corrupt header)")
        if errors and pst.bad:
            out.write(json.dumps({"error": f"capture: {pst.bad} bad or corrupt records "
                                  "skipped", "offset": None}) + "\n")
        return
    rst = RawFileStats()
    off = 0
    for d in iter_raw_blocks(data, rst):
        bases.append(off)
        off += len(d.payload)
        yield d.t_s, d.payload
    if rst.bad_tail_bytes and rst.blocks == 0:
        raise InputError(f"{path}: no well-formed ASTERIX data block at offset 0 "
                         "(not raw ASTERIX? a pcap needs its magic)")
    if rst.bad_tail_bytes:
        kind.append(f"bad tail {rst.bad_tail_bytes}")
        if errors:
            out.write(json.dumps({"error": f"{rst.bad_tail_bytes} bytes after the last "
                                  "well-formed block (truncated or broken block header)",
                                  "offset": off}) + "\n")


def _run_asterix(args: Namespace) -> int:
    from skyfuse.decode.asterix import AsterixDecoder, iter_json_records, reference_from_date

    ref: float | None = None
    if args.date:
        try:
            ref = reference_from_date(args.date)
        except ValueError:
            raise UsageError(f"--date {args.date!r}: expected YYYY-MM-DD") from None
    elif args.t0:
        ref = args.t0
    decoder = AsterixDecoder(reference_epoch_s=ref, dedup=not args.no_dedup)
    out = sys.stdout
    kind: list[str] = []
    bases: list[int] = []
    for rec in iter_json_records(_asterix_datagrams(args.file, out, args.errors, kind, bases),
                                 decoder, errors=args.errors):
        if "error" in rec and kind and kind[0] == "raw" and rec["datagram"] < len(bases):
            rec["offset"] += bases[rec["datagram"]]  # raw file: offset in the file
        out.write(json.dumps(rec, allow_nan=False) + "\n")
    st = decoder.stats
    per_cat = ", ".join(f"CAT{c:03d} {n}" for c, n in sorted(st.records.items()))
    unknown = ", ".join(f"CAT{c:03d} {n}" for c, n in sorted(st.unknown_category.items()))
    n_unknown = sum(st.unknown_category.values())
    tail = f", {kind[1]} bytes" if len(kind) > 1 else ""
    print(f"skyfuse decode: {args.file}: format asterix ({kind[0] if kind else '?'}), "
          f"datagrams {st.datagrams}, blocks {st.blocks}, "
          f"records {sum(st.records.values())} ({per_cat or 'none'}), "
          f"duplicates {st.duplicates}, bad blocks {st.bad_framing + st.rejected_blocks}, "
          f"bad records {st.bad_records}{tail}, "
          f"unknown categories {n_unknown}{f' ({unknown})' if unknown else ''}",
          file=sys.stderr)
    return 0


def run(args: Namespace) -> int:
    """Decode ``args.file``; exit 0 (2 when the file cannot be read or recognised)."""
    fmt = _detect(args.file, args.format)
    if fmt == "asterix":
        return _run_asterix(args)
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
