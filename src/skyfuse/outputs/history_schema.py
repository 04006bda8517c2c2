"""The history store's SQLite schema (version 1) and how a file is recognised.

Two tables. ``track_update``, append-only, one row per track update::

    track_update(
        t_s        REAL NOT NULL,   -- UTC epoch s of the update (data time, never a clock)
        track_id   INTEGER NOT NULL,-- stable system track number
        status     INTEGER NOT NULL,-- 0 tentative, 1 confirmed, 2 coasting
        lat_deg    REAL, lon_deg REAL,  -- WGS-84
        alt_ft     REAL,            -- barometric, NULL unknown
        icao24     INTEGER,         -- 24-bit address, NULL absent
        callsign   TEXT,            -- trimmed, NULL absent
        mode3a     INTEGER,         -- Mode 3/A code as its 12-bit value, NULL absent
        vx_mps     REAL, vy_mps REAL,   -- velocity east / north
        vrate_fpm  REAL,            -- vertical rate, NULL unknown
        quality    REAL,            -- track quality figure from the tracker, NULL unknown
        sensors    INTEGER)         -- bitmask of contributing sensors, NULL none known

with two indexes only, ``(t_s)`` (time ranges, retention) and ``(track_id, t_s)`` (one
track over time). And ``track_key``, a small summary: for each track, each identity and
area it has had, the time span::

    track_key(kind INTEGER,         -- 1 icao24, 2 callsign, 3 cell
              key,                  -- the address (int), callsign (text) or cell (int)
              track_id INTEGER, t_first_s REAL, t_last_s REAL,
              PRIMARY KEY (kind, key, track_id)) WITHOUT ROWID

A query by address, callsign or area looks up the (track, time span) pairs in
``track_key`` and reads those spans through ``(track_id, t_s)``, filtering the exact
values; the spans only narrow the search, so answers stay exact. Why not an index on
``icao24``, ``callsign`` and the cell in ``track_update``: every commit inserts one entry per
aircraft into each, at scattered places, and the WAL writes each touched page whole; with
five indexes appends ran 3× slower (docs/history.md). The writer refreshes a span's
``t_last_s`` only when an update is more than :data:`KEY_SLACK_S` / 2 past it, so readers
widen each span by :data:`KEY_SLACK_S`.

``cell = (floor(lat) + 90) * 360 + (floor(lon) + 180) mod 360``: 1°×1° (~111 km × 111·cos
lat km); a terminal-area box touches one to four cells.

Recognition: ``PRAGMA application_id`` is ``0x534B5946`` ("SKYF"), ``PRAGMA user_version``
is the schema version, and ``skyfuse_meta(key, value)`` holds ``format = skyfuse-history``
and ``schema_version``. A file lacking them is not a skyfuse store.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["APPLICATION_ID", "COLUMNS", "FORMAT", "KEY_CALLSIGN", "KEY_CELL", "KEY_ICAO24",
           "KEY_SLACK_S", "SCHEMA_SQL", "SCHEMA_VERSION", "cell_of", "cells_in_box"]

APPLICATION_ID = 0x534B5946
"""``PRAGMA application_id`` of a skyfuse history file ("SKYF")."""

SCHEMA_VERSION = 1
"""Schema version (``PRAGMA user_version`` and ``skyfuse_meta.schema_version``)."""

FORMAT = "skyfuse-history"
"""``skyfuse_meta.format`` of a skyfuse history file."""

COLUMNS = ("t_s", "track_id", "status", "lat_deg", "lon_deg", "alt_ft", "icao24", "callsign",
           "mode3a", "vx_mps", "vy_mps", "vrate_fpm", "quality", "sensors")
"""Columns of ``track_update``, in insertion order."""

KEY_ICAO24, KEY_CALLSIGN, KEY_CELL = 1, 2, 3
"""``track_key.kind`` values."""

KEY_SLACK_S = 60.0
"""``track_key.t_last_s`` may lag the track's last update by up to half of this."""

SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS skyfuse_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS track_update (
    t_s REAL NOT NULL, track_id INTEGER NOT NULL, status INTEGER NOT NULL,
    lat_deg REAL, lon_deg REAL, alt_ft REAL, icao24 INTEGER, callsign TEXT, mode3a INTEGER,
    vx_mps REAL, vy_mps REAL, vrate_fpm REAL, quality REAL, sensors INTEGER);
CREATE INDEX IF NOT EXISTS ix_update_t ON track_update (t_s);
CREATE INDEX IF NOT EXISTS ix_update_track ON track_update (track_id, t_s);
CREATE TABLE IF NOT EXISTS track_key (
    kind INTEGER NOT NULL, key NOT NULL, track_id INTEGER NOT NULL,
    t_first_s REAL NOT NULL, t_last_s REAL NOT NULL,
    PRIMARY KEY (kind, key, track_id)) WITHOUT ROWID;
INSERT OR IGNORE INTO skyfuse_meta VALUES ('format', '{FORMAT}');
INSERT OR IGNORE INTO skyfuse_meta VALUES ('schema_version', '{SCHEMA_VERSION}');
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""
"""Creates (idempotently) the tables, indexes and identification of a new store."""


def cell_of(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.object_]:
    """The 1° grid cell of each position (an object array: int, or None without one)."""
    ok = np.isfinite(lat_deg) & np.isfinite(lon_deg)
    la = np.clip(np.floor(np.where(ok, lat_deg, 0.0)), -90, 89).astype(np.int64) + 90
    lo = np.mod(np.floor(np.where(ok, lon_deg, 0.0)).astype(np.int64) + 180, 360)
    out = (la * 360 + lo).astype(object)
    out[~ok] = None
    return out


def cells_in_box(lat0_deg: float, lon0_deg: float, lat1_deg: float, lon1_deg: float
                 ) -> list[int]:
    """Every cell a box touches (``lon0 > lon1``: the box crosses the antimeridian)."""
    la = range(int(np.clip(np.floor(lat0_deg), -90, 89)) + 90,
               int(np.clip(np.floor(lat1_deg), -90, 89)) + 91)
    l0 = int(np.floor(lon0_deg)) + 180
    l1 = int(np.floor(lon1_deg)) + 180
    if lon0_deg <= lon1_deg:
        lo = [v % 360 for v in range(l0, min(l1, l0 + 359) + 1)]
    else:
        lo = [v % 360 for v in range(l0, l1 + 361)]
    return [a * 360 + b for a in la for b in sorted(set(lo))]
