"""``skyfuse replay FILE... -o TRACKS``: track recordings (Beast, AVR, SBS, ASTERIX).

Each file is one feed (sensor id = its position on the command line, after the sensor
file's entries so that a feed and a radar never share an id), read chunk by chunk
through the same pipeline as ``skyfuse run`` (:mod:`skyfuse.runtime.pipeline`), as fast as
possible or at ``--speed`` times the recorded rate. Several files are simultaneous
recordings: they are merged in data time (:mod:`skyfuse.runtime.merge`, a k-way merge
holding one chunk per file), so that reports reach the tracker in time order; a frame
heard by several receivers is kept once, with the set of files that heard it.
Times: UTC when the recording carries them (SBS, GPS-stamped Beast, pcap), else seconds
since the first frame (``--t0`` anchors); a relative 12 MHz counter starts at its own
file's first frame, so relative recordings are aligned at their first frames.
A progress bar (bytes read) goes to stderr when it is a terminal.
"""

from __future__ import annotations

import math
import sys
import time
from argparse import ArgumentParser, Namespace
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from skyfuse.cli.decode import parse_latlon
from skyfuse.cli.errors import InputError, UsageError
from skyfuse.runtime.pipeline import Pipeline, PipelineConfig, tracker_config_for
from skyfuse.runtime.tracks_csv import TracksWriter

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from skyfuse.measure.sensors import SensorTable
    from skyfuse.runtime.asterix_input import AsterixInput
    from skyfuse.runtime.merge import Piece

__all__ = ["HELP", "add_arguments", "add_pipeline_options", "open_output", "run"]

HELP = "track recordings (Beast, AVR, SBS, ASTERIX) into a TRACKS CSV"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse replay``."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings to replay")
    parser.add_argument("-o", "--output", required=True, metavar="TRACKS",
                        help="TRACKS CSV to write ('-' for stdout)")
    parser.add_argument("--format", choices=("beast", "avr", "sbs", "asterix"),
                        help="input format (default: detected from each file's content)")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="play at SPEED times the recorded rate (default: as fast as possible)")
    add_pipeline_options(parser, "UTC time of the first frame of a relative 12 MHz counter")


def add_pipeline_options(parser: ArgumentParser, t0_help: str) -> None:
    """``--receiver``, ``--sensors`` and ``--t0``, shared by ``replay`` and ``run``."""
    parser.add_argument("--receiver", default=None, metavar="LAT,LON",
                        help="receiver position: surface CPR reference and frame centre")
    parser.add_argument("--sensors", default=None, metavar="FILE.toml",
                        help="sensor file (radar positions and error models)")
    parser.add_argument("--t0", type=float, default=0.0, metavar="EPOCH_S", help=t0_help)


def open_output(path: str) -> TextIO:
    """The TRACKS stream for ``-o`` (stdout for ``-``); InputError when it cannot be opened."""
    if path == "-":
        return sys.stdout
    try:
        return open(path, "w", newline="")
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None


