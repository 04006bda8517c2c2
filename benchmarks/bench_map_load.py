#!/usr/bin/env python3
"""Web map load benchmark: 10,000 aircraft at 1 Hz, the map against a bare WebGL page.

A child process runs the real server (``skyfuse.server.app.create_app`` over a
``LiveState``, uvicorn, ``WS /api/v1/stream``) and a generator thread that moves ``--n``
synthetic aircraft over Europe (constant speed 180-480 kt, slowly turning, 0-42,000 ft)
and pushes all of them into the state once a second, stamped with the wall clock — or,
with ``--tracker``, feeds them as SBS positions (a quarter of the fleet every 0.25 s, each
aircraft once a second) through the ADS-B ``Pipeline`` (reorder window 0, tracker
included) whose track rows go into the state. Headless Chromium (Debian, software WebGL)
then opens, in turn and in the same browser, the map page and ``benchmarks/web/bare.html``
(the same aircraft drawn by the same renderer, and nothing else), ``--rounds`` times each,
measuring for ``--seconds`` each time:

  frame_ms_median / p95       requestAnimationFrame intervals of the thread that draws the
                              aircraft: the map's render Worker (OffscreenCanvas); the bare
                              page's main thread. The map's main thread is reported too.
  long_task_ms_max / count    PerformanceObserver 'longtask' entries (> 50 ms)
  latency_s_median / p95 / max  data time of an update (its t_last_s) → applied in the page
                              (the main thread's store: count, details, picking)
  arrival_latency_s_median / max  the same → the message's arrival in the stream Worker
                              (the server's and the network's part)
  drawn_latency_s_median / max  the same → applied in the render Worker (drawn next frame)
  ws_bytes_per_s              WebSocket text received by the page per second
  server_cpu_frac             server process CPU time / wall time while the map ran (1.0 =
                              one core), generator thread's own CPU subtracted
  server_rss_mib / peak_rss   resident memory of the server process

Targets (issue 6): map median frame time ≤ 1.5× the bare page's, no long task over 100 ms,
end-to-end latency under 1 s. Prints one JSON line.

    .venv/bin/python benchmarks/bench_map_load.py --n 10000 --seconds 15 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
BARE_HTML = HERE / "web" / "bare.html"
VIEW = {"lat": 48.0, "lon": 10.0, "zoom": 4.0}
BOX = (36.0, 58.0, -12.0, 32.0)                  # lat0, lat1, lon0, lon1 (degrees)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
                 "--disable-gpu", "--enable-unsafe-swiftshader"]
KT_MPS = 1852.0 / 3600.0
R_M = 6371008.8

# -- the server child ----------------------------------------------------------------------


class Fleet:
    """``n`` synthetic aircraft flying rhumb lines inside BOX (turning back at its edge)."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        lat0, lat1, lon0, lon1 = BOX
        self.lat = rng.uniform(lat0, lat1, n)
        self.lon = rng.uniform(lon0, lon1, n)
        self.trk = rng.uniform(0, 360, n)
        self.turn = rng.choice([0.0, 0.0, 0.0, 0.5, -0.5], n)     # deg/s
        self.gs_kt = rng.uniform(180, 480, n)
        self.alt_ft = np.round(rng.uniform(0, 42000, n), -2)
        self.icao = (0x400000 + np.arange(n)).astype(np.int32)
        self.call = np.array([f"BEN{i:05d}".encode() for i in range(n)], "S8")

    def advance(self, dt_s: float) -> None:
        """Fly ``dt_s`` seconds."""
        lat0, lat1, lon0, lon1 = BOX
        self.trk = (self.trk + self.turn * dt_s) % 360
        v = self.gs_kt * KT_MPS
        r = np.radians(self.trk)
        self.lat += np.degrees(v * np.cos(r) * dt_s / R_M)
        self.lon += np.degrees(v * np.sin(r) * dt_s / (R_M * np.cos(np.radians(self.lat))))
        out = (self.lat < lat0) | (self.lat > lat1) | (self.lon < lon0) | (self.lon > lon1)
        self.trk[out] = (self.trk[out] + 180) % 360
        np.clip(self.lat, lat0, lat1, out=self.lat)
        np.clip(self.lon, lon0, lon1, out=self.lon)

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """East and north velocity, m/s."""
        v = self.gs_kt * KT_MPS
        r = np.radians(self.trk)
        return v * np.sin(r), v * np.cos(r)


