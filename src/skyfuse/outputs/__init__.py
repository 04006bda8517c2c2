"""Outputs: where track updates go after the tracker (DESIGN.md, "Outputs").

Every output implements :class:`skyfuse.outputs.base.TrackOutput` (``publish(rows)`` that
never blocks the tracker, ``close()``), one module each:

| module                          | output                                                  |
|---------------------------------|---------------------------------------------------------|
| :mod:`skyfuse.outputs.history`  | SQLite (WAL) history store; ``query_history``, ``trail`` |
| :mod:`skyfuse.outputs.sbs_out`  | SBS BaseStation lines on TCP (port 30003 convention)    |
| :mod:`skyfuse.outputs.cat062`   | ASTERIX CAT062 1.19 system tracks over UDP              |

Nothing is imported here, so ``import skyfuse.outputs.history`` stays lean.
"""