def _file_format(path: str, forced: str | None) -> str:
    from skyfuse.ingest.stream import detect_file

    if forced:
        return forced
    try:
        fmt = detect_file(path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    if fmt is None:
        raise InputError(f"{path}: not Beast, AVR, SBS or ASTERIX (use --format)")
    return fmt


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


def _modes_source(path: str, fmt: str, args: Namespace, read: list[int],
                  slot: int) -> Iterator[Piece]:
    """Pieces of one Mode S recording (its own timebase); bytes read so far in ``read``."""
    from skyfuse.ingest.frames import FrameBatch
    from skyfuse.ingest.sbs import SbsBatch
    from skyfuse.ingest.stream import read_file
    from skyfuse.ingest.timebase import Timebase, TimeMode
    from skyfuse.runtime.merge import FramePiece, SbsPiece

    timebase = Timebase(TimeMode.AUTO, t0_s=args.t0)
    chunk = 1 << 14 if args.speed > 0 else 1 << 20
    try:
        for parser, batch in read_file(path, fmt, chunk_bytes=chunk):
            read[slot] = parser.counters.bytes_in
            if isinstance(batch, SbsBatch):
                yield SbsPiece(batch)
            elif isinstance(batch, FrameBatch) and len(batch):
                yield FramePiece(timebase.to_seconds(batch.ticks), batch.data)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError(str(e)) from None


def _asterix_source(path: str, read: list[int], slot: int) -> Iterator[Piece]:
    """Pieces of datagrams of one ASTERIX recording."""
    import numpy as np

    from skyfuse.ingest.asterix_source import iter_asterix_file
    from skyfuse.runtime.merge import DatagramPiece

    t: list[float] = []
    payloads: list[bytes] = []
    try:
        for d in iter_asterix_file(path):
            t.append(d.t_s)
            payloads.append(d.payload)
            read[slot] += len(d.payload)
            if len(payloads) >= 256:
                yield DatagramPiece(np.asarray(t, np.float64), payloads)
                t, payloads = [], []
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    if payloads:
        yield DatagramPiece(np.asarray(t, np.float64), payloads)


def _load_sensors(args: Namespace) -> SensorTable | None:
    """The ``--sensors`` file, read once (None without it); InputError when unusable."""
    from skyfuse.measure.sensors import SensorFileError, load_sensors

    if not args.sensors:
        return None
    try:
        return load_sensors(args.sensors)
    except (SensorFileError, OSError) as e:
        raise InputError(str(e)) from None


def _asterix_feeder(path: str, pipe: Pipeline, args: Namespace,
                    sensors: SensorTable | None) -> AsterixInput:
    from skyfuse.runtime.asterix_input import AsterixInput

    if sensors is None and getattr(args, "_asterix_warned", False) is False:
        print(f"skyfuse replay: {path}: no --sensors: radar plots (CAT048) are counted, "
              "not tracked", file=sys.stderr)
        args._asterix_warned = True
    return AsterixInput(pipe, sensors, reference_epoch_s=args.t0 or None)


def _asterix_note(path: str, feeder: AsterixInput) -> str:
    c, st = feeder.counters, feeder.decoder.stats
    return (f"{path}: asterix plots {c.plots}, adsb {c.adsb}, mlat {c.mlat}, "
            f"services {c.services}, unknown sensors {sum(c.unknown_sensors.values())}, "
            f"unknown categories {_total(st.unknown_category)}, "
            f"rejected blocks {st.rejected_blocks}")


def _play_round(pieces: list[tuple[int, Piece]], pipe: Pipeline, pacer: _Pacer,
                feeders: dict[int, AsterixInput], base: int = 0) -> None:
    """Hand one round of the merge to the pipeline, in data time (Mode S / SBS sensor id =
    ``base`` + file position; ASTERIX reports carry their sensor file's ids).

    Mode S frames of all files go to the decoder as one time-sorted batch (positions are
    validated per aircraft in time order; copies of a frame from several files are
    deduplicated in the same call); SBS lines per file. When the round also holds ASTERIX
    datagrams, frames and SBS lines are cut at each datagram's time, so every source
    reaches the pipeline interleaved in time: a round's ADS-B frames handed over first
    would push the pipeline's watermark past the round's radar plots and make them late.
    """
    import numpy as np

    from skyfuse.runtime.merge import DatagramPiece, FramePiece, SbsPiece

    frames = [(i, p) for i, p in pieces if isinstance(p, FramePiece)]
    t_s: NDArray[np.float64] = np.empty(0)
    data: list[bytes] = []
    sensor: int | NDArray[np.int32] = 0
    if len(frames) == 1:
        i, fp = frames[0]
        t_s, data, sensor = fp.t_s, fp.frames, base + i
    elif frames:
        t_all = np.concatenate([p.t_s for _, p in frames])
        order = np.argsort(t_all, kind="stable")
        every = [f for _, p in frames for f in p.frames]
        t_s, data = t_all[order], [every[k] for k in order.tolist()]
        sensor = np.concatenate([np.full(len(p), base + i, np.int32)
                                 for i, p in frames])[order]
    sbs = [(i, p) for i, p in pieces if isinstance(p, SbsPiece)]
    grams = [(t1, i, payload) for i, p in pieces if isinstance(p, DatagramPiece)
             for t1, payload in zip(p.t_s.tolist(), p.payloads, strict=True)]
    grams.sort(key=lambda g: g[0] if math.isfinite(g[0]) else -math.inf)

    def _until(t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Monotonic cut key: rows without a finite time go out at once."""
        return np.maximum.accumulate(np.where(np.isfinite(t), t, -np.inf)) if len(t) else t

    f_key = _until(t_s)
    s_keys = [_until(p.t_s) for _, p in sbs]
    f_done = 0
    s_done = [0] * len(sbs)

    def _emit(t_cut: float) -> None:
        nonlocal f_done
        f_end = len(data) if t_cut == math.inf else int(
            np.searchsorted(f_key, t_cut, side="right"))
        if f_end > f_done:
            part = t_s[f_done:f_end]
            fin = np.isfinite(part)
            if fin.any():
                pacer.wait(float(part[fin].min()))
            sens = sensor if isinstance(sensor, int) else sensor[f_done:f_end]
            pipe.add_frames(part, data[f_done:f_end], sens)
            f_done = f_end
        for j, (i, p) in enumerate(sbs):
            s_end = len(p) if t_cut == math.inf else int(
                np.searchsorted(s_keys[j], t_cut, side="right"))
            if s_end > s_done[j]:
                part_p = p if (s_done[j], s_end) == (0, len(p)) else p.take(
                    np.arange(s_done[j], s_end))
                t = part_p.t_s
                pacer.wait(float(np.nanmin(t)) if np.isfinite(t).any() else math.nan)
                pipe.add_sbs(part_p.batch, base + i)
                s_done[j] = s_end

    for t1, i, payload in grams:
        _emit(t1 if math.isfinite(t1) else -math.inf)
        pacer.wait(t1)
        feeders[i].feed(payload, t1)
        pipe.advance()
    _emit(math.inf)
    pipe.advance()


def _total(count: int | dict[int, int]) -> int:
    return sum(count.values()) if isinstance(count, dict) else int(count)


def run(args: Namespace) -> int:
    """Replay ``args.files`` into ``args.output``; exit 0 (2 on unreadable input)."""
    if args.speed < 0:
        raise UsageError("--speed must be positive")
    receiver = parse_latlon(args.receiver) if args.receiver else None
    formats = [_file_format(p, args.format) for p in args.files]
    sensors = _load_sensors(args)              # bad input fails before TRACKS is created
    out = open_output(args.output)
    writer = TracksWriter(out)
    pipe = Pipeline(PipelineConfig(receiver=receiver, tracker=tracker_config_for(sensors)),
                    sink=writer.write)
    pacer = _Pacer(args.speed)
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm
        total = sum(Path(p).stat().st_size for p in args.files)
        progress = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr,
                        desc="replay", leave=False)
    from skyfuse.runtime.merge import merge_by_time

    read = [0] * len(args.files)
    feeders: dict[int, AsterixInput] = {}
    sources: list[Iterator[Piece]] = []
    for i, (path, fmt) in enumerate(zip(args.files, formats, strict=True)):
        if fmt == "asterix":
            feeders[i] = _asterix_feeder(path, pipe, args, sensors)
            sources.append(_asterix_source(path, read, i))
        else:
            sources.append(_modes_source(path, fmt, args, read, i))
    done = 0
    try:
        for pieces in merge_by_time(sources):
            _play_round(pieces, pipe, pacer, feeders, 0 if sensors is None else len(sensors))
            seen = sum(read)
            if progress is not None and seen > done:
                progress.update(seen - done)
                done = seen
    except KeyboardInterrupt:
        print("skyfuse replay: interrupted", file=sys.stderr)
    finally:
        pipe.finish()
        writer.flush()
        if progress is not None:
            progress.close()
        if out is not sys.stdout:
            out.close()
    notes = [_asterix_note(args.files[i], f) for i, f in sorted(feeders.items())]
    dc, pc = pipe.decoder.counters, pipe.counters
    for n in notes:
        print(f"skyfuse replay: {n}", file=sys.stderr)
    print(f"skyfuse replay: frames {dc.frames}, duplicates {dc.duplicates}, "
          f"crc failures {dc.crc_failures}, positions {dc.positions}, reports {pc.reports}, "
          f"late {pc.late}, "
          f"tracks {pipe.tracker.next_track_id - 1}, rows {writer.rows}", file=sys.stderr)
    return 0
