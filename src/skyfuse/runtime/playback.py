"""Recordings played as if live: merged in time, paced, optionally looped and time-shifted.

Used by ``skyfuse serve --replay`` and ``skyfuse demo``. The files are read chunk by chunk
and merged in data time (:func:`~skyfuse.runtime.merge.merge_by_time`), as ``skyfuse
replay`` does; each piece is cut into slices of at most ``slice_s`` of data so that
pacing is smooth even where one 16 KiB chunk spans a minute of a quiet recording.

Time shift. With ``shift_to_now``, every time is moved by one offset so that the first
frame is "now" (``offset = wall clock at start − first data time``): tracks look live and
``t_last_s`` is close to the wall clock. Looping keeps time going forward: loop ``k + 1``
is shifted by ``offset_k + (t_last − t_first) + gap_s``, so its first frame comes
``gap_s`` after the previous loop's last one; the tracks of the previous loop are not
fed any more and die off through the tracker's own deletion rules.

Pacing. Slice ``s`` (first shifted time ``t``) is handed over at
``wall0 + (t − t_data0) / speed`` on the monotonic clock; ``speed = 0`` means as fast as
the consumer takes them (the bounded ingest queue then sets the rate).

Output: :class:`Slice` objects ``(kind, file index, piece, offset_s)`` to an async
``emit`` callback, which the service turns into pipeline input: Mode S frame and SBS
times are shifted here; ASTERIX datagrams carry their offset, applied after decoding
(the data items hold time of day, which only the decoder can read).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skyfuse.ingest.asterix_source import iter_asterix_file
from skyfuse.ingest.frames import FrameBatch
from skyfuse.ingest.sbs import SbsBatch
from skyfuse.ingest.stream import detect_file, read_file
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.runtime.merge import DatagramPiece, FramePiece, Piece, SbsPiece, merge_by_time

__all__ = ["PlaybackCounters", "Player", "Slice", "detect_formats"]


@dataclass(frozen=True, slots=True)
class Slice:
    """A run of rows of one file: ``piece`` times already shifted for Mode S and SBS;
    ``offset_s`` is the shift (to apply to ASTERIX after decoding); ``loop`` counts loops."""

    kind: str
    file: int
    piece: Piece
    offset_s: float
    loop: int


@dataclass(slots=True)
class PlaybackCounters:
    """Per file: rows handed over, bad frames, last hand-over (wall clock)."""

    name: str
    kind: str
    frames: int = 0
    bad_frames: int = 0
    last_seen_s: float = math.nan
    playing: bool = False


def detect_formats(paths: list[str]) -> list[str]:
    """The format of each file (``beast|avr|sbs|asterix``); ``ValueError`` naming the
    file when unreadable or unknown."""
    out = []
    for p in paths:
        try:
            fmt = detect_file(p)
        except OSError as e:
            raise ValueError(f"{p}: {e.strerror or e}") from None
        if fmt is None:
            raise ValueError(f"{p}: not Beast, AVR, SBS or ASTERIX")
        out.append(fmt)
    return out


class Player:
    """Plays ``files`` through ``emit`` (see the module docstring)."""

    def __init__(self, files: list[str], formats: list[str], *, speed: float = 1.0,
                 loop: bool = False, shift_to_now: bool = True, t0_s: float = 0.0,
                 gap_s: float = 30.0, slice_s: float = 0.25,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.files, self.formats = files, formats
        self.speed, self.loop, self.shift_to_now = speed, loop, shift_to_now
        self.t0_s, self.gap_s, self.slice_s = t0_s, gap_s, slice_s
        self.clock, self.monotonic = clock, monotonic
        self.counters = [PlaybackCounters(Path(f).name, fmt) for f, fmt in
                         zip(files, formats, strict=True)]
        self.loops = 0

    # -- reading -----------------------------------------------------------------------------
    def _modes(self, i: int) -> Iterator[Piece]:
        tb = Timebase(TimeMode.AUTO, t0_s=self.t0_s)
        c = self.counters[i]
        for parser, batch in read_file(self.files[i], self.formats[i], chunk_bytes=1 << 14):
            c.bad_frames = parser.counters.bad_frames
            if isinstance(batch, SbsBatch):
                yield SbsPiece(batch)
            elif isinstance(batch, FrameBatch) and len(batch):
                yield FramePiece(tb.to_seconds(batch.ticks), batch.data)

    def _asterix(self, i: int) -> Iterator[Piece]:
        t: list[float] = []
        payloads: list[bytes] = []
        for d in iter_asterix_file(self.files[i]):
            t.append(d.t_s)
            payloads.append(d.payload)
            if len(payloads) >= 64:
                yield DatagramPiece(np.asarray(t, np.float64), payloads)
                t, payloads = [], []
        if payloads:
            yield DatagramPiece(np.asarray(t, np.float64), payloads)

    def _sources(self) -> list[Iterator[Piece]]:
        return [self._asterix(i) if f == "asterix" else self._modes(i)
                for i, f in enumerate(self.formats)]

    def _slices(self, piece: Piece) -> Iterator[Piece]:
        """``piece`` cut into runs of at most ``slice_s`` of data (NaN times join the
        run before them)."""
        t = piece.t_s
        if len(t) <= 1 or not np.isfinite(t).any():
            yield piece
            return
        tf = np.fmax.accumulate(np.where(np.isfinite(t), t, -np.inf))
        tf[~np.isfinite(tf)] = tf[np.isfinite(tf)][0]
        cut = np.flatnonzero(np.diff(np.floor((tf - tf[0]) / self.slice_s))) + 1
        if len(cut) == 0:
            yield piece
            return
        for idx in np.split(np.arange(len(t)), cut):
            yield piece.take(idx)

    # -- playing -----------------------------------------------------------------------------
    async def run(self, emit: Callable[[Slice], Awaitable[None]], stop: asyncio.Event) -> None:
        """Play until the end (or forever when looping) or until ``stop`` is set."""
        offset: float | None = None
        data0 = wall0 = 0.0
        loop = 0
        for c in self.counters:
            c.playing = True
        try:
            while not stop.is_set():
                t_first, t_last = math.inf, -math.inf
                for pieces in merge_by_time(self._sources()):
                    # every source's slices of the round, interleaved in data time: one
                    # source's whole round first would make the others' reports late
                    slices = [(i, p) for i, whole in pieces for p in self._slices(whole)]
                    if len(pieces) > 1:
                        slices.sort(key=lambda s: _first_time(s[1]))
                    for i, piece in slices:
                        if stop.is_set():
                            return
                        t = piece.t_s[np.isfinite(piece.t_s)]
                        if len(t):
                            t_first = min(t_first, float(t[0]))
                            t_last = max(t_last, float(t.max()))
                            if offset is None:
                                offset = (self.clock() - float(t[0])
                                          if self.shift_to_now else 0.0)
                                data0, wall0 = float(t[0]) + offset, self.monotonic()
                            await self._pace(float(t[0]) + offset, data0, wall0, stop)
                        shift = offset or 0.0
                        await emit(Slice(self.formats[i], i, _shifted(piece, shift),
                                         shift, loop))
                        c = self.counters[i]
                        c.frames += len(piece)
                        c.last_seen_s = self.clock()
                        await asyncio.sleep(0)
                if not self.loop or not math.isfinite(t_first):
                    return
                offset = (offset or 0.0) + (t_last - t_first) + self.gap_s
                loop += 1
                self.loops = loop
        finally:
            for c in self.counters:
                c.playing = False

    async def _pace(self, t_s: float, data0: float, wall0: float, stop: asyncio.Event) -> None:
        if self.speed <= 0:
            return
        delay = wall0 + (t_s - data0) / self.speed - self.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)


def _first_time(piece: Piece) -> float:
    """The first finite time of ``piece`` (−inf when none: such rows go out at once)."""
    fin = piece.t_s[np.isfinite(piece.t_s)]
    return float(fin[0]) if len(fin) else -math.inf


def _shifted(piece: Piece, offset_s: float) -> Piece:
    """Mode S frames and SBS lines with times moved by ``offset_s`` (ASTERIX as is)."""
    if offset_s == 0.0:
        return piece
    if isinstance(piece, FramePiece):
        return FramePiece(piece.t_s + offset_s, piece.frames)
    if isinstance(piece, SbsPiece):
        return SbsPiece(dataclasses.replace(piece.batch, t_s=piece.batch.t_s + offset_s))
    return piece
