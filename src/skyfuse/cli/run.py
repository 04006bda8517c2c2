"""``skyfuse run --beast HOST:PORT ... -o TRACKS``: track live feeds until Ctrl-C / SIGTERM.

Sources (each repeatable): ``--beast``, ``--avr``, ``--sbs`` (TCP clients of dump1090,
readsb ...: reconnect with back-off), ``--asterix-udp [HOST:]PORT`` (a UDP listener).
TRACKS rows are flushed at least every second; per-feed counters are logged to stderr
every ``--log-every`` seconds and at the end. Ctrl-C or SIGTERM stops the feeds, steps the
reports still buffered, flushes TRACKS and exits 0 (CONTRACTS.md).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from argparse import ArgumentParser, Namespace

from skyfuse.cli.decode import parse_latlon
from skyfuse.cli.errors import UsageError
from skyfuse.cli.replay import add_pipeline_options, open_output
from skyfuse.runtime.live import FeedSpec, LiveRunner, parse_hostport
from skyfuse.runtime.pipeline import Pipeline, PipelineConfig, tracker_config_for
from skyfuse.runtime.tracks_csv import TracksWriter

__all__ = ["HELP", "add_arguments", "run"]

HELP = "track live feeds (Beast/AVR/SBS over TCP, ASTERIX over UDP) into a TRACKS CSV"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse run``."""
    for fmt, port in (("beast", 30005), ("avr", 30002), ("sbs", 30003)):
        parser.add_argument(f"--{fmt}", action="append", default=[], metavar="HOST:PORT",
                            help=f"{fmt.upper()} TCP feed, e.g. 127.0.0.1:{port} (repeatable)")
    parser.add_argument("--asterix-udp", action="append", default=[], metavar="[HOST:]PORT",
                        help="listen for ASTERIX datagrams on this UDP port (repeatable)")
    parser.add_argument("-o", "--output", required=True, metavar="TRACKS",
                        help="TRACKS CSV to write ('-' for stdout)")
    add_pipeline_options(parser, "UTC time of the run's first frame for 12 MHz counters")
    parser.add_argument("--log-every", type=float, default=10.0, metavar="S",
                        help="seconds between per-feed counter logs (default 10)")


def _specs(args: Namespace) -> list[FeedSpec]:
    specs: list[FeedSpec] = []
    try:
        for fmt in ("beast", "avr", "sbs"):
            for text in getattr(args, fmt):
                specs.append(FeedSpec(fmt, *parse_hostport(text)))
        for text in args.asterix_udp:
            specs.append(FeedSpec("asterix-udp", *parse_hostport(text, "0.0.0.0")))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not specs:
        raise UsageError("no source: give --beast, --avr, --sbs or --asterix-udp")
    return specs


def _log(line: str) -> None:
    print(f"skyfuse run: {line}", file=sys.stderr, flush=True)


async def _main(runner: LiveRunner) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    sigs = (signal.SIGINT, signal.SIGTERM)
    for s in sigs:
        loop.add_signal_handler(s, stop.set)
    try:
        await runner.run(stop)
    finally:
        for s in sigs:
            loop.remove_signal_handler(s)


def run(args: Namespace) -> int:
    """Run the live feeds until interrupted; exit 0 after a clean stop."""
    specs = _specs(args)
    receiver = parse_latlon(args.receiver) if args.receiver else None
    sensors = None
    if args.sensors:
        from skyfuse.measure.sensors import SensorFileError, load_sensors
        try:
            sensors = load_sensors(args.sensors)         # fail early, with exit 2
        except (SensorFileError, OSError) as e:
            raise UsageError(str(e)) from None
    out = open_output(args.output)
    writer = TracksWriter(out)
    pipe = Pipeline(PipelineConfig(receiver=receiver, tracker=tracker_config_for(sensors)),
                    sink=writer.write)
    runner = LiveRunner(pipe, specs, writer.flush, t0_s=args.t0, sensors_path=args.sensors,
                        feed_sensor_base=0 if sensors is None else len(sensors),
                        log=_log, log_every_s=args.log_every)
    _log("sources " + ", ".join(s.name for s in specs))
    try:
        asyncio.run(_main(runner))
    except KeyboardInterrupt:                            # a signal before the loop ran
        pass
    finally:
        writer.flush()
        if out is not sys.stdout:
            out.close()
    dc = pipe.decoder.counters
    _log(f"stopped: frames {dc.frames}, positions {dc.positions}, "
         f"tracks {pipe.tracker.next_track_id - 1}, rows {writer.rows}")
    return 0
