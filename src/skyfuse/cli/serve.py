"""``skyfuse serve [--config skyfuse.toml] [flags]``: the live service with API and map.

Sources (live feeds and/or recordings) → tracker → live state, history store, SBS and
CAT062 outputs, the HTTP/WebSocket API and the web map (:mod:`skyfuse.runtime.service`,
:mod:`skyfuse.server.app`). Flags override the file; ``--help`` lists every setting of
the file. When the server accepts connections it prints one line
``skyfuse serving http://HOST:PORT`` (the bound port, also with ``--port 0``). Ctrl-C or
SIGTERM stops it: sources stop, the tracker steps what is buffered, the store is
flushed, exit 0.

Security: binds 127.0.0.1 unless told otherwise; any other address needs a token
(``--token``, ``SKYFUSE_TOKEN`` or ``[server] token``), or it refuses to start (exit 2)
before binding anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import socket
import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from skyfuse.cli.errors import InputError, UsageError
from skyfuse.runtime.config import (
    Config,
    ConfigError,
    FeedConfig,
    describe_settings,
    load_config,
    with_overrides,
)

__all__ = ["HELP", "add_arguments", "run", "run_service"]

HELP = "serve live tracks: feeds or recordings → tracker → API, WebSocket, map, outputs"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse serve``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = describe_settings()
    parser.add_argument("--config", metavar="FILE.toml", help="configuration file "
                        "(see below and docs/skyfuse.example.toml)")
    g = parser.add_argument_group("server")
    g.add_argument("--host", help="bind address (default 127.0.0.1; others need a token)")
    g.add_argument("--port", type=int, help="TCP port (default 8080; 0: any free port)")
    g.add_argument("--token", help="Bearer token required by every request and WebSocket "
                   "(default: $SKYFUSE_TOKEN)")
    g = parser.add_argument_group("sources (repeatable; added to the file's [[feed]])")
    for fmt, port in (("beast", 30005), ("avr", 30002), ("sbs", 30003)):
        g.add_argument(f"--{fmt}", action="append", default=[], metavar="HOST:PORT",
                       help=f"{fmt.upper()} TCP feed, e.g. 127.0.0.1:{port}")
    g.add_argument("--asterix-udp", action="append", default=[], metavar="[HOST:]PORT",
                   help="listen for ASTERIX datagrams on this UDP port")
    g.add_argument("--replay", action="append", default=[], metavar="FILE",
                   help="play a recording (Beast, AVR, SBS, ASTERIX) as if live")
    g.add_argument("--speed", type=float, help="replay speed (default 1: recorded speed; "
                   "0: as fast as the tracker goes)")
    g.add_argument("--loop", action="store_true", default=None, help="loop the recordings")
    g.add_argument("--sensors", metavar="FILE.toml", help="sensor file (radar positions)")
    g.add_argument("--receiver", metavar="LAT,LON", help="Mode S receiver position")
    g = parser.add_argument_group("outputs")
    g.add_argument("--db", metavar="FILE", help="history store (SQLite) to append to")
    g.add_argument("--sbs-out", type=int, metavar="PORT",
                   help="serve SBS BaseStation lines on this TCP port (e.g. 30003)")
    g.add_argument("--cat062-out", metavar="HOST:PORT", help="send ASTERIX CAT062 here (UDP)")


def config_from_args(args: Namespace) -> Config:
    """The file's configuration (or the defaults) with the flags applied."""
    try:
        cfg = load_config(args.config) if args.config else Config()
    except ConfigError as e:
        raise InputError(str(e)) from None
    feeds = [FeedConfig(kind=k, address=a) for k in ("beast", "avr", "sbs")
             for a in getattr(args, k)]
    feeds += [FeedConfig(kind="asterix-udp", address=a) for a in args.asterix_udp]
    token = args.token if args.token is not None else (
        cfg.server.token or os.environ.get("SKYFUSE_TOKEN", ""))
    replay: dict[str, Any] = {"speed": args.speed, "loop": args.loop}
    if args.replay:
        replay["files"] = tuple(cfg.replay.files) + tuple(args.replay)
    return with_overrides(
        cfg, server={"host": args.host, "port": args.port, "token": token},
        feeds=tuple(feeds), replay=replay,
        sensors={"file": args.sensors, "receiver": args.receiver},
        store={"path": args.db},
        outputs={"sbs_port": args.sbs_out, "cat062": args.cat062_out})


def _parse_latlon(text: str) -> tuple[float, float]:
    from skyfuse.cli.decode import parse_latlon
    return parse_latlon(text)