def _feed_direct(state: Any, fleet: Fleet, t_s: float) -> None:
    from skyfuse.runtime.tracks_csv import TrackRows
    n = len(fleet.lat)
    vx, vy = fleet.velocity()
    state.update(TrackRows(
        t_s=np.full(n, t_s), track_id=np.arange(1, n + 1, dtype=np.int64),
        status=np.ones(n, np.int8), lat_deg=fleet.lat.copy(), lon_deg=fleet.lon.copy(),
        alt_ft=fleet.alt_ft.copy(), icao24=fleet.icao, callsign=fleet.call, vx_mps=vx,
        vy_mps=vy))


def _sbs(fleet: Fleet, sel: np.ndarray, t_s: float, with_ident: bool) -> Any:
    """SBS position messages (MSG 3) of aircraft ``sel``, led by identification (MSG 1)."""
    from skyfuse.ingest.sbs import SbsBatch
    n = len(sel)
    f = np.full(n, np.nan)
    i8 = np.full(n, -1, np.int8)
    pos = SbsBatch(t_s=np.full(n, t_s), msg_type=np.full(n, 3, np.int8),
                   icao24=fleet.icao[sel], callsign=np.full(n, b"", "S8"),
                   alt_ft=fleet.alt_ft[sel], gs_kt=f, track_deg=f, lat_deg=fleet.lat[sel],
                   lon_deg=fleet.lon[sel], vrate_fpm=f, squawk=np.full(n, -1, np.int16),
                   on_ground=i8, offset=np.zeros(n, np.int64))
    if not with_ident:
        return [pos]
    ident = SbsBatch(t_s=np.full(n, t_s), msg_type=np.full(n, 1, np.int8),
                     icao24=fleet.icao[sel], callsign=fleet.call[sel], alt_ft=f, gs_kt=f,
                     track_deg=f, lat_deg=f, lon_deg=f, vrate_fpm=f,
                     squawk=np.full(n, -1, np.int16), on_ground=i8,
                     offset=np.zeros(n, np.int64))
    return [ident, pos]


def child(args: argparse.Namespace) -> int:
    """Run the server and the generator; print ``READY PORT`` once serving."""
    import uvicorn

    from skyfuse.runtime.config import ServerConfig
    from skyfuse.server.app import create_app
    from skyfuse.server.state import LiveState

    state = LiveState(trail_points=8, capacity=args.n + 16)
    app = create_app(state, ServerConfig(ws_interval_s=args.ws_interval))
    fleet = Fleet(args.n)
    stop = threading.Event()
    gen_cpu = {"s": 0.0, "steps": 0, "late": 0}

    pipeline = None
    if args.tracker:
        from skyfuse.runtime.pipeline import Pipeline, PipelineConfig
        pipeline = Pipeline(PipelineConfig(receiver=(VIEW["lat"], VIEW["lon"]), reorder_s=0.0),
                            sink=state.update)

    # Direct: every aircraft once a second, all at the same instant (one 10,000-track diff
    # per second: the page's worst case). Through the tracker: a quarter of the fleet every
    # 0.25 s (each aircraft still at 1 Hz), as a receiver's continuous stream, so the
    # pipeline's data-time watermark advances and steps the tracker every 0.5 s.
    tick_s = 1.0 if pipeline is None else 0.25
    parts = round(1.0 / tick_s)

    def generate() -> None:
        t_next = np.ceil(time.time())
        while not stop.is_set():
            delay = t_next - time.time()
            if delay > 0:
                stop.wait(delay)
            c0 = time.thread_time()
            now = time.time()
            fleet.advance(tick_s)
            if pipeline is None:
                _feed_direct(state, fleet, now)
            else:
                k = gen_cpu["steps"]
                sel = np.arange(k % parts, len(fleet.lat), parts)
                for b in _sbs(fleet, sel, now, with_ident=k < parts or k % (10 * parts) < parts):
                    pipeline.add_sbs(b)
                pipeline.advance()
            gen_cpu["s"] += time.thread_time() - c0
            gen_cpu["steps"] += 1
            t_next += tick_s
            if time.time() > t_next:
                gen_cpu["late"] += 1
                t_next = np.ceil(time.time() / tick_s) * tick_s

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           ws="websockets-sansio"))
    gen = threading.Thread(target=generate, daemon=True)

    def announce() -> None:
        while not server.started:
            time.sleep(0.05)
        gen.start()
        print(f"READY {sock.getsockname()[1]}", flush=True)
        for line in sys.stdin:                       # the parent asks; we answer
            if line.strip() == "STATS":
                print("STATS " + json.dumps({"gen_cpu_s": gen_cpu["s"],
                                             "gen_steps": gen_cpu["steps"],
                                             "gen_late": gen_cpu["late"],
                                             "ws_sent_bytes": app.state.hub.sent_bytes,
                                             "tracks": len(state)}), flush=True)
        stop.set()
        server.should_exit = True

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])
    return 0


