"""AVR raw text framing (dump1090 port 30002), streaming and garbage-proof.

Two line forms, each frame ends with ``;`` (line ends are optional between frames)::

    *HEX;                    HEX = 4 (Mode A/C), 14 (short) or 28 (long) hex digits
    @TTTTTTTTTTTTHEX;        TTTTTTTTTTTT = 48-bit receiver timestamp, 12 hex digits

A frame is the shortest ``[*@]hex+;`` run; anything between frames other than white space
is junk and counted as one bad frame per run; a well-formed run with a wrong number of
digits is a bad frame. No valid frame after junk is lost: the search restarts at every
``*`` or ``@``.
"""

from __future__ import annotations

import re

from skyfuse.ingest.frames import FrameBatch, FrameKind, ParserCounters

__all__ = ["AvrParser", "encode_avr"]

_FRAME = re.compile(rb"([*@])([0-9A-Fa-f]*);")
_KINDS = {4: FrameKind.MODE_AC, 14: FrameKind.SHORT, 28: FrameKind.LONG}
_MAX_PENDING = 64  # '@' + 12 + 28 + ';' is 42 characters


class AvrParser:
    """Feed AVR text bytes in chunks of any size; get :class:`FrameBatch` es back.

    Frames without a timestamp get ``ticks == -1``.
    """

    format_name = "avr"

    def __init__(self, keep_errors: bool = False) -> None:
        self.counters = ParserCounters(keep_errors=keep_errors)
        self._buf = b""
        self._base = 0

    def feed(self, chunk: bytes) -> FrameBatch:
        """Frame every complete ``...;`` in ``self._buf + chunk``; keep the tail."""
        c = self.counters
        c.bytes_in += len(chunk)
        buf = self._buf + chunk if self._buf else bytes(chunk)
        base = self._base
        ticks: list[int] = []
        kinds: list[int] = []
        offsets: list[int] = []
        data: list[bytes] = []
        pos = 0
        for m in _FRAME.finditer(buf):
            s = m.start()
            if s > pos and buf[pos:s].strip():
                c.bad(base + pos, "junk text")
            pos = m.end()
            digits = m.group(2)
            if m.group(1) == b"@":
                ts_hex, digits = digits[:12], digits[12:]
                if len(ts_hex) < 12:
                    c.bad(base + s, "short timestamp")
                    continue
                t = int(ts_hex, 16)
            else:
                t = -1
            kind = _KINDS.get(len(digits))
            if kind is None:
                c.bad(base + s, f"{len(digits)} hex digits")
                continue
            ticks.append(t)
            kinds.append(kind)
            offsets.append(base + s)
            data.append(bytes.fromhex(digits.decode("ascii")))
        tail = buf[pos:]
        if tail:
            k = max(tail.rfind(b"*"), tail.rfind(b"@"))
            keep_from = k if k >= 0 and len(tail) - k <= _MAX_PENDING else len(tail)
            if tail[:keep_from].strip():
                c.bad(base + pos, "junk text")
            pos += keep_from
            tail = tail[keep_from:]
        self._buf = tail
        self._base = base + pos
        c.frames += len(data)
        return FrameBatch.build(ticks, [0] * len(data), kinds, offsets, data)

    def flush(self) -> FrameBatch:
        """End of data: a pending partial frame is bad."""
        if self._buf.strip():
            self.counters.bad(self._base, "truncated frame at end of data")
        self._base += len(self._buf)
        self._buf = b""
        return FrameBatch.empty()


def encode_avr(frame: bytes, ticks: int | None = None) -> bytes:
    """One AVR line for ``frame``: ``@TTTTTTTTTTTTHEX;`` with ``ticks``, else ``*HEX;``."""
    if ticks is None:
        return b"*" + frame.hex().upper().encode() + b";\n"
    return b"@%012X" % ticks + frame.hex().upper().encode() + b";\n"
