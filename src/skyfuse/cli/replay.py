"""``skyfuse replay FILE... -o TRACKS``: track recordings (Beast, AVR, SBS, ASTERIX).

Each file is one feed (sensor id = its position on the command line), read chunk by chunk
through the same pipeline as ``skyfuse run`` (:mod:`skyfuse.runtime.pipeline`), as fast as
possible or at ``--speed`` times the recorded rate. Times: UTC when the recording carries
them (SBS, GPS-stamped Beast, pcap), else seconds since the first frame (``--t0`` anchors).
A progress bar (bytes read) goes to stderr when it is a terminal.
"""

from __future__ import annotations

import math
import sys
import time
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import TextIO

from skyfuse.cli.decode import parse_latlon
from skyfuse.cli.errors import InputError, UsageError
from skyfuse.runtime.pipeline import Pipeline, PipelineConfig
from skyfuse.runtime.tracks_csv import TracksWriter

__all__ = ["HELP", "add_arguments", "open_output", "run"]

HELP = "track recordings (Beast, AVR, SBS, ASTERIX) into a TRACKS CSV"

_ASTERIX_CATS = (1, 2, 8, 10, 19, 20, 21, 23, 34, 48, 62, 63, 65)


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse replay``."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings to replay")
    parser.add_argument("-o", "--output", required=True, metavar="TRACKS",
                        help="TRACKS CSV to write ('-' for stdout)")
    parser.add_argument("--format", choices=("beast", "avr", "sbs", "asterix"),
                        help="input format (default: detected from each file's content)")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="play at SPEED times the recorded rate (default: as fast as possible)")
    parser.add_argument("--receiver", default=None, metavar="LAT,LON",
                        help="receiver position: surface CPR reference and frame centre")
    parser.add_argument("--sensors", default=None, metavar="FILE.toml",
                        help="sensor file (radar positions and error models)")
    parser.add_argument("--t0", type=float, default=0.0, metavar="EPOCH_S",
                        help="UTC time of the first frame of a relative 12 MHz counter")


def open_output(path: str) -> TextIO:
    """The TRACKS stream for ``-o`` (stdout for ``-``); InputError when it cannot be opened."""
    if path == "-":
        return sys.stdout
    try:
        return open(path, "w", newline="")
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None


def _file_format(path: str, forced: str | None) -> str:
    from skyfuse.ingest.stream import detect_format

    if forced:
        return forced
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    fmt = detect_format(head)
    if fmt is not None:
        return fmt
    if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                    b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a"):
        return "asterix"
    if len(head) >= 3 and head[0] in _ASTERIX_CATS and (head[1] << 8 | head[2]) >= 3:
        return "asterix"
    raise InputError(f"{path}: not Beast, AVR, SBS or ASTERIX (use --format)")


