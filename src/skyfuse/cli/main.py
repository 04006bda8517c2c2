"""The ``skyfuse`` command: a table of subcommands, each a module imported only when used.

A subcommand is a module exposing::

    HELP: str                                   # one line, for ``skyfuse --help``
    def add_arguments(parser: ArgumentParser) -> None
    def run(args: Namespace) -> int             # the exit status

and one row in :data:`COMMANDS`. ``skyfuse track ...`` imports ``skyfuse.cli.track`` alone
(start-up stays lean); only ``skyfuse --help`` imports every command module, for its
one-line help.

Exit codes (CONTRACTS.md): 0 success, also after Ctrl-C or SIGTERM; 2 bad input or usage
(:class:`~skyfuse.cli.errors.InputError`, :class:`~skyfuse.cli.errors.UsageError`, or an
argparse error), with a message and no traceback; 1 any other failure, with a one-line
message. ``SKYFUSE_DEBUG=1`` in the environment re-raises unexpected exceptions (traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType, ModuleType

from skyfuse import __version__
from skyfuse.cli.errors import InputError, Interrupted

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: dict[str, str] = {
    # name        module (HELP, add_arguments, run)
    "track": "skyfuse.cli.track",
    "decode": "skyfuse.cli.decode",
    "replay": "skyfuse.cli.replay",
    "run": "skyfuse.cli.run",
    "evaluate": "skyfuse.cli.evaluate",
    "simulate": "skyfuse.cli.simulate",
    "bench-scenario": "skyfuse.cli.bench_scenario",
    "history": "skyfuse.cli.history",
    "serve": "skyfuse.cli.serve",
    "demo": "skyfuse.cli.demo",
}
"""Subcommand name → module path. Add a row for a new command."""


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def _selected(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (first non-option word), if known."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="skyfuse",
        description="skyfuse: the live picture of the sky from many sensors.",
        epilog="Run 'skyfuse COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"skyfuse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name)                         # never used: another command ran
            continue
        if only is None:                                 # listing all: one broken module
            try:                                         # must not hide the others
                mod = _command_module(name)
            except ImportError as e:
                sub.add_parser(name, help=f"(unavailable: {e})")
                continue
        else:
            mod = _command_module(name)                  # ImportError: main() says so
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(_selected(argv))
        args = parser.parse_args(argv)               # exits 2 itself on bad usage
    except KeyboardInterrupt:
        return 0
    except ImportError as e:                         # a command module or its dependency
        if os.environ.get("SKYFUSE_DEBUG"):
            raise
        print(f"skyfuse: error: cannot load a command: {e}", file=sys.stderr)
        return 1
    prog = f"skyfuse {args.command}"
    previous = _install_stop_signals()
    try:
        return int(args._run(args) or 0)
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 0
    except BrokenPipeError:                              # e.g. `skyfuse ... -o - | head`
        _silence_stdout()
        return 0
    except Exception as e:
        if os.environ.get("SKYFUSE_DEBUG"):
            raise
        detail = str(e).splitlines()[0] if str(e) else ""
        print(f"{prog}: error: {type(e).__name__}{': ' if detail else ''}{detail}",
              file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


def _install_stop_signals() -> tuple[object, object] | None:
    """SIGTERM raises :class:`Interrupted` and SIGINT ``KeyboardInterrupt``; returns the
    previous handlers (None off the main thread).

    SIGINT is set explicitly: a shell starts background jobs with SIGINT *ignored*, and
    Python keeps an inherited "ignore", so ``kill -INT`` would not stop ``skyfuse run &``.
    """
    try:
        term = signal.signal(signal.SIGTERM, _on_sigterm)
        return term, signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:                                   # not the main thread
        return None


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
