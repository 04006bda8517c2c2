"""Routes of API version 1 (``/api/v1``), exactly the shapes of CONTRACTS.md.

| route                         | answer                                                    |
|-------------------------------|-----------------------------------------------------------|
| ``GET /api/v1``               | ``{"version": 1, "endpoints": [...]}``                    |
| ``GET /api/v1/tracks``        | ``{"time", "tracks": [TRACK]}`` (``?tentative=true`` too) |
| ``GET /api/v1/tracks/{id}``   | TRACK + ``"trail": [[t_s, lat, lon, alt_ft], ...]``; 404  |
| ``GET /api/v1/history``       | stored updates (TRACKS columns), bounded; ``format=csv``  |
| ``GET /api/v1/sources``       | ``[{name, kind, connected, frames, bad_frames, rate_hz, ...}]`` |
| ``GET /api/v1/sensors``       | ``[{name, kind, lat_deg, lon_deg, height_m, range_nm}]``  |
| ``WS  /api/v1/stream``        | snapshot then diffs (:mod:`skyfuse.server.stream`)        |

The live routes answer from :class:`~skyfuse.server.state.LiveState` and encode the JSON
themselves (:func:`~skyfuse.server.schema.track_dicts`); the response models are there for
the OpenAPI schema. History goes through :func:`skyfuse.outputs.history.query_history`
(a read-only SQLite connection, in a worker thread): ``limit`` defaults to
``history_limit`` and may not exceed ``history_max_limit``; the range ``end - start`` may
not exceed ``history_max_range_s`` (``end`` defaults to the latest data time, ``start``
to ``end`` minus one hour). Bad parameters → 400 with ``{"detail": ...}``; no store → 503.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, WebSocket
from fastapi.responses import Response

from skyfuse.runtime.config import ServerConfig
from skyfuse.server.schema import (
    HistoryRow,
    Sensor,
    Source,
    TrackDetail,
    TracksResponse,
    dumps,
    finite_or_none,
    time_token,
    track_dicts,
    tracks_json,
)
from skyfuse.server.state import LiveState
from skyfuse.server.stream import StreamHub

__all__ = ["ApiContext", "build_router", "parse_time"]

_HISTORY_DEFAULT_SPAN_S = 3600.0


@dataclass(slots=True)
class ApiContext:
    """What the routes read: the live state, the stream hub, settings, the store path."""

    state: LiveState
    hub: StreamHub
    config: ServerConfig
    history_path: str | None = None


def _json(obj: object, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json")


def parse_time(text: str, name: str) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC unless it names a zone) → epoch s; a bad
    one is a 400 (:func:`skyfuse.outputs.history.parse_time_s`)."""
    from skyfuse.outputs.history import HistoryQueryError, parse_time_s
    try:
        return parse_time_s(text, name)
    except HistoryQueryError as e:
        raise HTTPException(400, str(e)) from None


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise HTTPException(400, f"bbox: {text!r}: expected lat0,lon0,lat1,lon1 in degrees")
    lat0, lon0, lat1, lon1 = parts
    if not (-90 <= lat0 <= 90 and -90 <= lat1 <= 90 and -180 <= lon0 <= 360
            and -180 <= lon1 <= 360):
        raise HTTPException(400, f"bbox: {text!r}: latitude or longitude out of range")
    return lat0, lon0, lat1, lon1


def _history_rows(rows: Any) -> list[dict[str, Any]]:
    status_names = ("tentative", "confirmed", "coasting")

    def nul(a: np.ndarray, digits: int) -> list[float | None]:
        return [None if v != v else v for v in np.round(a, digits).tolist()]

    calls = [c.decode("ascii", "replace").strip() or None for c in rows.callsign.tolist()]
    return [
        {"t_s": t, "track_id": tid, "status": status_names[s] if 0 <= s < 3 else "tentative",
         "lat_deg": la, "lon_deg": lo, "alt_ft": al,
         "icao24": f"{a:06x}" if a >= 0 else None, "callsign": cs, "vx_mps": vx, "vy_mps": vy}
        for t, tid, s, la, lo, al, a, cs, vx, vy in zip(
            np.round(rows.t_s, 3).tolist(), rows.track_id.tolist(), rows.status.tolist(),
            np.round(rows.lat_deg, 6).tolist(), np.round(rows.lon_deg, 6).tolist(),
            nul(rows.alt_ft, 0), rows.icao24.tolist(), calls, nul(rows.vx_mps, 1),
            nul(rows.vy_mps, 1), strict=True)
        if la == la and lo == lo
    ]


