"""The TOML configuration of ``skyfuse serve``: frozen dataclasses, every setting defaulted.

A file has up to seven sections; every key is optional, an unknown key (or section) is an
error naming it, a value of the wrong type an error naming the key and the type wanted
(:class:`ConfigError`, exit 2). ``docs/skyfuse.example.toml`` shows every setting::

    [server]                    # the HTTP/WebSocket API and the map
    host = "127.0.0.1"          # any non-loopback address requires a token
    port = 8080
    token = ""                  # Bearer token; "" = none (SKYFUSE_TOKEN also sets it)
    ...
    [[feed]]                    # live sources, repeatable
    kind = "beast"              # beast | avr | sbs (TCP clients) | asterix-udp (listener)
    address = "127.0.0.1:30005" # HOST:PORT ([HOST:]PORT for asterix-udp)
    [replay]                    # recordings played as if live
    files = ["flight.avr"]
    ...
    [sensors] [store] [outputs] [runtime]

Command-line flags of ``skyfuse serve`` override the file (:func:`with_overrides`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["FEED_KINDS", "Config", "ConfigError", "FeedConfig", "OutputsConfig",
           "ReplayConfig", "RuntimeConfig", "SensorsConfig", "ServerConfig", "StoreConfig",
           "describe_settings", "load_config", "parse_config", "with_overrides"]

FEED_KINDS = ("beast", "avr", "sbs", "asterix-udp")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, section and key."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """``[server]``: the API, the WebSocket stream and the map."""

    host: str = "127.0.0.1"
    """Bind address; anything but loopback requires ``token``."""
    port: int = 8080
    """TCP port (0: any free port; the readiness line says which)."""
    token: str = ""
    """Bearer token required on every request and WebSocket when set."""
    static_dir: str = ""
    """Folder served at ``/`` (default: the packaged web map)."""
    ws_interval_s: float = 0.5
    """Shortest time between two WebSocket messages to one client, s."""
    max_clients: int = 64
    """Most WebSocket clients at once; more are refused (close code 1013)."""
    include_tentative: bool = False
    """Whether tentative tracks appear in /tracks and the stream by default."""
    trail_points: int = 64
    """Positions kept per track for the live trail."""
    trail_min_dt_s: float = 2.0
    """Least time between two kept trail positions, s."""
    history_limit: int = 10_000
    """Default row limit of /api/v1/history."""
    history_max_limit: int = 100_000
    """Largest row limit a client may ask for."""
    history_max_range_s: float = 86_400.0
    """Longest time range of one history query, s."""
    max_url_bytes: int = 4096
    """Longest request target (path and query) accepted."""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """``[[feed]]``: one live source."""

    kind: str = "beast"
    """beast | avr | sbs (TCP clients of a receiver) | asterix-udp (a UDP listener)."""
    address: str = ""
    """HOST:PORT to connect to, or [HOST:]PORT to listen on for asterix-udp."""
    name: str = ""
    """Name in /api/v1/sources (default KIND:HOST:PORT)."""


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """``[replay]``: recordings played through the pipeline as if live."""

    files: tuple[str, ...] = ()
    """Beast, AVR, SBS or ASTERIX (raw or pcap) recordings, merged in time."""
    speed: float = 1.0
    """Times the recorded rate (1: recorded speed; 0: as fast as the tracker goes)."""
    loop: bool = False
    """Start again at the end; each loop continues in time."""
    shift_to_now: bool = True
    """Shift data times so the recording starts now (tracks look live)."""
    t0_s: float = 0.0
    """UTC time of the first frame of relative 12 MHz counters (before shifting)."""


@dataclass(frozen=True, slots=True)
class SensorsConfig:
    """``[sensors]``: sensor positions and error models."""

    file: str = ""
    """Sensor file (TOML, see skyfuse.measure.sensors): radars by SAC/SIC."""
    receiver: str = ""
    """LAT,LON of the Mode S receiver (surface CPR reference, frame centre)."""
    range_nm: tuple[tuple[str, float], ...] = ()
    """Sensor name → coverage radius shown on the map, NM, e.g. { "Orly" = 80 }
    (default by kind: psr 60, ssr 200, modes 250, adsb 250, mlat 100)."""


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """``[store]``: the history store (SQLite, WAL)."""

    path: str = ""
    """Store file; "" = no history (``skyfuse demo`` uses a temporary one)."""
    flush_s: float = 1.0
    """Longest time between two batched writes, s (a crash loses at most this)."""
    retention_s: float = 0.0
    """Delete updates older than this, s (0: keep everything)."""


@dataclass(frozen=True, slots=True)
class OutputsConfig:
    """``[outputs]``: wire outputs of the tracks."""

    sbs_port: int = 0
    """SBS BaseStation TCP server port (30003 by convention; 0: off)."""
    sbs_host: str = "127.0.0.1"
    """SBS server bind address."""
    cat062: str = ""
    """HOST:PORT to send ASTERIX CAT062 datagrams to ("" = off)."""
    cat062_sac: int = 0
    """SAC of the CAT062 output."""
    cat062_sic: int = 1
    """SIC of the CAT062 output."""


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """``[runtime]``: queues and pipeline timing."""

    queue_items: int = 64
    """Ingest queue length (batches); a full queue makes the sources wait."""
    step_s: float = 0.5
    """Data seconds per tracker step."""
    reorder_s: float = 1.0
    """Reordering window for late frames, s."""
    status_every_s: float = 1.0
    """Period of the feed counters refresh, s."""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration of ``skyfuse serve``."""

    server: ServerConfig = field(default_factory=ServerConfig)
    feeds: tuple[FeedConfig, ...] = ()
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    sensors: SensorsConfig = field(default_factory=SensorsConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


_SECTIONS: dict[str, type] = {
    "server": ServerConfig, "replay": ReplayConfig, "sensors": SensorsConfig,
    "store": StoreConfig, "outputs": OutputsConfig, "runtime": RuntimeConfig,
}


def _value(where: str, key: str, default: Any, v: Any) -> Any:
    """``v`` checked against the type of ``default`` (the field's default)."""
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise ConfigError(f"{where}: {key} must be true or false, got {v!r}")
        return v
    if isinstance(default, int):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where}: {key} must be an integer, got {v!r}")
        if v < 0:
            raise ConfigError(f"{where}: {key} must be ≥ 0, got {v}")
        return v
    if isinstance(default, float):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{where}: {key} must be a number, got {v!r}")
        if v < 0:
            raise ConfigError(f"{where}: {key} must be ≥ 0, got {v}")
        return float(v)
    if isinstance(default, str):
        if not isinstance(v, str):
            raise ConfigError(f"{where}: {key} must be a string, got {v!r}")
        return v
    if key == "range_nm":
        if not isinstance(v, dict):
            raise ConfigError(f"{where}: {key} must be a table of name = NM")
        return tuple((str(k), _value(where, f"{key}.{k}", 0.0, x)) for k, x in v.items())
    if isinstance(default, tuple):
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"{where}: {key} must be a list of strings, got {v!r}")
        return tuple(v)
    raise ConfigError(f"{where}: {key}: unsupported setting")  # pragma: no cover


