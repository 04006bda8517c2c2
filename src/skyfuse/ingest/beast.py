"""Beast binary framing (dump1090/readsb port 30005), streaming and garbage-proof.

Layout of one frame on the wire (before escaping)::

    0x1a  TYPE  TIMESTAMP[6]  SIGNAL[1]  PAYLOAD[n]

| TYPE        | payload n | meaning                         |
|-------------|-----------|---------------------------------|
| 0x31 ('1')  | 2         | Mode A/C reply                  |
| 0x32 ('2')  | 7         | Mode S short (56 bit)           |
| 0x33 ('3')  | 14        | Mode S long (112 bit)           |

TIMESTAMP is a 48-bit big-endian receiver time: a free-running 12 MHz counter on most
receivers, GPS time of day on GPS-disciplined ones (see :mod:`skyfuse.ingest.timebase`).
Every 0x1a byte inside TIMESTAMP, SIGNAL or PAYLOAD is sent twice (``1a 1a``); a lone 0x1a
always starts a frame.

Resynchronisation rules (so junk never costs a valid frame after it):

- bytes before a 0x1a are junk (one bad frame per run of junk);
- an unknown TYPE is a bad frame; scanning restarts after its 0x1a;
- a lone 0x1a inside a frame means the frame was cut short: bad frame, restart *at* it
  (so a frame start inside junk can never swallow the real frame after it, whose own
  0x1a cuts it). A false frame that completes inside junk is framed, and rejected by the
  decoder's CRC check.
"""

from __future__ import annotations

from skyfuse.ingest.frames import FrameBatch, FrameKind, ParserCounters

__all__ = ["BeastParser", "encode_beast"]

_ESC = 0x1A
_TYPES = {0x31: (FrameKind.MODE_AC, 2 + 7), 0x32: (FrameKind.SHORT, 7 + 7),
          0x33: (FrameKind.LONG, 14 + 7)}
_MAX_PENDING = 64  # a frame is at most 2 + 2*21 bytes escaped


class BeastParser:
    """Feed Beast bytes in chunks of any size; get :class:`FrameBatch` es back.

    ``feed`` never raises on bad input; ``counters`` holds the totals. Call ``flush`` at the
    end of a file: a trailing partial frame is then counted as bad.
    """

    format_name = "beast"

    def __init__(self, keep_errors: bool = False) -> None:
        self.counters = ParserCounters(keep_errors=keep_errors)
        self._buf = b""
        self._base = 0  # stream offset of self._buf[0]

    def feed(self, chunk: bytes) -> FrameBatch:
        """Frame as much of ``self._buf + chunk`` as possible; keep the unfinished tail."""
        self.counters.bytes_in += len(chunk)
        buf = self._buf + chunk if self._buf else bytes(chunk)
        n = len(buf)
        base = self._base
        c = self.counters
        ticks: list[int] = []
        signal: list[int] = []
        kinds: list[int] = []
        offsets: list[int] = []
        data: list[bytes] = []
        i = 0
        while i < n:
            j = buf.find(b"\x1a", i)
            if j < 0:
                c.bad(base + i, "junk bytes")
                i = n
                break
            if j > i:
                c.bad(base + i, "junk bytes")
            if j + 1 >= n:
                i = j
                break
            spec = _TYPES.get(buf[j + 1])
            if spec is None:
                c.bad(base + j, f"unknown Beast type 0x{buf[j + 1]:02x}")
                i = j + 1  # a 0x1a type may be a cut escape pair: its second byte may start a frame
                continue
            kind, size = spec
            start = j + 2
            end = start + size
            body = buf[start:end]
            if _ESC not in body:
                if end > n:  # incomplete: wait for more bytes
                    i = j
                    break
                nxt = end
            else:
                out = bytearray()
                p = start
                cut = False
                while len(out) < size and p < n:
                    b = buf[p]
                    if b == _ESC:
                        if p + 1 >= n:
                            break
                        if buf[p + 1] != _ESC:
                            cut = True
                            break
                        p += 2
                    else:
                        p += 1
                    out.append(b)
                if cut:
                    c.bad(base + j, "frame cut short by a new frame")
                    i = p
                    continue
                if len(out) < size:
                    i = j
                    break
                body = bytes(out)
                nxt = p
            ticks.append(int.from_bytes(body[0:6], "big"))
            signal.append(body[6])
            kinds.append(kind)
            offsets.append(base + j)
            data.append(body[7:])
            i = nxt
        tail = buf[i:]
        if len(tail) > _MAX_PENDING:  # cannot be one pending frame: drop as junk
            c.bad(base + i, "oversized partial frame")
            tail = b""
            i = n
        self._buf = tail
        self._base = base + i
        c.frames += len(data)
        return FrameBatch.build(ticks, signal, kinds, offsets, data)

    def flush(self) -> FrameBatch:
        """End of data: a pending partial frame is bad."""
        if self._buf:
            self.counters.bad(self._base, "truncated frame at end of data")
            self._base += len(self._buf)
            self._buf = b""
        return FrameBatch.empty()


def encode_beast(frame: bytes, ticks: int = 0, signal: int = 0) -> bytes:
    """One Beast frame for ``frame`` (2, 7 or 14 bytes), escaped. For tests and replays."""
    typ = {2: b"1", 7: b"2", 14: b"3"}[len(frame)]
    body = ticks.to_bytes(6, "big") + bytes([signal]) + frame
    return b"\x1a" + typ + body.replace(b"\x1a", b"\x1a\x1a")
