"""The web map in headless Chromium (Debian ``chromium`` driven by Playwright).

One real server (``skyfuse.server.app.create_app`` over a :class:`LiveState`, with a
token, so every asset and API call must carry the page's ``?token=``) serves a fixed
picture built from real trajectories (``skyfuse/data/trajectories/switzerland.npz``):
each aircraft's last few positions before a reference time, shifted so that the
reference time is now. The browser may only reach 127.0.0.1: every other request is
aborted and recorded, and the tests assert that none was attempted (basemap and fonts are
local). Checks: the page's aircraft count equals the state's, a symbol is drawn where the
map projects its track, clicking it shows its callsign and trail, a WebSocket diff
(new and removed tracks) reaches the page, the history slider replays the stored picture
(and stays live without a store), the feed and sensor panels fill, online tiles are asked
for only on request and without the token, and the committed build matches ``web/``.
Screenshots are kept in ``artifacts/map.png`` and
``artifacts/map-selected.png`` (an aircraft clicked: details and trail).
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from skyfuse.runtime.config import ServerConfig
from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.server.state import LiveState, SensorInfo, SourceStatus

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
TRAJECTORIES = ROOT / "src" / "skyfuse" / "data" / "trajectories" / "switzerland.npz"
TOKEN = "map-test-token"
KT_MPS = 1852.0 / 3600.0
HOLD_S = 30.0                    # replay.js: a track shows at T if its row is ≤ 30 s old
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
                 "--disable-gpu", "--enable-unsafe-swiftshader"]


@dataclass
class Picture:
    """The fixed picture: per update batch TrackRows, in time order, and the callsigns."""

    batches: list[TrackRows]
    callsign: dict[int, str]
    t_ref_s: float


def _picture(now_s: float) -> Picture:
    """Each aircraft's positions in the 10 minutes before the trajectories' reference time
    (their window's middle), as update batches of 10 s, shifted to end at ``now_s``."""
    d = np.load(TRAJECTORIES)
    t_s = d["t_ms"] / 1000.0
    t_ref = float(d["window_ms"].mean() / 1000.0)
    keep = (t_s > t_ref - 600.0) & (t_s <= t_ref) & ~d["onground"]
    t = t_s[keep] - t_ref + now_s
    ac = d["aircraft"][keep].astype(np.int64)
    trk = np.radians(d["track_deg"][keep].astype(np.float64))
    gs = d["gs_kt"][keep].astype(np.float64) * KT_MPS
    calls = d["callsigns"][d["callsign_index"][keep]]
    icao = np.array([int(h, 16) for h in d["icao24"]], np.int32)[d["aircraft"][keep]]
    tid = ac + 1
    status = np.where(tid % 7 == 0, 2, 1).astype(np.int8)        # some coasting
    all_rows = TrackRows(
        t_s=t, track_id=tid, status=status, lat_deg=d["lat_deg"][keep].astype(np.float64),
        lon_deg=d["lon_deg"][keep].astype(np.float64),
        alt_ft=d["alt_ft"][keep].astype(np.float64), icao24=icao,
        callsign=np.char.encode(calls.astype(str), "ascii").astype("S8"),
        vx_mps=gs * np.sin(trk), vy_mps=gs * np.cos(trk))
    edges = np.arange(now_s - 600.0, now_s + 10.0, 10.0)
    batches = []
    for a, b in itertools.pairwise(edges):
        sel = np.flatnonzero((t > a) & (t <= b))
        if len(sel):
            batches.append(all_rows.take(sel))
    callsign = {int(i): str(c) for i, c in zip(tid.tolist(), calls.tolist(), strict=True)}
    return Picture(batches, callsign, now_s)


class _Uvicorn:
    """A uvicorn server for ``app`` in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: object) -> None:
        import uvicorn
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        cfg = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> _Uvicorn:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@dataclass
class Served:
    """The running server, its state and the picture it was filled with."""

    url: str
    state: LiveState
    picture: Picture


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real app over a state (and history store) filled with the picture."""
    from skyfuse.outputs.history import HistoryStore
    from skyfuse.server.app import create_app

    db = str(tmp_path_factory.mktemp("map") / "history.sqlite")
    pic = _picture(time.time())
    state = LiveState()
    with HistoryStore(db) as store:
        for rows in pic.batches:
            state.update(rows)
            store.publish(rows)
        store.flush()
    state.set_sensors([SensorInfo("radar-geneva", "radar", 46.238, 6.109, 420.0, 60.0),
                       SensorInfo("adsb-zurich", "adsb", 47.458, 8.548, 430.0, 180.0)])
    state.set_sources([SourceStatus("beast:127.0.0.1:30005", "beast", True, 12345, 3, 250.0,
                                    time.time())])
    app = create_app(state, ServerConfig(token=TOKEN, ws_interval_s=0.2), history_path=db)
    with _Uvicorn(app) as server:
        yield Served(f"http://127.0.0.1:{server.port}/?token={TOKEN}", state, pic)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    """Chromium (the Debian package, never a downloaded one) through Playwright."""
    from conftest import require_peer
    chromium = require_peer("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Loaded:
    """An open map page and what it asked the network for."""

    page: Page
    local: list[str]
    blocked: list[str]
    errors: list[str]


@pytest.fixture(scope="module")
def loaded(browser: Browser, served: Served) -> Iterator[Loaded]:
    """The map page, loaded with every non-127.0.0.1 request aborted."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    got = Loaded(page, [], [], [])

    def route(r: Route) -> None:
        url = r.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")):
            got.local.append(url)
            r.continue_()
        else:
            got.blocked.append(url)
            r.abort()

    ctx.route("**/*", route)
    page.on("pageerror", lambda e: got.errors.append(str(e)))
    page.on("requestfailed", lambda r: got.errors.append(f"failed: {r.url}")
            if "127.0.0.1" in r.url else None)
    page.goto(served.url + "&lat=46.8&lon=8.2&zoom=6.6")
    page.wait_for_function("document.body.dataset.ready === 'true'"
                           " && window.__skyfuse.stats.count > 0", timeout=30_000)
    page.wait_for_function("window.__skyfuse.stats.labels > 0", timeout=10_000)
    page.wait_for_timeout(800)                  # labels placed, glyphs drawn
    yield got
    ctx.close()


def _live_ids(state: LiveState) -> set[int]:
    return set(state.view().track_id.tolist())


def _count(page: Page) -> int:
    return int(page.get_attribute("#count", "data-count"))


def test_map_loads_offline_with_every_live_track(loaded: Loaded, served: Served) -> None:
    page = loaded.page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    assert loaded.blocked == [], "the map tried to reach the network"
    assert loaded.errors == []
    paths = {u.split("?")[0].split("/", 3)[-1] for u in loaded.local}
    for needed in ("basemap/countries.json", "basemap/coast.json", "basemap/borders.json",
                   "fonts/noto-sans-latin-600-normal.woff2", "maplibre-gl-worker.mjs",
                   "render-worker.js", "stream-worker.js"):
        assert needed in paths, needed
    assert all(f"token={TOKEN}" in u for u in loaded.local), "an asset went without token"
    n = len(served.state)
    assert n > 20
    assert _count(page) == n
    ids = page.evaluate("window.__skyfuse.trackIds()")
    assert set(int(i) for i in ids) == _live_ids(served.state)


def _confirmed_on_screen(page: Page, state: LiveState) -> list[tuple[int, list[float]]]:
    """Confirmed tracks whose symbol is well inside the view, with their screen position
    now (one round trip)."""
    v = state.view()
    ids = v.track_id[v.status == 1].tolist()
    pos = page.evaluate("(ids) => ids.map((i) => window.__skyfuse.screenPosition(i))", ids)
    return [(t, p) for t, p in zip(ids, pos, strict=True)
            if p and 80 < p[0] < 1200 and 80 < p[1] < 680]


def test_symbols_are_drawn_where_the_map_projects_them(loaded: Loaded,
                                                       served: Served) -> None:
    page = loaded.page
    on = _confirmed_on_screen(page, served.state)
    # The overlay's next frame, read by the render Worker; positions from MapLibre's own
    # map.project, taken at the same moment (the aircraft move < 1 px meanwhile).
    pts = [p for _, p in on] + [[p[0] + 40, p[1] + 40] for _, p in on]
    px = page.evaluate("(pts) => window.__skyfuse.probe(pts)", pts)
    got = [(p, a, b) for p, a, b in zip(pts, px[:len(on)], px[len(on):], strict=False)]
    assert len(got) >= 5
    # On each projected position the overlay holds a symbol (opaque, or faded to 45 % once
    # its last update is over 5 s old); 40 px beside it, mostly nothing.
    assert sum(g[1][3] >= 100 for g in got) >= 0.9 * len(got), [g[1] for g in got]
    assert sum(g[2][3] == 0 for g in got) >= 0.8 * len(got), [g[2] for g in got]


def test_click_shows_callsign_and_trail(loaded: Loaded, served: Served) -> None:
    page = loaded.page
    on = _confirmed_on_screen(page, served.state)
    assert on
    tid, _ = on[len(on) // 2]
    x, y = page.evaluate(f"window.__skyfuse.screenPosition({tid})")
    page.mouse.click(x, y)
    page.wait_for_selector("#details:not([hidden])", timeout=5000)
    picked = int(page.get_attribute("#details", "data-track-id"))
    # The click picks the nearest symbol: the one aimed at unless another overlaps it.
    x2, y2 = page.evaluate(f"window.__skyfuse.screenPosition({picked})")
    assert (x2 - x) ** 2 + (y2 - y) ** 2 <= 14 ** 2
    want = served.picture.callsign[picked]
    assert page.text_content("#details-callsign") == want
    assert want in page.text_content("#details-table")
    page.wait_for_function("Number(document.getElementById('details').dataset.trailPoints)"
                           " >= 2", timeout=5000)
    page.wait_for_timeout(300)                                  # the trail drawn
    page.screenshot(path=str(ARTIFACTS / "map-selected.png"))
    page.click("#details-close")
    assert page.is_hidden("#details")


def test_stream_diff_adds_and_removes_tracks(loaded: Loaded, served: Served) -> None:
    page = loaded.page
    state = served.state
    before = _live_ids(state)
    gone = sorted(before)[:3]
    now = time.time()
    new = TrackRows(t_s=np.full(2, now), track_id=np.array([9001, 9002], np.int64),
                    status=np.ones(2, np.int8), lat_deg=np.array([46.5, 46.6]),
                    lon_deg=np.array([7.0, 7.1]), alt_ft=np.array([12000.0, 31000.0]),
                    icao24=np.array([0x4B0001, 0x4B0002], np.int32),
                    callsign=np.array([b"SWR1", b"SWR2"]), vx_mps=np.zeros(2),
                    vy_mps=np.full(2, 200.0))
    state.update(new)
    state.remove(gone)
    want = len(before) - 3 + 2
    page.wait_for_function(f"window.__skyfuse.stats.count === {want}", timeout=10_000)
    ids = set(int(i) for i in page.evaluate("window.__skyfuse.trackIds()"))
    assert ids == _live_ids(state)
    assert {9001, 9002} <= ids and not set(gone) & ids


def _expected_at(pic: Picture, T: float) -> int:
    last: dict[int, float] = {}
    for rows in pic.batches:
        for tid, t in zip(rows.track_id.tolist(), rows.t_s.tolist(), strict=True):
            if t <= T:
                last[tid] = max(t, last.get(tid, -np.inf))
    return sum(T - t <= HOLD_S for t in last.values())


def test_history_slider_replays_then_returns_live(loaded: Loaded, served: Served) -> None:
    page = loaded.page
    page.select_option("#time-window", "5")
    page.eval_on_selector("#time-slider", "(s) => { s.value = '500';"
                          " s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.body.dataset.mode === 'replay'"
                           " && Number(document.getElementById('replay').dataset.rows) > 0",
                           timeout=10_000)
    page.wait_for_function("document.getElementById('count').dataset.mode === 'replay'",
                           timeout=5000)
    T = page.evaluate("window.__skyfuse.clock.replay_s")
    assert served.picture.t_ref_s - 300 < T < served.picture.t_ref_s
    assert _count(page) == _expected_at(served.picture, T)
    assert "(replay)" in page.text_content("#count")
    page.click("#play")                                   # 10× by default
    page.wait_for_function(f"window.__skyfuse.clock.now_s() > {T + 5}", timeout=5000)
    page.click("#play")                                   # pause
    paused = page.evaluate("window.__skyfuse.clock.now_s()")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__skyfuse.clock.now_s()") == paused
    page.click("#live")
    page.wait_for_function("document.getElementById('count').dataset.mode === 'live'",
                           timeout=5000)
    page.wait_for_function(f"window.__skyfuse.stats.count === {len(served.state)}",
                           timeout=5000)


def test_feed_and_sensor_panels(loaded: Loaded) -> None:
    page = loaded.page
    page.wait_for_function("document.getElementById('feeds').dataset.feeds === '1'",
                           timeout=10_000)
    assert "beast:127.0.0.1:30005" in page.text_content("#feeds")
    assert page.get_attribute("#map", "data-sensors") == "2"


def test_online_tiles_only_when_asked_and_without_the_token(browser: Browser,
                                                           served: Served) -> None:
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    asked: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")):
            r.continue_()
        else:
            asked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    try:
        page = ctx.new_page()
        page.goto(served.url + "&tiles=https://tiles.example.org/{z}/{x}/{y}.png"
                  "&lat=46.8&lon=8.2&zoom=6")
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
        page.wait_for_timeout(500)
    finally:
        ctx.close()
    assert asked, "the tile layer asked for nothing"
    assert all(re.fullmatch(r"https://tiles\.example\.org/\d+/\d+/\d+\.png", u)
               for u in asked), asked
    assert not any("token" in u for u in asked)


def test_committed_build_matches_the_sources(tmp_path: Path) -> None:
    """``src/skyfuse/web/static`` is what ``web/build.mjs`` makes of ``web/`` (needs Node
    and ``web/node_modules`` from ``scripts/build-web.sh``; skipped without them)."""
    import filecmp
    import shutil
    import subprocess

    node = shutil.which("node")
    web = ROOT / "web"
    if node is None or not (web / "node_modules" / "maplibre-gl").is_dir():
        pytest.skip("needs node and web/node_modules (scripts/build-web.sh)")
    subprocess.run([node, str(web / "build.mjs"), str(tmp_path / "static")], check=True,
                   capture_output=True, timeout=120)
    built = ROOT / "src" / "skyfuse" / "web" / "static"
    names = sorted(p.relative_to(tmp_path / "static").as_posix()
                   for p in (tmp_path / "static").rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(built).as_posix()
                           for p in built.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "static", built, names, shallow=False)
    assert mismatch == [] and errors == [], "rebuild with scripts/build-web.sh"


def test_slider_without_a_history_store_stays_live(browser: Browser, served: Served) -> None:
    from skyfuse.server.app import create_app

    app = create_app(served.state, ServerConfig(ws_interval_s=0.2))       # no store: 503
    with _Uvicorn(app) as server:
        ctx = browser.new_context(viewport={"width": 800, "height": 600})
        ctx.route("**/*", lambda r: r.continue_()
                  if r.request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:"))
                  else r.abort())
        try:
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{server.port}/?lat=46.8&lon=8.2&zoom=6")
            page.wait_for_function("window.__skyfuse && window.__skyfuse.stats.count > 0",
                                   timeout=30_000)
            page.eval_on_selector("#time-slider", "(s) => { s.value = '300';"
                                  " s.dispatchEvent(new Event('input')); }")
            page.wait_for_function("document.getElementById('time-text').textContent"
                                   " === 'no history'", timeout=10_000)
            assert page.evaluate("document.body.dataset.mode") == "live"
            assert _count(page) == len(served.state)
        finally:
            ctx.close()