def _section(where: str, cls: type, table: Any) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    defaults = cls()
    vals = {k: _value(where, k, getattr(defaults, k), v) for k, v in table.items()}
    return cls(**vals)


def _feed(where: str, table: Any) -> FeedConfig:
    feed = _section(where, FeedConfig, table)
    if feed.kind not in FEED_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(FEED_KINDS)}, "
                          f"got {feed.kind!r}")
    if not feed.address:
        raise ConfigError(f"{where}: address is required (HOST:PORT)")
    return feed


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse configuration text; ``source`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    parts: dict[str, Any] = {}
    for name, table in doc.items():
        if name == "feed":
            if not isinstance(table, list):
                raise ConfigError(f"{source}: feed must be an array of tables ([[feed]])")
            parts["feeds"] = tuple(_feed(f"{source}: feed[{i}]", t)
                                   for i, t in enumerate(table))
        elif name in _SECTIONS:
            parts[name] = _section(f"{source}: [{name}]", _SECTIONS[name], table)
        else:
            raise ConfigError(f"{source}: unknown section {name!r} (known: "
                              f"{', '.join([*_SECTIONS, 'feed'])})")
    return Config(**parts)


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file (raises :class:`ConfigError`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read: {e}") from None
    return parse_config(text, str(p))


def with_overrides(cfg: Config, **sections: dict[str, Any]) -> Config:
    """``cfg`` with some settings replaced, e.g. ``server={"port": 9000}``; ``feeds`` is
    a tuple of :class:`FeedConfig` added to the file's."""
    parts: dict[str, Any] = {}
    for name, changes in sections.items():
        if name == "feeds":
            parts["feeds"] = cfg.feeds + tuple(changes)
            continue
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            parts[name] = dataclasses.replace(getattr(cfg, name), **changes)
    return dataclasses.replace(cfg, **parts)


def describe_settings() -> str:
    """Every setting of the file, its default and its meaning (for ``serve --help``),
    read from the attribute docstrings above (one source of truth)."""
    import ast
    import inspect
    import sys

    tree = ast.parse(inspect.getsource(sys.modules[__name__]))
    docs: dict[tuple[str, str], str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            body = node.body
            for a, b in itertools.pairwise(body):
                if (isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name)
                        and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant)):
                    docs[(node.name, a.target.id)] = " ".join(str(b.value.value).split())
    lines = ["configuration file settings (TOML; every one optional):"]
    for section, cls in (("server", ServerConfig), ("[feed]", FeedConfig),
                         *((n, c) for n, c in _SECTIONS.items() if n != "server")):
        lines.append(f"  [{section}]")
        defaults = cls()
        for f in fields(cls):
            d = getattr(defaults, f.name)
            shown = ("[]" if d == () else "true" if d is True else "false" if d is False
                     else repr(d) if isinstance(d, str) else str(d))
            lines.append(f"    {f.name} = {shown}")
            lines.append(f"        {docs.get((cls.__name__, f.name), '')}")
    return "\n".join(lines)
