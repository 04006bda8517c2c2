"""Raw Mode S frames as arrays: what the Beast and AVR parsers hand to the decoder.

A :class:`FrameBatch` holds the frames one ``feed()`` call framed, as equal-length arrays
plus one list of frame bytes (Mode S frames are 2, 7 or 14 bytes; a list of ``bytes`` is the
cheapest container that rs1090 can take as hex strings):

| column   | dtype   | meaning                                                          |
|----------|---------|------------------------------------------------------------------|
| ticks    | int64   | 48-bit receiver time (12 MHz counter or GPS time of day); -1 absent |
| signal   | uint8   | Beast signal level byte (0 when absent)                          |
| kind     | int8    | :class:`FrameKind`: Mode A/C (2 bytes), short (7), long (14)     |
| offset   | int64   | byte offset of the frame's first byte in the stream              |
| data     | list    | the frame bytes, escapes removed                                 |

Parsers never raise on garbage: they count it (:class:`ParserCounters`) and, when asked to,
keep the offsets and reasons of bad input (:class:`BadInput`) for ``skyfuse decode --errors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = ["BadInput", "FrameBatch", "FrameKind", "ParserCounters"]


class FrameKind(IntEnum):
    """Length class of a raw frame."""

    MODE_AC = 1
    SHORT = 2
    LONG = 3


FRAME_BYTES = {FrameKind.MODE_AC: 2, FrameKind.SHORT: 7, FrameKind.LONG: 14}


@dataclass(frozen=True, slots=True)
class BadInput:
    """One piece of rejected input: stream byte ``offset`` and a short ``reason``."""

    offset: int
    reason: str


@dataclass(slots=True)
class ParserCounters:
    """Running totals of one parser: good frames, bad frames, bytes seen."""

    frames: int = 0
    bad_frames: int = 0
    bytes_in: int = 0
    errors: list[BadInput] = field(default_factory=list)
    keep_errors: bool = False
    max_errors: int = 10_000

    def bad(self, offset: int, reason: str) -> None:
        """Count one bad frame (and remember it when ``keep_errors``)."""
        self.bad_frames += 1
        if self.keep_errors and len(self.errors) < self.max_errors:
            self.errors.append(BadInput(offset, reason))

    def take_errors(self) -> list[BadInput]:
        """The remembered bad inputs since the last call, and forget them."""
        out, self.errors = self.errors, []
        return out


@dataclass(frozen=True, slots=True)
class FrameBatch:
    """Frames framed by one parser call; see the module docstring for the columns."""

    ticks: NDArray[np.int64]
    signal: NDArray[np.uint8]
    kind: NDArray[np.int8]
    offset: NDArray[np.int64]
    data: list[bytes]

    def __len__(self) -> int:
        return len(self.data)

    @staticmethod
    def build(
        ticks: list[int], signal: list[int], kind: list[int], offset: list[int],
        data: list[bytes],
    ) -> FrameBatch:
        """A batch from parallel Python lists (what the parsers accumulate)."""
        return FrameBatch(
            ticks=np.asarray(ticks, np.int64).reshape(-1),
            signal=np.asarray(signal, np.uint8).reshape(-1),
            kind=np.asarray(kind, np.int8).reshape(-1),
            offset=np.asarray(offset, np.int64).reshape(-1),
            data=data,
        )

    @staticmethod
    def empty() -> FrameBatch:
        """A batch with no frames."""
        return FrameBatch.build([], [], [], [], [])

    @staticmethod
    def concat(batches: list[FrameBatch]) -> FrameBatch:
        """Frames of all ``batches``, in order."""
        if not batches:
            return FrameBatch.empty()
        data: list[bytes] = []
        for b in batches:
            data.extend(b.data)
        return FrameBatch(
            ticks=np.concatenate([b.ticks for b in batches]),
            signal=np.concatenate([b.signal for b in batches]),
            kind=np.concatenate([b.kind for b in batches]),
            offset=np.concatenate([b.offset for b in batches]),
            data=data,
        )
