"""``skyfuse demo``: the live map on a bundled recording, with no argument and no network.

Loops the recording in ``skyfuse/data/demo/`` (simulated Mode S radar and ADS-B over real
flights, see its README.md) at recorded speed through the whole pipeline — ingest, decode,
tracker, history store, API, WebSocket, map — with data times shifted to the wall clock
so the tracks look live; each loop continues in time, the previous loop's tracks die off
by the tracker's own rules. Serves http://127.0.0.1:8080 (``--port``), prints
``skyfuse serving http://127.0.0.1:8080`` once the server accepts connections, and stops
on Ctrl-C / SIGTERM with exit 0. The history store goes to a temporary folder (removed
at exit) unless ``--db`` names a file.

The folder's layout (``--data`` points at another one): recordings (any file the
recording detector recognises: Beast, AVR, SBS, ASTERIX raw or pcap), ``sensors.toml``
(radar positions and error models) and ``scenario.json`` (its ``reference`` [lat, lon]
is the receiver position / frame centre).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from argparse import ArgumentParser, Namespace
from pathlib import Path

from skyfuse.cli.errors import InputError, UsageError
from skyfuse.runtime.config import (
    Config,
    ReplayConfig,
    SensorsConfig,
    ServerConfig,
    StoreConfig,
)

__all__ = ["HELP", "add_arguments", "demo_config", "demo_dir", "run"]

HELP = "the live map on a bundled recording (no argument, no network): http://127.0.0.1:8080"

_NOT_RECORDINGS = {".toml", ".json", ".md", ".csv", ".txt", ".py", ".gz", ".npz"}


def demo_dir() -> Path:
    """The bundled demo folder inside the installed package."""
    return Path(__file__).resolve().parent.parent / "data" / "demo"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse demo`` (all optional)."""
    parser.add_argument("--port", type=int, default=8080,
                        help="TCP port on 127.0.0.1 (default 8080; 0: any free port)")
    parser.add_argument("--db", metavar="FILE",
                        help="history store to append to (default: a temporary file)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="playback speed (default 1: recorded speed)")
    parser.add_argument("--data", metavar="DIR",
                        help="another recording folder with the bundled layout")


def _recordings(folder: Path) -> list[str]:
    from skyfuse.ingest.stream import detect_file

    files = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() in _NOT_RECORDINGS or p.name.startswith("."):
            continue
        try:
            if detect_file(p) is not None:
                files.append(str(p))
        except OSError:
            continue
    return files


def _reference(folder: Path) -> str:
    path = folder / "scenario.json"
    if not path.is_file():
        return ""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not readable JSON: {e}") from None
    ref = doc.get("reference") if isinstance(doc, dict) else None
    if isinstance(ref, dict):
        ref = [ref.get("lat_deg"), ref.get("lon_deg")]
    if (isinstance(ref, list) and len(ref) == 2
            and all(isinstance(v, int | float) for v in ref)):
        return f"{float(ref[0])},{float(ref[1])}"
    return ""


def demo_config(folder: Path, port: int, db: str, speed: float) -> Config:
    """The configuration ``skyfuse demo`` serves with."""
    if not folder.is_dir():
        raise InputError(f"{folder}: the demo recording folder is missing")
    files = _recordings(folder)
    if not files:
        raise InputError(f"{folder}: no recording (Beast, AVR, SBS or ASTERIX) in the folder")
    sensors = folder / "sensors.toml"
    return Config(
        server=ServerConfig(host="127.0.0.1", port=port),
        replay=ReplayConfig(files=tuple(files), speed=speed, loop=True, shift_to_now=True),
        sensors=SensorsConfig(file=str(sensors) if sensors.is_file() else "",
                              receiver=_reference(folder)),
        store=StoreConfig(path=db))


def run(args: Namespace) -> int:
    """Serve the demo until interrupted; exit 0."""
    from skyfuse.cli.serve import run_service

    if args.speed <= 0:
        raise UsageError("--speed must be > 0")
    folder = Path(args.data) if args.data else demo_dir()
    tmp = None
    db = args.db
    if not db:
        tmp = tempfile.mkdtemp(prefix="skyfuse-demo-")
        db = str(Path(tmp) / "history.sqlite")
    try:
        cfg = demo_config(folder, args.port, db, args.speed)
        print(f"skyfuse demo: playing {', '.join(Path(f).name for f in cfg.replay.files)} "
              f"in a loop; history in {db}", file=sys.stderr, flush=True)
        return run_service(cfg, "skyfuse demo")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
