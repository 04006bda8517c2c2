"""The HTTP API against CONTRACTS.md: shapes, derived fields, bounds, token, static files."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from skyfuse.runtime.config import ServerConfig
from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.server.app import create_app
from skyfuse.server.state import LiveState, SensorInfo, SourceStatus

with warnings.catch_warnings():                 # starlette 1.x: httpx → httpx2 notice
    warnings.simplefilter("ignore")
    from starlette.testclient import (
        TestClient,
        WebSocketDenialResponse,  # type: ignore[attr-defined]
    )

TRACK_KEYS = {"track_id", "status", "icao24", "callsign", "mode3a", "lat_deg", "lon_deg",
              "alt_ft", "gs_kt", "track_deg", "vrate_fpm", "t_last_s", "sensors"}


def rows(ids: list[int], t_s: float, status: int = 1, vx: float = 100.0,
         vy: float = 0.0) -> TrackRows:
    """Track updates for ``ids``: odd ids have no altitude, ids divisible by 3 no address."""
    a = np.asarray(ids, np.int64)
    n = len(a)
    return TrackRows(
        t_s=np.full(n, t_s), track_id=a, status=np.full(n, status, np.int8),
        lat_deg=48.0 + a * 0.01, lon_deg=2.0 + a * 0.01,
        alt_ft=np.where(a % 2 == 1, np.nan, 1000.0 * a),
        icao24=np.where(a % 3 == 0, -1, 0x3C0000 + a).astype(np.int32),
        callsign=np.array([b"TST%d   " % i for i in ids], "S8"),
        vx_mps=np.full(n, vx), vy_mps=np.full(n, vy),
        mode3a=np.where(a % 2 == 0, 0o7000, -1).astype(np.int16),
        sensors=np.full(n, 0b101, np.int64), vrate_fpm=np.full(n, -640.0))


@pytest.fixture
def state() -> LiveState:
    st = LiveState(sensor_names={0: "Orly MSSR", 2: "adsb:127.0.0.1:30005"})
    st.update(rows([1, 2, 3, 4], 1_700_000_000.0))
    st.update(rows([5], 1_700_000_001.0, status=0))           # tentative
    st.set_sources([SourceStatus("beast:h:1", "beast", True, 10, 1, 2.5, 1_700_000_002.0),
                    SourceStatus("avr:h:2", "avr", False, 0, 0, math.nan, math.nan)])
    st.set_sensors([SensorInfo("Orly MSSR", "modes", 48.72, 2.38, 120.0, 250.0)])
    return st


@pytest.fixture
def client(state: LiveState) -> TestClient:
    return TestClient(create_app(state))


def test_tracks_shape_and_values(client: TestClient) -> None:
    body = client.get("/api/v1/tracks").json()
    assert set(body) == {"time", "tracks"}
    assert body["time"] == pytest.approx(1_700_000_001.0)       # latest data time
    tracks = {t["track_id"]: t for t in body["tracks"]}
    assert sorted(tracks) == [1, 2, 3, 4]                       # tentative 5 left out
    for t in tracks.values():
        assert set(t) == TRACK_KEYS
        assert t["status"] == "confirmed"
        assert t["gs_kt"] == pytest.approx(100.0 / (1852 / 3600), abs=0.1)
        assert t["track_deg"] == pytest.approx(90.0)            # moving east
        assert t["sensors"] == ["Orly MSSR", "adsb:127.0.0.1:30005"]
        assert t["vrate_fpm"] == -640.0
        assert t["t_last_s"] == pytest.approx(1_700_000_000.0)
    assert tracks[1]["alt_ft"] is None and tracks[2]["alt_ft"] == 2000.0
    assert tracks[3]["icao24"] is None and tracks[4]["icao24"] == "3c0004"
    assert tracks[2]["mode3a"] == "7000" and tracks[1]["mode3a"] is None
    assert tracks[2]["callsign"] == "TST2"
    assert tracks[2]["lat_deg"] == pytest.approx(48.02)


def test_tentative_on_request_and_track_direction(state: LiveState) -> None:
    state.update(rows([7], 1_700_000_002.0, vx=0.0, vy=-50.0))  # moving south
    c = TestClient(create_app(state))
    ids = [t["track_id"] for t in c.get("/api/v1/tracks?tentative=true").json()["tracks"]]
    assert 5 in ids
    t7 = c.get("/api/v1/tracks/7").json()
    assert t7["track_deg"] == pytest.approx(180.0)


def test_unknown_velocity_is_null_and_json_has_no_nan(state: LiveState) -> None:
    state.update(rows([8], 1_700_000_003.0, vx=math.nan, vy=math.nan))
    text = TestClient(create_app(state)).get("/api/v1/tracks").text
    assert "NaN" not in text
    t8 = next(t for t in __import__("json").loads(text)["tracks"] if t["track_id"] == 8)
    assert t8["gs_kt"] is None and t8["track_deg"] is None


def test_one_track_with_trail(state: LiveState) -> None:
    for k in range(1, 6):
        state.update(rows([2], 1_700_000_000.0 + 10 * k))
    c = TestClient(create_app(state))
    body = c.get("/api/v1/tracks/2").json()
    assert set(body) == TRACK_KEYS | {"trail"}
    times = [p[0] for p in body["trail"]]
    assert times == sorted(times) and len(times) == 6
    assert body["trail"][-1][1:] == [pytest.approx(48.02), pytest.approx(2.02), 2000]
    short = c.get("/api/v1/tracks/2?trail_s=15").json()["trail"]
    assert [p[0] for p in short] == times[-2:]
    assert c.get("/api/v1/tracks/999").status_code == 404
    assert c.get("/api/v1/tracks/abc").status_code == 422


def test_sources_and_sensors(client: TestClient) -> None:
    src = client.get("/api/v1/sources").json()
    assert src[0] == {"name": "beast:h:1", "kind": "beast", "connected": True, "frames": 10,
                      "bad_frames": 1, "rate_hz": 2.5, "last_seen_s": 1_700_000_002.0}
    assert src[1]["last_seen_s"] is None and src[1]["rate_hz"] == 0.0
    sen = client.get("/api/v1/sensors").json()
    assert sen == [{"name": "Orly MSSR", "kind": "modes", "lat_deg": 48.72, "lon_deg": 2.38,
                    "height_m": 120.0, "range_nm": 250.0}]


def test_openapi_documents_every_route(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for p in ("/api/v1/tracks", "/api/v1/tracks/{track_id}", "/api/v1/history",
              "/api/v1/sources", "/api/v1/sensors"):
        assert p in doc["paths"], p
    track = doc["components"]["schemas"]["Track"]["properties"]
    assert set(track) == TRACK_KEYS


def test_history_without_store_is_503(client: TestClient) -> None:
    r = client.get("/api/v1/history")
    assert r.status_code == 503 and "store" in r.json()["detail"]


def test_history_queries_and_bounds(state: LiveState, tmp_path: Path) -> None:
    from skyfuse.outputs.history import HistoryStore

    db = tmp_path / "h.sqlite"
    store = HistoryStore(db, flush_s=0.05)
    for k in range(10):
        store.publish(rows([1, 2, 4], 1_700_000_000.0 + k))
    store.close()
    cfg = ServerConfig(history_limit=5, history_max_limit=20, history_max_range_s=3600)
    c = TestClient(create_app(state, cfg, history_path=str(db)))
    q = "start=1700000000&end=1700000009"
    r = c.get(f"/api/v1/history?{q}")
    body = r.json()                                    # CONTRACTS: rows of the TRACKS columns
    assert isinstance(body, list) and len(body) == 5                # default limit
    assert r.headers["x-skyfuse-count"] == "5" and r.headers["x-skyfuse-truncated"] == "true"
    assert set(body[0]) == {"t_s", "track_id", "status", "lat_deg", "lon_deg",
                                    "alt_ft", "icao24", "callsign", "vx_mps", "vy_mps"}
    r = c.get(f"/api/v1/history?{q}&icao24=3C0002&limit=20")
    body = r.json()
    assert len(body) == 10 and {row["track_id"] for row in body} == {2}
    assert r.headers["x-skyfuse-truncated"] == "false"
    r = c.get(f"/api/v1/history?{q}&icao24=3C0002&limit=10")   # exactly limit rows exist
    assert len(r.json()) == 10 and r.headers["x-skyfuse-truncated"] == "false"
    body = c.get(f"/api/v1/history?{q}&callsign=TST4&limit=20").json()
    assert {row["icao24"] for row in body} == {"3c0004"}
    body = c.get(f"/api/v1/history?{q}&bbox=47.9,1.9,48.015,2.015&limit=20").json()
    assert {row["track_id"] for row in body} == {1}
    iso = c.get("/api/v1/history?start=2023-11-14T22:13:20Z&end=2023-11-14T22:13:22Z"
                "&limit=20").json()
    assert {row["t_s"] for row in iso} == {1_700_000_000.0, 1_700_000_001.0,
                                               1_700_000_002.0}
    csv = c.get(f"/api/v1/history?{q}&track_id=1&limit=20&format=csv").text.splitlines()
    assert csv[0].startswith("t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,callsign")
    assert len(csv) == 11
    for bad in ("limit=21", "start=1700000000&end=1700090000", "start=soon",
                "bbox=1,2,3", "icao24=xyz", "end=1&start=2", "limit=0"):
        r = c.get(f"/api/v1/history?{bad}")
        assert r.status_code in (400, 422), (bad, r.status_code)


def test_token_required_everywhere(state: LiveState) -> None:
    c = TestClient(create_app(state, ServerConfig(token="s3cret")))
    r = c.get("/api/v1/tracks")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert c.get("/").status_code == 401
    assert c.get("/api/v1/tracks", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/v1/tracks", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/api/v1/sources?token=s3cret").status_code == 200
    with pytest.raises(WebSocketDenialResponse) as e, c.websocket_connect("/api/v1/stream"):
        pass
    assert e.value.status_code == 401
    with c.websocket_connect("/api/v1/stream?token=s3cret") as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with c.websocket_connect("/api/v1/stream",
                             headers={"Authorization": "Bearer s3cret"}) as ws:
        assert len(ws.receive_json()["tracks"]) == 4


def test_request_limits(client: TestClient) -> None:
    assert client.get("/api/v1/tracks?x=" + "a" * 5000).status_code == 414
    r = client.request("GET", "/api/v1/tracks", content=b"x" * 70_000)
    assert r.status_code == 413


def test_static_files_with_mime_types(state: LiveState, tmp_path: Path) -> None:
    for name, data in (("index.html", b"<!doctype html><title>map</title>"),
                       ("app.mjs", b"export {}"), ("a.js", b"1"), ("s.css", b"a{}"),
                       ("d.json", b"{}"), ("t.pbf", b"\x1a"), ("f.woff2", b"wOF2"),
                       ("f.ttf", b"\0\1\0\0")):
        (tmp_path / name).write_bytes(data)
    c = TestClient(create_app(state, ServerConfig(static_dir=str(tmp_path))))
    assert "map" in c.get("/").text
    want = {"app.mjs": "text/javascript", "a.js": "text/javascript", "s.css": "text/css",
            "d.json": "application/json", "t.pbf": "application/x-protobuf",
            "f.woff2": "font/woff2", "f.ttf": "font/ttf"}
    for name, kind in want.items():
        r = c.get(f"/{name}")
        assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == kind, name
    assert c.get("/api/v1/tracks").status_code == 200             # the API wins over "/"


def test_fallback_page_without_static(state: LiveState, tmp_path: Path) -> None:
    c = TestClient(create_app(state, ServerConfig(static_dir=str(tmp_path))))
    r = c.get("/")
    assert r.status_code == 200 and "/api/v1/tracks" in r.text


def test_live_state_time_close_to_rows() -> None:
    st = LiveState()
    now = time.time()
    st.update(rows([1], now))
    body = TestClient(create_app(st)).get("/api/v1/tracks").json()
    assert abs(body["time"] - now) < 1e-3


def test_fast_encoder_equals_the_dict_encoder() -> None:
    import json

    from skyfuse.server.schema import track_dicts, tracks_json

    rng = np.random.default_rng(3)
    n = 500
    st = LiveState(sensor_names={0: 'a"b', 5: "ünï"})
    r = rows(list(range(1, n + 1)), 1_700_000_000.123456)
    st.update(TrackRows(
        t_s=r.t_s, track_id=r.track_id, status=rng.integers(0, 3, n).astype(np.int8),
        lat_deg=rng.uniform(-90, 90, n), lon_deg=rng.uniform(-180, 180, n),
        alt_ft=np.where(rng.random(n) < 0.3, np.nan, rng.uniform(-500, 45000, n)),
        icao24=r.icao24, callsign=np.array([b'A"B\\', b"", b"\xff\x01X", b"OK  "] * (n // 4),
                                           "S8"),
        vx_mps=np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 150, n)),
        vy_mps=rng.normal(0, 150, n), mode3a=rng.integers(-1, 4096, n).astype(np.int16),
        sensors=rng.integers(0, 64, n).astype(np.int64),
        vrate_fpm=np.where(rng.random(n) < 0.5, np.nan, rng.normal(0, 1000, n))))
    v = st.view(include_tentative=True)
    assert json.loads(tracks_json(v, st.sensor_names)) == track_dicts(v, st.sensor_names)
    assert tracks_json(LiveState().view(), st.sensor_names) == "[]"


def test_websocket_client_limit(state: LiveState) -> None:
    from starlette.websockets import WebSocketDisconnect

    c = TestClient(create_app(state, ServerConfig(max_clients=1)))
    with c.websocket_connect("/api/v1/stream") as first:
        assert first.receive_json()["type"] == "snapshot"
        first.send_text("ignored")                                 # client text is ignored
        with pytest.raises(WebSocketDisconnect) as e, \
                c.websocket_connect("/api/v1/stream") as second:
            second.receive_json()
        assert e.value.code == 1013
        state.update(rows([1], 1_700_000_100.0))
        diff = first.receive_json()
        assert diff["type"] == "diff" and [t["track_id"] for t in diff["upsert"]] == [1]


def test_answers_validate_against_the_documented_models(state: LiveState) -> None:
    from skyfuse.server.schema import (
        Diff,
        Sensor,
        Snapshot,
        Source,
        TrackDetail,
        TracksResponse,
    )

    c = TestClient(create_app(state))
    TracksResponse.model_validate(c.get("/api/v1/tracks").json(), strict=False)
    TrackDetail.model_validate(c.get("/api/v1/tracks/2").json())
    for s in c.get("/api/v1/sources").json():
        Source.model_validate(s)
    for s in c.get("/api/v1/sensors").json():
        Sensor.model_validate(s)
    with c.websocket_connect("/api/v1/stream") as ws:
        Snapshot.model_validate(ws.receive_json())
        state.update(rows([2, 9], 1_700_000_050.0))
        state.remove([1])
        got = ws.receive_json()
        Diff.model_validate(got)
        while 1 not in got["remove"]:                          # the removal may come apart
            got = ws.receive_json()
            Diff.model_validate(got)


def test_trail_from_the_store_when_longer(state: LiveState, tmp_path: Path) -> None:
    from skyfuse.outputs.history import HistoryStore

    db = tmp_path / "h.sqlite"
    with HistoryStore(db, flush_s=0.05) as store:
        for k in range(30):
            store.publish(rows([2], 1_699_999_710.0 + 10 * k))       # up to the live time
    c = TestClient(create_app(state, history_path=str(db)))
    trail = c.get("/api/v1/tracks/2").json()["trail"]
    assert len(trail) == 30 and trail[0][0] == 1_699_999_710.0     # the store's, all of it
    last = c.get("/api/v1/tracks/2?trail_s=95").json()["trail"]
    assert [p[0] for p in last] == [1_699_999_710.0 + 10 * k for k in range(20, 30)]
    assert len(c.get("/api/v1/tracks/4").json()["trail"]) == 1        # live: store has none


@pytest.mark.parametrize("query", [
    "start=nan", "end=inf", "start=1e400", "bbox=nan,1,2,3", "bbox=91,0,92,1",
    "limit=-5", "limit=abc", "track_id=x", "callsign=" + "A" * 40, "icao24=1234567",
    "format=xml", "start=2021-13-45", "bbox=" + ",".join(["1"] * 50),
    "track_id=99999999999999999999",             # regression: beyond int64 was a 500
])
def test_history_garbage_is_a_4xx(state: LiveState, tmp_path: Path, query: str) -> None:
    from skyfuse.outputs.history import HistoryStore

    db = tmp_path / "h.sqlite"
    HistoryStore(db).close()
    c = TestClient(create_app(state, history_path=str(db)))
    r = c.get(f"/api/v1/history?{query}")
    assert 400 <= r.status_code < 500, (query, r.status_code, r.text)