def build_router(ctx: ApiContext) -> APIRouter:
    """The ``/api/v1`` routes over ``ctx``."""
    r = APIRouter(prefix="/api/v1")
    cfg = ctx.config
    state = ctx.state

    @r.get("", summary="API version and endpoints")
    def index() -> dict[str, Any]:
        return {"version": 1, "endpoints": ["/api/v1/tracks", "/api/v1/tracks/{track_id}",
                                            "/api/v1/history", "/api/v1/sources",
                                            "/api/v1/sensors", "/api/v1/stream"]}

    @r.get("/tracks", response_model=TracksResponse, summary="Every live track")
    async def tracks(tentative: bool = cfg.include_tentative) -> Response:
        v = state.view(tentative)
        text = (f'{{"time":{time_token(v.time_s)},'
                f'"tracks":{tracks_json(v, state.sensor_names)}}}')
        return Response(text, media_type="application/json")

    @r.get("/tracks/{track_id}", response_model=TrackDetail,
           responses={404: {"description": "no live track with that number"}},
           summary="One live track with its trail")
    def one_track(track_id: int,
                  trail_s: Annotated[float | None, Query(ge=0, le=86_400)] = None) -> Response:
        got = state.track(track_id)
        if got is None:
            raise HTTPException(404, f"track {track_id}: not live")
        v, trail = got
        body = track_dicts(v, state.sensor_names)[0]
        if ctx.history_path:
            since = v.t_s[0] - trail_s if trail_s is not None else None
            try:
                from skyfuse.outputs.history import trail as stored_trail
                stored = stored_trail(ctx.history_path, track_id, since_s=since)
                if len(stored) >= len(trail):
                    trail = stored
            except Exception:                            # store not there yet: live trail
                pass
        elif trail_s is not None and len(trail):
            trail = trail[trail[:, 0] >= v.t_s[0] - trail_s]
        body["trail"] = [[round(t, 3), round(la, 6), round(lo, 6),
                          None if al != al else round(al)]
                         for t, la, lo, al in trail.tolist()]
        return _json(body)

    @r.get("/history", response_model=list[HistoryRow],
           responses={400: {"description": "bad parameter"},
                      503: {"description": "no history store configured"}},
           summary="Stored track updates (bounded)")
    def history(start: str | None = None, end: str | None = None,
                icao24: Annotated[str | None, Query(max_length=6)] = None,
                callsign: Annotated[str | None, Query(max_length=8)] = None,
                bbox: Annotated[str | None, Query(max_length=100)] = None,
                track_id: int | None = None,
                limit: Annotated[int | None, Query(ge=1)] = None,
                format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
        if not ctx.history_path:
            raise HTTPException(503, "no history store configured ([store] path or --db)")
        n = cfg.history_limit if limit is None else limit
        if n > cfg.history_max_limit:
            raise HTTPException(400, f"limit {n}: at most {cfg.history_max_limit}")
        t_end = parse_time(end, "end") if end else None
        if t_end is None:
            t_end = state.time_s if math.isfinite(state.time_s) else _now()
        t_start = parse_time(start, "start") if start else t_end - _HISTORY_DEFAULT_SPAN_S
        if t_end < t_start:
            raise HTTPException(400, f"end {t_end} is before start {t_start}")
        if t_end - t_start > cfg.history_max_range_s:
            raise HTTPException(400, f"time range {t_end - t_start:g} s: at most "
                                f"{cfg.history_max_range_s:g} s per query")
        if icao24 is not None:
            try:
                int(icao24, 16)
            except ValueError:
                raise HTTPException(400, f"icao24: {icao24!r} is not hexadecimal") from None
        box = _bbox(bbox) if bbox else None
        from skyfuse.outputs.history import HistoryError, HistoryQueryError, query_history
        try:
            rows = query_history(ctx.history_path, start_s=t_start, end_s=t_end,
                                 icao24=icao24, callsign=callsign, bbox=box,
                                 track_id=track_id, limit=n + 1)
        except HistoryQueryError as e:
            raise HTTPException(400, str(e)) from None
        except (HistoryError, OSError) as e:
            raise HTTPException(503, f"history store unavailable: {e}") from None
        truncated = len(rows.t_s) > n                    # asked for one row more than n
        if truncated:
            rows = rows.take(slice(0, n))
        meta = {"X-Skyfuse-Start": repr(t_start), "X-Skyfuse-End": repr(t_end),
                "X-Skyfuse-Truncated": "true" if truncated else "false"}
        if format == "csv":
            from skyfuse.runtime.tracks_csv import TracksWriter
            buf = io.StringIO()
            TracksWriter(buf).write(rows)
            return Response(buf.getvalue(), media_type="text/csv", headers=meta)
        out = _history_rows(rows)
        response = _json(out)
        response.headers.update({**meta, "X-Skyfuse-Count": str(len(out))})
        return response

    @r.get("/sources", response_model=list[Source], summary="Feed and sensor counters")
    async def sources() -> Response:
        return _json([{"name": s.name, "kind": s.kind, "connected": s.connected,
                       "frames": s.frames, "bad_frames": s.bad_frames,
                       "rate_hz": round(s.rate_hz, 2) if math.isfinite(s.rate_hz) else 0.0,
                       "last_seen_s": finite_or_none(s.last_seen_s)}
                      for s in state.sources])

    @r.get("/sensors", response_model=list[Sensor], summary="Sensor positions and coverage")
    async def sensors() -> Response:
        return _json([{"name": s.name, "kind": s.kind, "lat_deg": s.lat_deg,
                       "lon_deg": s.lon_deg, "height_m": s.height_m, "range_nm": s.range_nm}
                      for s in state.sensors])

    @r.websocket("/stream")
    async def stream(ws: WebSocket, tentative: bool = cfg.include_tentative) -> None:
        await ctx.hub.serve(ws, tentative)

    return r


def _now() -> float:
    import time
    return time.time()
