"""K-way merge in data time of several recordings read chunk by chunk.

Each source is an iterator of *pieces* (rows with a time each, in time order within the
source, as recordings are): :class:`FramePiece` (Mode S frames), :class:`SbsPiece`,
:class:`DatagramPiece` (ASTERIX). :func:`merge_by_time` holds one piece per source and
repeatedly hands out every held row up to the *horizon*: the smallest, over the sources
not yet exhausted, of the latest time that source has reached. No source can later give
a row earlier than the horizon (each is in time order), so rows come out in data time
across sources while at most one piece per source is in memory. The source that sets
the horizon is always emptied, so it is read next.

Rows without a finite time go out at once. With a single source, every piece goes out
whole and unchanged (single-file replay is not altered by the merge).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from skyfuse.ingest.sbs import SbsBatch

__all__ = ["DatagramPiece", "FramePiece", "Piece", "SbsPiece", "merge_by_time"]


class Piece(Protocol):
    """Rows with a time each; ``take`` selects rows (integer indices, in order)."""

    @property
    def t_s(self) -> NDArray[np.float64]: ...

    def take(self: P, idx: NDArray[np.intp]) -> P: ...

    def __len__(self) -> int: ...


P = TypeVar("P", bound=Piece)


@dataclass(frozen=True, slots=True)
class FramePiece:
    """Mode S frames of one feed: times (s) and frame bytes."""

    t_s: NDArray[np.float64]
    frames: list[bytes]

    def take(self, idx: NDArray[np.intp]) -> FramePiece:
        return FramePiece(self.t_s[idx], [self.frames[i] for i in idx.tolist()])

    def __len__(self) -> int:
        return len(self.frames)


@dataclass(frozen=True, slots=True)
class SbsPiece:
    """SBS lines of one feed."""

    batch: SbsBatch

    @property
    def t_s(self) -> NDArray[np.float64]:
        return self.batch.t_s

    def take(self, idx: NDArray[np.intp]) -> SbsPiece:
        b = self.batch
        return SbsPiece(dataclasses.replace(
            b, **{f.name: getattr(b, f.name)[idx] for f in dataclasses.fields(b)}))

    def __len__(self) -> int:
        return len(self.batch)


@dataclass(frozen=True, slots=True)
class DatagramPiece:
    """ASTERIX datagrams of one recording: times (s) and payloads."""

    t_s: NDArray[np.float64]
    payloads: list[bytes]

    def take(self, idx: NDArray[np.intp]) -> DatagramPiece:
        return DatagramPiece(self.t_s[idx], [self.payloads[i] for i in idx.tolist()])

    def __len__(self) -> int:
        return len(self.payloads)


def merge_by_time(sources: Iterable[Iterator[Piece]]) -> Iterator[list[tuple[int, Piece]]]:
    """Rounds of ``(source index, piece)`` in data time across ``sources`` (see module).

    Each round holds the rows up to the current horizon (at most one piece per source,
    in source order; the rows of different sources are not interleaved within a round).
    Empty pieces are skipped.
    """
    its = list(sources)
    n = len(its)
    held: list[Piece | None] = [None] * n
    front = [-np.inf] * n              # latest finite time reached by each source
    live = [True] * n                  # may still give rows
    while True:
        for i in range(n):
            while live[i] and held[i] is None:
                p = next(its[i], None)
                if p is None:
                    live[i] = False
                elif len(p):
                    held[i] = p
                    t = p.t_s[np.isfinite(p.t_s)]
                    if len(t):
                        front[i] = max(front[i], float(t.max()))
        if all(h is None for h in held):
            return
        horizon = min((front[i] for i in range(n) if live[i]), default=np.inf)
        out: list[tuple[int, Piece]] = []
        for i, p in enumerate(held):
            if p is None:
                continue
            later = p.t_s > horizon                      # NaN: False, goes out now
            if not later.any():
                out.append((i, p))
                held[i] = None
            elif not later.all():
                out.append((i, p.take(np.flatnonzero(~later))))
                held[i] = p.take(np.flatnonzero(later))
        if out:
            yield out
