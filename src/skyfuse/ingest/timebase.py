"""Receiver timestamps (48-bit) to seconds: 12 MHz counter or GPS time of day.

Beast and AVR ``@`` frames carry a 48-bit receiver time:

| mode       | layout                                             | receivers          |
|------------|----------------------------------------------------|--------------------|
| COUNTER    | free-running count of 12 MHz ticks                 | dump1090, readsb   |
| GPS        | bits 47-30: seconds of the UTC day; 29-0: nanoseconds | Radarcape, GNS   |

COUNTER times are relative: ``t_s = t0_s + (ticks - first_ticks) / 12e6`` (``t0_s`` = 0
gives seconds since the first frame; ``--t0`` anchors them to UTC). GPS times are absolute
once the UTC day is known (``day_s``, the epoch of its midnight); without it they are seconds
of the day.

AUTO detection: a nanosecond field of 10⁹ or more cannot be GPS, so one such value decides
COUNTER; if the seconds field advances by 2 with every nanosecond field below 10⁹, it is
GPS (a 12 MHz counter would have swept the ≥ 10⁹ window, 6 s of every 89 s, in between).
Until decided, frames are read as COUNTER.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = ["TimeMode", "Timebase"]

_NS_BITS = 30
_NS_MASK = (1 << _NS_BITS) - 1
_WRAP = 1 << 48
TICKS_PER_S = 12e6


class TimeMode(IntEnum):
    """How to read a 48-bit receiver timestamp."""

    AUTO = 0
    COUNTER = 1
    GPS = 2


class Timebase:
    """Per-feed converter of receiver ticks to seconds; see the module docstring."""

    def __init__(self, mode: TimeMode = TimeMode.AUTO, t0_s: float = 0.0,
                 day_s: float | None = None) -> None:
        self.mode = mode
        self.t0_s = t0_s
        self.day_s = day_s
        self._first: int | None = None
        self._wraps = 0
        self._last = 0
        self._first_sec: int | None = None

    @property
    def absolute(self) -> bool:
        """True when the seconds returned are UTC epoch seconds."""
        if self.mode == TimeMode.GPS:
            return self.day_s is not None
        return self.t0_s != 0.0

    def _detect(self, ticks: NDArray[np.int64]) -> None:
        ns = ticks & _NS_MASK
        if (ns >= 1_000_000_000).any():
            self.mode = TimeMode.COUNTER
            return
        sec = ticks >> _NS_BITS
        if self._first_sec is None:
            self._first_sec = int(sec[0])
        if int(sec.max()) - self._first_sec >= 2 and int(sec.max()) < 86_400:
            self.mode = TimeMode.GPS

    def to_seconds(self, ticks: NDArray[np.int64]) -> NDArray[np.float64]:
        """Seconds for ``ticks`` (negative ticks, i.e. absent, give NaN)."""
        ticks = np.asarray(ticks, np.int64)
        out = np.full(len(ticks), np.nan)
        ok = ticks >= 0
        if not ok.any():
            return out
        t = ticks[ok]
        if self.mode == TimeMode.AUTO:
            self._detect(t)
        if self.mode == TimeMode.GPS:
            sec_of_day = (t >> _NS_BITS).astype(np.float64) + (t & _NS_MASK) * 1e-9
            out[ok] = sec_of_day + (self.day_s or 0.0)
            return out
        if self._first is None:
            self._first = int(t[0])
            self._last = int(t[0])
        # unwrap the 48-bit counter (every ~271 days) with the running wrap count
        back = np.diff(np.concatenate([[self._last], t])) < -(_WRAP // 2)
        wraps = self._wraps + np.cumsum(back)
        self._wraps = int(wraps[-1])
        self._last = int(t[-1])
        out[ok] = self.t0_s + (t - self._first + wraps * _WRAP) / TICKS_PER_S
        return out