# -- the parent: browser side --------------------------------------------------------------

HARNESS = """
(() => {
  const b = { deltas: [], longtasks: [], running: false };
  b.start = () => {
    b.deltas = []; b.longtasks = []; b.running = true; b.t0 = performance.now();
    let last = null;
    const f = (t) => {
      if (!b.running) return;
      if (last !== null) b.deltas.push(t - last);
      last = t;
      requestAnimationFrame(f);
    };
    requestAnimationFrame(f);
  };
  b.stop = () => { b.running = false; return { deltas: b.deltas, longtasks: b.longtasks,
    dur_ms: performance.now() - b.t0 }; };
  try {
    new PerformanceObserver((l) => {
      if (b.running) for (const e of l.getEntries()) b.longtasks.push(e.duration);
    }).observe({ type: 'longtask' });
  } catch (e) { b.noLongTask = String(e); }
  window.__bench = b;
})();
"""


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_mem_mib(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return rss, hwm


class Child:
    """The server child process and its control line."""

    def __init__(self, args: argparse.Namespace) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--n", str(args.n),
               "--ws-interval", str(args.ws_interval)]
        if args.tracker:
            cmd.append("--tracker")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        line = self.p.stdout.readline()                         # type: ignore[union-attr]
        if not line.startswith("READY "):
            raise RuntimeError(f"server child did not start: {line!r}")
        self.port = int(line.split()[1])

    def stats(self) -> dict[str, Any]:
        """The child's generator and hub counters."""
        self.p.stdin.write("STATS\n")                            # type: ignore[union-attr]
        self.p.stdin.flush()                                     # type: ignore[union-attr]
        line = self.p.stdout.readline()                         # type: ignore[union-attr]
        return json.loads(line.split(" ", 1)[1])

    def close(self) -> None:
        """Stop the child."""
        try:
            self.p.stdin.close()                                 # type: ignore[union-attr]
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


def _pct(a: list[float], q: float) -> float | None:
    return round(float(np.percentile(a, q)), 2) if a else None


def _measure(page: Any, seconds: float, overlay: bool) -> dict[str, Any]:
    """Frame intervals and long tasks of one page for ``seconds``. The map draws its
    aircraft in a Worker (OffscreenCanvas): its frames are that Worker's rAF intervals, and
    the main thread's are reported beside them; the bare page draws on its main thread."""
    page.evaluate("window.__bench.start()")
    if overlay:
        page.evaluate("window.__skyfuse.benchFrames(true)")
    page.wait_for_timeout(seconds * 1000)
    r = page.evaluate("window.__bench.stop()")
    main = r["deltas"]
    drawn: list[float] = []
    d = main
    if overlay:
        w = page.evaluate("window.__skyfuse.benchFrames(false)")
        d, drawn = w["deltas"], w["latencies_s"]
    return {"frames": len(d), "frame_ms_median": _pct(d, 50), "frame_ms_p95": _pct(d, 95),
            "main_frame_ms_median": _pct(main, 50),
            "long_task_ms_max": round(max(r["longtasks"]), 1) if r["longtasks"] else 0.0,
            "long_tasks": len(r["longtasks"]), "_deltas": d, "_main": main, "_drawn": drawn,
            "_long": r["longtasks"]}


