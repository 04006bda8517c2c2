"""Validated ADS-B positions: per-aircraft CPR state, global/local decoding, speed gate.

Rule, per position message (airborne BDS 0,5 or surface BDS 0,6) of aircraft A at time t:

1. Store its CPR fields in A's slot for its parity (even/odd) and kind (airborne/surface).
2. If A's other-parity slot is of the same kind and at most ``pair_max_s`` older (10 s
   airborne, 25 s surface; DO-260B), decode globally from the pair (surface: the 90°
   ambiguity resolved by A's last position, else by the receiver; no reference, no position).
3. Otherwise decode locally against A's last accepted position if it is at most
   ``local_max_age_s`` old, else (surface only) against the receiver position.
4. Speed gate: reject the result if it lies farther from A's last accepted position than
   ``v_max · |Δt| + slack`` (airborne 600 m/s, surface 80 m/s; slack 200 m) — the
   plausibility test jet1090 PR #434 added. After ``max_rejects`` rejections in a row the
   last position is dropped (it was the bad one), so the next global decode starts afresh.

State is a compact table: a dict icao → row, numpy columns (no object per aircraft).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skyfuse.decode import cpr

__all__ = ["PositionConfig", "PositionTable"]

_EARTH_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class PositionConfig:
    """Limits of the position validation (seconds, metres, m/s)."""

    pair_max_s: float = 10.0
    surface_pair_max_s: float = 25.0
    local_max_age_s: float = 60.0
    surface_local_max_age_s: float = 600.0
    v_max_air_mps: float = 600.0
    v_max_surface_mps: float = 80.0
    slack_m: float = 200.0
    max_rejects: int = 3
    receiver: tuple[float, float] | None = None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, spherical Earth), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(a)))


# column indices of the CPR slots: [parity][field]
_LAT, _LON, _T, _SURF = 0, 1, 2, 3


class PositionTable:
    """CPR state of every aircraft; :meth:`update` turns one message into a position."""

    def __init__(self, config: PositionConfig | None = None) -> None:
        self.config = config or PositionConfig()
        self.row: dict[int, int] = {}
        self._cap = 0
        self.cpr = np.zeros((0, 2, 4))  # [row, parity, (lat_cpr, lon_cpr, t_s, surface)]
        self.last = np.zeros((0, 3))  # [row, (lat_deg, lon_deg, t_s)], t_s NaN: none
        self.rejects = np.zeros(0, np.int32)
        self.accepted = 0
        self.rejected = 0
        self.unresolved = 0

    def _row(self, icao: int) -> int:
        r = self.row.get(icao)
        if r is None:
            r = len(self.row)
            if r >= self._cap:
                cap = max(64, 2 * self._cap)
                self.cpr = np.concatenate([self.cpr, np.full((cap - self._cap, 2, 4), np.nan)])
                self.last = np.concatenate([self.last, np.full((cap - self._cap, 3), np.nan)])
                self.rejects = np.concatenate([self.rejects, np.zeros(cap - self._cap, np.int32)])
                self._cap = cap
            self.row[icao] = r
        return r

    def last_position(self, icao: int) -> tuple[float, float, float] | None:
        """(lat_deg, lon_deg, t_s) of the aircraft's last accepted position, if any."""
        r = self.row.get(icao)
        if r is None or math.isnan(self.last[r, 2]):
            return None
        lat, lon, t = self.last[r].tolist()
        return lat, lon, t

    def update(self, icao: int, t_s: float, odd: bool, lat_cpr: int, lon_cpr: int,
               surface: bool) -> tuple[float, float] | None:
        """Store one position message; its validated (lat_deg, lon_deg), or None."""
        cfg = self.config
        r = self._row(icao)
        par = 1 if odd else 0
        slot = self.cpr[r]
        slot[par] = (lat_cpr, lon_cpr, t_s, 1.0 if surface else 0.0)
        other = slot[1 - par].tolist()
        last_lat, last_lon, last_t = self.last[r].tolist()
        has_last = not math.isnan(last_t)
        ref: tuple[float, float] | None = None
        if surface:
            if has_last and abs(t_s - last_t) <= cfg.surface_local_max_age_s:
                ref = (last_lat, last_lon)
            elif cfg.receiver is not None:
                ref = cfg.receiver
        pos: tuple[float, float] | None = None
        pair_max = cfg.surface_pair_max_s if surface else cfg.pair_max_s
        if (not math.isnan(other[_T]) and (other[_SURF] == 1.0) == surface
                and abs(t_s - other[_T]) <= pair_max):
            ev, od = (other, (lat_cpr, lon_cpr)) if odd else ((lat_cpr, lon_cpr), other)
            if surface:
                if ref is not None:
                    pos = cpr.global_surface(int(ev[0]), int(ev[1]), int(od[0]), int(od[1]),
                                             odd, ref[0], ref[1])
            else:
                pos = cpr.global_airborne(int(ev[0]), int(ev[1]), int(od[0]), int(od[1]), odd)
        if pos is None:
            if has_last and abs(t_s - last_t) <= (
                    cfg.surface_local_max_age_s if surface else cfg.local_max_age_s):
                pos = cpr.local(lat_cpr, lon_cpr, odd, last_lat, last_lon, surface)
            elif surface and ref is not None:
                pos = cpr.local(lat_cpr, lon_cpr, odd, ref[0], ref[1], True)
        if pos is None:
            self.unresolved += 1
            return None
        if has_last:
            vmax = cfg.v_max_surface_mps if surface else cfg.v_max_air_mps
            gate_m = vmax * abs(t_s - last_t) + cfg.slack_m
            if distance_m(last_lat, last_lon, pos[0], pos[1]) > gate_m:
                self.rejected += 1
                self.rejects[r] += 1
                if self.rejects[r] >= cfg.max_rejects:
                    self.last[r] = np.nan
                    self.rejects[r] = 0
                return None
        self.rejects[r] = 0
        self.last[r] = (pos[0], pos[1], t_s)
        self.accepted += 1
        return pos
