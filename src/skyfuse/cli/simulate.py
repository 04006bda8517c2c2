"""``skyfuse simulate SCENARIO.toml -o DIR [--seed N] [--disable SENSOR]``.

Flies the scenario's real trajectories past its simulated sensors and writes their
recordings (ASTERIX pcap per radar, Beast/AVR for ADS-B), ``truth.csv``, ``sensors.toml``
and ``scenario.json`` into DIR (:mod:`skyfuse.sim.simulate`). One summary line on stderr.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser, Namespace

from skyfuse.cli.errors import InputError

__all__ = ["HELP", "add_arguments", "run", "simulate_args"]

HELP = "simulate radars and ADS-B over real flights: recordings + truth.csv in DIR"


def add_arguments(parser: ArgumentParser) -> None:
    """Options of ``skyfuse simulate``."""
    parser.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="directory for the recordings, truth.csv, sensors.toml")
    add_simulate_options(parser)


def add_simulate_options(parser: ArgumentParser) -> None:
    """``--seed`` and ``--disable``, shared with ``bench-scenario``."""
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: the scenario's)")
    parser.add_argument("--disable", action="append", default=[], metavar="SENSOR",
                        help="switch a sensor off: a radar's name, or 'adsb' (repeatable)")


def simulate_args(args: Namespace, out_dir: str) -> dict[str, object]:
    """Load ``args.scenario`` and simulate it into ``out_dir``; InputError on bad input."""
    from skyfuse.sim.scenario import ScenarioError, load_scenario
    from skyfuse.sim.simulate import simulate

    try:
        sc = load_scenario(args.scenario, args.disable)
    except ScenarioError as e:
        raise InputError(str(e)) from None
    try:
        return simulate(sc, out_dir, args.seed)
    except FileNotFoundError as e:
        raise InputError(f"{args.scenario}: trajectories: {e.filename}: not found") from None


def run(args: Namespace) -> int:
    """Simulate; exit 0 (2 on a bad scenario)."""
    meta = simulate_args(args, args.output)
    files = meta["files"]
    assert isinstance(files, list)
    parts = [f"{f['path']} ({f.get('datagrams', f.get('frames', 0))} "
             f"{'datagrams' if f['kind'] == 'asterix' else 'frames'})" for f in files
             if f["kind"] in ("asterix", "adsb")]
    truth = meta["truth"]
    assert isinstance(truth, dict)
    print(f"skyfuse simulate: {meta['scenario']}: {', '.join(parts) or 'no sensors'}; "
          f"truth {truth['rows']} rows, {truth['segments']} flights → {args.output}",
          file=sys.stderr)
    return 0
