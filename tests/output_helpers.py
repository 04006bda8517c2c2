"""Shared by the output tests (SBS, CAT062): track rows carrying extra runtime fields."""

from __future__ import annotations

from typing import Any

from skyfuse.runtime.tracks_csv import TrackRows


class Extra:
    """TrackRows plus optional fields the runtime may add (mode3a, sensors, vrate_fpm),
    as a duck-typed object: what an output reads through :func:`skyfuse.outputs.base.column`."""

    def __init__(self, rows: TrackRows, **extra: Any) -> None:
        self._rows = rows
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows, name)

    def __len__(self) -> int:
        return len(self._rows)