def run_browser(args: argparse.Namespace, child_: Child) -> dict[str, Any]:
    """Alternate the map and the bare page in one browser; gather their figures."""
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{child_.port}"
    view = f"lat={VIEW['lat']}&lon={VIEW['lon']}&zoom={VIEW['zoom']}"
    w, h = (int(v) for v in args.viewport.split("x"))
    blocked: list[str] = []
    rounds: dict[str, list[dict[str, Any]]] = {"map": [], "bare": []}
    server: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": w, "height": h})
        ctx.add_init_script(HARNESS)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(f"{base}/__bench/bare.html"):
                r.fulfill(body=BARE_HTML.read_text(), content_type="text/html")
            elif url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")):
                r.continue_()
            else:
                blocked.append(url)
                r.abort()

        ctx.route("**/*", route)
        for _ in range(args.rounds):
            page = ctx.new_page()
            page.goto(f"{base}/?{view}")
            page.wait_for_function(f"window.__skyfuse && window.__skyfuse.stats.count >= "
                                   f"{int(args.n * 0.99)}", timeout=120_000)
            page.wait_for_timeout(args.warmup * 1000)
            s0 = page.evaluate("({b: window.__skyfuse.stats.bytes,"
                               " n: window.__skyfuse.stats.latencies_s.length})")
            c0, w0, g0 = _proc_cpu_s(child_.p.pid), time.monotonic(), child_.stats()
            m = _measure(page, args.seconds, overlay=True)
            c1, w1, g1 = _proc_cpu_s(child_.p.pid), time.monotonic(), child_.stats()
            st = page.evaluate("({b: window.__skyfuse.stats.bytes,"
                               " lat: window.__skyfuse.stats.latencies_s.slice(),"
                               " arr: window.__skyfuse.stats.arrival_s.slice(),"
                               " parse: window.__skyfuse.stats.parse_ms.slice(-50),"
                               " apply: window.__skyfuse.stats.apply_ms.slice(-50),"
                               " count: window.__skyfuse.stats.count,"
                               " labels: window.__skyfuse.stats.labels})")
            k = s0["n"]                    # the page keeps the last 600: far more than needed
            m.update(latencies=st["lat"][k:], arrivals=st["arr"][k:], ws_bytes=st["b"] - s0["b"],
                     wall_s=w1 - w0, parse_ms=st["parse"], apply_ms=st["apply"],
                     count=st["count"], labels=st["labels"])
            rss, hwm = _proc_mem_mib(child_.p.pid)
            server.append({"cpu_s": c1 - c0 - (g1["gen_cpu_s"] - g0["gen_cpu_s"]),
                           "gen_cpu_s": g1["gen_cpu_s"] - g0["gen_cpu_s"],
                           "wall_s": w1 - w0, "rss_mib": rss, "hwm_mib": hwm,
                           "sent": g1["ws_sent_bytes"] - g0["ws_sent_bytes"],
                           "gen_late": g1["gen_late"]})
            rounds["map"].append(m)
            page.close()

            page = ctx.new_page()
            page.goto(f"{base}/__bench/bare.html?{view}")
            page.wait_for_function("window.__bare && window.__bare.ready", timeout=60_000)
            page.wait_for_timeout(args.warmup * 1000)
            rounds["bare"].append(_measure(page, args.seconds, overlay=False))
            page.close()
        version = browser.version
        browser.close()
    return {"rounds": rounds, "server": server, "blocked": blocked, "chromium": version}