class _Pacer:
    """Sleeps so that data time advances at ``speed`` × the wall clock (0: no pacing)."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._t0_data: float | None = None
        self._t0_wall = 0.0

    def wait(self, t_data: float) -> None:
        if self.speed <= 0 or not math.isfinite(t_data):
            return
        if self._t0_data is None:
            self._t0_data, self._t0_wall = t_data, time.monotonic()
            return
        due = self._t0_wall + (t_data - self._t0_data) / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _replay_modes(path: str, fmt: str, sensor: int, pipe: Pipeline, args: Namespace,
                  pacer: _Pacer, progress: object) -> None:
    import numpy as np

    from skyfuse.ingest.frames import FrameBatch
    from skyfuse.ingest.sbs import SbsBatch
    from skyfuse.ingest.stream import read_file
    from skyfuse.ingest.timebase import Timebase, TimeMode

    timebase = Timebase(TimeMode.AUTO, t0_s=args.t0)
    chunk = 1 << 14 if args.speed > 0 else 1 << 20
    done = 0
    for parser, batch in read_file(path, fmt, chunk_bytes=chunk):
        if isinstance(batch, SbsBatch):
            if len(batch):
                pacer.wait(float(np.nanmin(batch.t_s)) if np.isfinite(batch.t_s).any()
                           else math.nan)
                pipe.add_sbs(batch, sensor)
        elif isinstance(batch, FrameBatch) and len(batch):
            t_s = timebase.to_seconds(batch.ticks)
            fin = np.isfinite(t_s)
            if fin.any():
                pacer.wait(float(t_s[fin][0]))
            pipe.add_frames(t_s, batch.data, sensor)
        pipe.advance()
        seen = parser.counters.bytes_in
        if progress is not None and seen > done:
            progress.update(seen - done)  # type: ignore[attr-defined]
            done = seen


def _replay_asterix(path: str, pipe: Pipeline, args: Namespace, pacer: _Pacer,
                    progress: object) -> str:
    from skyfuse.ingest.asterix_source import iter_asterix_file
    from skyfuse.measure.sensors import SensorFileError, load_sensors
    from skyfuse.runtime.asterix_input import AsterixInput

    sensors = None
    if args.sensors:
        try:
            sensors = load_sensors(args.sensors)
        except (SensorFileError, OSError) as e:
            raise InputError(str(e)) from None
    elif getattr(args, "_asterix_warned", False) is False:
        print(f"skyfuse replay: {path}: no --sensors: radar plots (CAT048) are counted, "
              "not tracked", file=sys.stderr)
        args._asterix_warned = True
    feeder = AsterixInput(pipe, sensors, reference_epoch_s=args.t0 or None)
    try:
        for d in iter_asterix_file(path):
            pacer.wait(d.t_s)
            feeder.feed(d.payload, d.t_s)
            pipe.advance()
            if progress is not None:
                progress.update(len(d.payload))  # type: ignore[attr-defined]
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    c, st = feeder.counters, feeder.decoder.stats
    return (f"{path}: asterix plots {c.plots}, adsb {c.adsb}, mlat {c.mlat}, "
            f"services {c.services}, unknown sensors {sum(c.unknown_sensors.values())}, "
            f"unknown categories {_total(st.unknown_category)}, "
            f"rejected blocks {st.rejected_blocks}")


def _total(count: int | dict[int, int]) -> int:
    return sum(count.values()) if isinstance(count, dict) else int(count)


def run(args: Namespace) -> int:
    """Replay ``args.files`` into ``args.output``; exit 0 (2 on unreadable input)."""
    if args.speed < 0:
        raise UsageError("--speed must be positive")
    receiver = parse_latlon(args.receiver) if args.receiver else None
    formats = [_file_format(p, args.format) for p in args.files]
    out = open_output(args.output)
    writer = TracksWriter(out)
    pipe = Pipeline(PipelineConfig(receiver=receiver), sink=writer.write)
    pacer = _Pacer(args.speed)
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm
        total = sum(Path(p).stat().st_size for p in args.files)
        progress = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr,
                        desc="replay", leave=False)
    notes: list[str] = []
    try:
        for sensor, (path, fmt) in enumerate(zip(args.files, formats, strict=True)):
            if fmt == "asterix":
                notes.append(_replay_asterix(path, pipe, args, pacer, progress))
                continue
            try:
                _replay_modes(path, fmt, sensor, pipe, args, pacer, progress)
            except OSError as e:
                raise InputError(f"{path}: {e.strerror or e}") from None
            except ValueError as e:
                raise InputError(str(e)) from None
    except KeyboardInterrupt:
        print("skyfuse replay: interrupted", file=sys.stderr)
    finally:
        pipe.finish()
        writer.flush()
        if progress is not None:
            progress.close()
        if out is not sys.stdout:
            out.close()
    dc, pc = pipe.decoder.counters, pipe.counters
    for n in notes:
        print(f"skyfuse replay: {n}", file=sys.stderr)
    print(f"skyfuse replay: frames {dc.frames}, duplicates {dc.duplicates}, "
          f"crc failures {dc.crc_failures}, positions {dc.positions}, reports {pc.reports}, "
          f"tracks {pipe.tracker.next_track_id - 1}, rows {writer.rows}", file=sys.stderr)
    return 0