def _check(cfg: Config) -> None:
    """Every check that can fail before anything starts (exit 2 with a clear message)."""
    from skyfuse.runtime.live import parse_hostport
    from skyfuse.server.auth import BindError, check_bind

    try:
        check_bind(cfg.server.host, cfg.server.token)
    except BindError as e:
        raise UsageError(str(e)) from None
    if not 0 <= cfg.server.port < 65536:
        raise UsageError(f"port {cfg.server.port}: must be 0..65535")
    if not 0 <= cfg.outputs.sbs_port < 65536:
        raise UsageError(f"SBS output port {cfg.outputs.sbs_port}: must be 0..65535")
    for key in ("cat062_sac", "cat062_sic"):
        if not 0 <= getattr(cfg.outputs, key) <= 255:
            raise UsageError(f"[outputs] {key} {getattr(cfg.outputs, key)}: must be 0..255")
    if not (math.isfinite(cfg.replay.speed) and cfg.replay.speed >= 0):
        raise UsageError(f"replay speed {cfg.replay.speed}: must be ≥ 0 (0: as fast as "
                         "the tracker goes)")
    if not cfg.runtime.step_s > 0:
        raise UsageError(f"[runtime] step_s {cfg.runtime.step_s}: must be > 0")
    for f in cfg.feeds:
        try:
            parse_hostport(f.address, "0.0.0.0" if f.kind == "asterix-udp" else None)
        except ValueError as e:
            raise UsageError(f"feed {f.kind}: {e}") from None
    if cfg.outputs.cat062:
        try:
            parse_hostport(cfg.outputs.cat062)
        except ValueError as e:
            raise UsageError(f"--cat062-out: {e}") from None
    for path in cfg.replay.files:
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such file")
    if cfg.replay.files:
        from skyfuse.runtime.playback import detect_formats
        try:
            detect_formats(list(cfg.replay.files))
        except ValueError as e:                          # unreadable, or not a recording
            raise InputError(str(e)) from None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _outputs(cfg: Config) -> tuple[list[Any], Any]:
    """The history store and the CAT062 sender (the SBS server starts on the loop)."""
    outs: list[Any] = []
    if cfg.store.path:
        from skyfuse.outputs.history import HistoryError, HistoryStore
        try:
            outs.append(HistoryStore(cfg.store.path, flush_s=cfg.store.flush_s or 1.0,
                                     retention_s=cfg.store.retention_s or None))
        except (HistoryError, OSError) as e:
            raise InputError(f"{cfg.store.path}: {e}") from None
    cat = None
    if cfg.outputs.cat062:
        from skyfuse.outputs.cat062 import Cat062Sender
        from skyfuse.runtime.live import parse_hostport
        host, port = parse_hostport(cfg.outputs.cat062)
        cat = Cat062Sender(host, port, sac=cfg.outputs.cat062_sac, sic=cfg.outputs.cat062_sic)
        outs.append(cat)
    return outs, cat


async def _serve(cfg: Config, sensors: Any, receiver: tuple[float, float] | None,
                 log: Callable[[str], None], ready: Callable[[str], None]) -> None:
    from skyfuse.runtime.service import Service
    from skyfuse.server.app import create_app
    from skyfuse.server.state import LiveState

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    srv = cfg.server
    state = LiveState(trail_points=srv.trail_points, trail_min_dt_s=srv.trail_min_dt_s)
    sock = _bind(srv.host, srv.port)                     # first: nothing to undo if busy
    port = sock.getsockname()[1]
    outputs: list[Any] = []
    try:
        outputs, _ = _outputs(cfg)
        if cfg.outputs.sbs_port:
            from skyfuse.outputs.sbs_out import SbsServer
            sbs = SbsServer(cfg.outputs.sbs_host, cfg.outputs.sbs_port)
            try:
                sbs_port = await sbs.start()
            except OSError as e:
                raise OSError(f"SBS output: cannot listen on {cfg.outputs.sbs_host}:"
                              f"{cfg.outputs.sbs_port}: {e.strerror or e}") from None
            log(f"SBS output on {cfg.outputs.sbs_host}:{sbs_port}")
            outputs.append(sbs)
        service = Service(cfg, state, outputs, sensors=sensors, receiver=receiver, log=log)
        app = create_app(state, srv, history_path=cfg.store.path or None)
    except BaseException:                                # the service never took them
        sock.close()
        for out in outputs:
            with contextlib.suppress(Exception):
                out.close()
        raise
    server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off",
                                         access_log=False, ws_max_size=1 << 16,
                                         timeout_graceful_shutdown=2))
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    running = asyncio.ensure_future(service.run(stop))
    try:
        while not server.started and not serving.done() and not running.done():
            await asyncio.sleep(0.01)
        if server.started:
            host = f"[{srv.host}]" if ":" in srv.host else srv.host
            ready(f"skyfuse serving http://{host}:{port}")
        await asyncio.wait({serving, running, asyncio.ensure_future(stop.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        await asyncio.gather(running, return_exceptions=True)
        app.state.hub.close()
        sock.close()
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(s)
    for task in (running, serving):
        exc = task.exception()
        if exc is not None:
            raise exc


class _QuietServer(uvicorn.Server):
    """uvicorn's server without its own signal handlers (the service owns them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(cfg: Config, prog: str) -> int:
    """Check ``cfg``, then serve until Ctrl-C / SIGTERM; the exit status."""
    _check(cfg)
    sensors = None
    if cfg.sensors.file:
        from skyfuse.measure.sensors import SensorFileError, load_sensors
        try:
            sensors = load_sensors(cfg.sensors.file)
        except (SensorFileError, OSError) as e:
            raise InputError(str(e)) from None
    receiver = _parse_latlon(cfg.sensors.receiver) if cfg.sensors.receiver else None

    def log(line: str) -> None:
        print(f"{prog}: {line}", file=sys.stderr, flush=True)

    def ready(line: str) -> None:
        print(line, flush=True)

    with contextlib.suppress(KeyboardInterrupt):         # a signal before the loop ran
        asyncio.run(_serve(cfg, sensors, receiver, log, ready))
    log("stopped")
    return 0


def run(args: Namespace) -> int:
    """Serve until interrupted; exit 0 after a clean stop."""
    cfg = config_from_args(args)
    _check(cfg)
    if not cfg.feeds and not cfg.replay.files:
        print("skyfuse serve: no source configured (--beast, --avr, --sbs, --asterix-udp, "
              "--replay or [[feed]]): serving an empty picture", file=sys.stderr)
    return run_service(cfg, "skyfuse serve")