def summarise(args: argparse.Namespace, got: dict[str, Any]) -> dict[str, Any]:
    """The JSON line: pooled over rounds."""
    mp, bare, srv = got["rounds"]["map"], got["rounds"]["bare"], got["server"]
    pool = lambda rs, k: [v for r in rs for v in r[k]]              # noqa: E731
    md, bd = pool(mp, "_deltas"), pool(bare, "_deltas")
    ml, bl = pool(mp, "_long"), pool(bare, "_long")
    lat = pool(mp, "latencies")
    wall = sum(s["wall_s"] for s in srv)
    out = {
        "bench": "map_load", "n": args.n, "seconds": args.seconds, "rounds": args.rounds,
        "tracker": bool(args.tracker), "viewport": args.viewport,
        "ws_interval_s": args.ws_interval,
        "map_frame_ms_median": _pct(md, 50), "map_frame_ms_p95": _pct(md, 95),
        "map_main_thread_frame_ms_median": _pct(pool(mp, "_main"), 50),
        "bare_frame_ms_median": _pct(bd, 50), "bare_frame_ms_p95": _pct(bd, 95),
        "frame_ratio": (round(_pct(md, 50) / _pct(bd, 50), 3)
                        if md and bd and _pct(bd, 50) else None),
        "map_fps": round(len(md) / (args.seconds * args.rounds), 2),
        "bare_fps": round(len(bd) / (args.seconds * args.rounds), 2),
        "map_long_task_ms_max": round(max(ml), 1) if ml else 0.0,
        "map_long_tasks": len(ml),
        "bare_long_task_ms_max": round(max(bl), 1) if bl else 0.0,
        "bare_long_tasks": len(bl),
        "latency_s_median": _pct(lat, 50), "latency_s_p95": _pct(lat, 95),
        "latency_s_max": round(max(lat), 3) if lat else None,
        "arrival_latency_s_median": _pct(pool(mp, "arrivals"), 50),
        "arrival_latency_s_max": round(max(pool(mp, "arrivals")), 3) if mp else None,
        "drawn_latency_s_median": _pct(pool(mp, "_drawn"), 50),
        "drawn_latency_s_max": round(max(pool(mp, "_drawn")), 3) if pool(mp, "_drawn")
        else None,
        "ws_bytes_per_s": round(sum(r["ws_bytes"] for r in mp) / wall) if wall else None,
        "server_sent_bytes_per_s": round(sum(s["sent"] for s in srv) / wall) if wall else None,
        "worker_parse_ms_median": _pct(pool(mp, "parse_ms"), 50),
        "page_apply_ms_median": _pct(pool(mp, "apply_ms"), 50),
        "page_apply_ms_max": round(max(pool(mp, "apply_ms")), 2) if mp else None,
        "server_cpu_frac": round(sum(s["cpu_s"] for s in srv) / wall, 3) if wall else None,
        "generator_cpu_frac": round(sum(s["gen_cpu_s"] for s in srv) / wall, 3)
        if wall else None,
        "generator_late_steps": srv[-1]["gen_late"] if srv else None,
        "server_rss_mib": round(srv[-1]["rss_mib"], 1) if srv else None,
        "server_peak_rss_mib": round(srv[-1]["hwm_mib"], 1) if srv else None,
        "page_count": mp[-1]["count"] if mp else None,
        "labels": mp[-1]["labels"] if mp else None,
        "blocked_requests": len(got["blocked"]),
        "chromium": got["chromium"], "cpus": os.cpu_count(), "machine": platform.machine(),
        "python": platform.python_version(),
    }
    out["targets"] = {
        "frame_ratio_le_1_5": out["frame_ratio"] is not None and out["frame_ratio"] <= 1.5,
        "no_long_task_over_100_ms": out["map_long_task_ms_max"] <= 100.0,
        "latency_under_1_s": out["latency_s_max"] is not None and out["latency_s_max"] < 1.0,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the child and the browser, print the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="aircraft (default 10,000)")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured s per page and round")
    ap.add_argument("--rounds", type=int, default=2, help="map/bare alternations")
    ap.add_argument("--warmup", type=float, default=3.0, help="s before measuring a page")
    ap.add_argument("--viewport", default="1280x800", help="browser viewport WxH, CSS px")
    ap.add_argument("--ws-interval", type=float, default=0.5,
                    help="server's shortest interval between two WebSocket messages, s")
    ap.add_argument("--tracker", action="store_true",
                    help="feed the aircraft through the ADS-B pipeline and tracker")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    c = Child(args)
    try:
        got = run_browser(args, c)
    finally:
        c.close()
    print(json.dumps(summarise(args, got)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
