"""Exceptions a command raises to choose its exit code (see CONTRACTS.md, "Exit codes").

| raised                    | exit | stderr                                             |
|---------------------------|------|----------------------------------------------------|
| :class:`InputError`       | 2    | ``skyfuse CMD: error: MESSAGE`` (no traceback)     |
| :class:`UsageError`       | 2    | the same; for a bad combination of options         |
| :class:`Interrupted`      | 0    | raised by the SIGTERM handler; like Ctrl-C         |
| anything else             | 1    | ``skyfuse CMD: error: MESSAGE`` (one line)         |

The message of an :class:`InputError` must name the file, the line or record, and what is
wrong, e.g. ``plots.csv: line 17: column y_m: 'abc' is not a number``.
"""

from __future__ import annotations

__all__ = ["InputError", "Interrupted", "UsageError"]


class InputError(Exception):
    """Bad input: the message names the file, the line or record, and what is wrong (exit 2)."""


class UsageError(InputError):
    """Bad usage of a command: options that do not go together, a missing argument (exit 2)."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM arrived: a long-running command stops as cleanly as after Ctrl-C (exit 0)."""
