"""Beast / AVR / SBS framing on real recordings, junk resynchronisation, timestamps."""

from __future__ import annotations

import numpy as np

from modes_helpers import AFR_AVR, DUMP1090_BEAST, rng
from skyfuse.ingest.avr import AvrParser, encode_avr
from skyfuse.ingest.beast import BeastParser, encode_beast
from skyfuse.ingest.frames import FrameKind
from skyfuse.ingest.sbs import SbsParser
from skyfuse.ingest.stream import detect_format
from skyfuse.ingest.timebase import Timebase, TimeMode


def _beast_frames() -> tuple[list[bytes], np.ndarray]:
    p = BeastParser()
    b = p.feed(DUMP1090_BEAST.read_bytes())
    p.flush()
    assert p.counters.bad_frames == 0
    return b.data, b.ticks


def test_beast_sample_has_239_frames_in_any_chunking() -> None:
    raw = DUMP1090_BEAST.read_bytes()
    data, _ = _beast_frames()
    assert len(data) == 239
    assert {len(d) for d in data} <= {7, 14}
    for size in (1, 2, 3, 7, 64, 1000):
        p = BeastParser()
        got: list[bytes] = []
        for i in range(0, len(raw), size):
            got.extend(p.feed(raw[i:i + size]).data)
        p.flush()
        assert got == data and p.counters.bad_frames == 0


def test_beast_escapes_round_trip() -> None:
    frames = [bytes([0x8D, 0x1A, 0x1A, 0x33]) + bytes(10), bytes([0x1A] * 7), b"\x1a\x1a"]
    raw = b"".join(encode_beast(f, ticks=0x1A1A1A1A1A1A, signal=0x1A) for f in frames)
    b = BeastParser().feed(raw)
    assert b.data == frames
    assert (b.ticks == 0x1A1A1A1A1A1A).all() and (b.signal == 0x1A).all()
    assert list(b.kind) == [FrameKind.LONG, FrameKind.SHORT, FrameKind.MODE_AC]


def test_avr_equals_beast_frames() -> None:
    data, ticks = _beast_frames()
    text = b"".join(encode_avr(f, int(t)) for f, t in zip(data, ticks, strict=True))
    b = AvrParser().feed(text)
    assert b.data == data and (b.ticks == ticks).all()
    plain = b"".join(encode_avr(f) for f in data)
    b2 = AvrParser().feed(plain.replace(b"\n", b"\r\n"))
    assert b2.data == data and (b2.ticks == -1).all()


def test_beast_junk_between_frames_loses_no_frame() -> None:
    data, _ = _beast_frames()
    g = rng(1)
    encoded = [encode_beast(f, 1000 + i) for i, f in enumerate(data)]
    pieces = []
    for e in encoded:
        kind = g.integers(0, 3)
        if kind == 1:  # random junk without a frame start
            junk = g.integers(0, 256, g.integers(1, 40), dtype=np.uint8).tobytes()
            pieces.append(junk.replace(b"\x1a", b""))
        elif kind == 2:  # a frame cut short
            other = encoded[g.integers(0, len(encoded))]
            pieces.append(other[: g.integers(1, len(other) - 1)])
        pieces.append(e)
    raw = b"".join(pieces)
    p = BeastParser()
    got = [d for i in range(0, len(raw), 97) for d in p.feed(raw[i:i + 97]).data]
    p.flush()
    assert got == data
    assert p.counters.bad_frames > 50


def test_avr_junk_between_frames_loses_no_frame() -> None:
    lines = AFR_AVR.read_bytes().splitlines(keepends=True)[:2000]
    g = rng(2)
    pieces = []
    for ln in lines:
        r = g.integers(0, 4)
        if r == 1:
            junk = g.integers(32, 127, g.integers(1, 30), dtype=np.uint8).tobytes()
            pieces.append(junk.replace(b"*", b"").replace(b"@", b"").replace(b";", b""))
        elif r == 2:
            pieces.append(lines[g.integers(0, len(lines))][: g.integers(1, 20)])
        elif r == 3:
            pieces.append(b"*12345;")  # well formed, wrong length
        pieces.append(ln)
    raw = b"".join(pieces)
    ref = AvrParser().feed(b"".join(lines))
    p = AvrParser()
    got = [d for i in range(0, len(raw), 61) for d in p.feed(raw[i:i + 61]).data]
    p.flush()
    assert got == ref.data
    assert p.counters.bad_frames > 100


SBS_LINES = [
    b"MSG,3,1,1,4CA2D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,37000,,,51.5,"
    b"-0.12,,,0,0,0,0\n",
    b"MSG,1,1,1,4CA2D6,1,2024/07/06,06:43:10.000,2024/07/06,06:43:10.000,RYR123  ,,,,,,"
    b",,,,,\n",
    b"MSG,6,1,1,4CA2D6,1,2024/07/06,06:43:11.000,2024/07/06,06:43:11.000,,,,,,,,7700,0,1"
    b",0,-1\n",
]


def test_sbs_fields_and_junk() -> None:
    p = SbsParser()
    raw = SBS_LINES[0] + b"garbage,,\n" + SBS_LINES[1] + b"MSG,9,x\n" + SBS_LINES[2]
    b = p.feed(raw)
    assert len(b) == 3 and p.counters.bad_frames == 2
    assert b.icao24[0] == 0x4CA2D6 and b.alt_ft[0] == 37000 and b.lat_deg[0] == 51.5
    assert b.t_s[0] == 1720248189.525
    assert b.callsign[1] == b"RYR123" and b.squawk[2] == 0o7700 and b.on_ground[2] == 1


def test_detect_format() -> None:
    assert detect_format(DUMP1090_BEAST.read_bytes()[:4096]) == "beast"
    assert detect_format(AFR_AVR.read_bytes()[:4096]) == "avr"
    assert detect_format(b"*8D4840D6202CC371C32CE0576098;\n") == "avr"
    assert detect_format(SBS_LINES[0]) == "sbs"
    assert detect_format(b"hello world") is None


def test_timebase_counter_and_gps() -> None:
    tb = Timebase()
    ticks = np.array([1_050_000_000, 1_062_000_000, 1_074_000_000], np.int64)
    t = tb.to_seconds(ticks)
    assert tb.mode == TimeMode.COUNTER and np.allclose(t, [0, 1, 2])
    gps = Timebase(day_s=1_720_224_000.0)
    sod = np.arange(3600, 3605)
    ticks = (sod.astype(np.int64) << 30) + 500_000_000
    t = gps.to_seconds(ticks)
    assert gps.mode == TimeMode.GPS and gps.absolute
    assert np.allclose(t, 1_720_224_000.0 + sod + 0.5)
    rel = Timebase(TimeMode.COUNTER, t0_s=100.0)
    assert np.allclose(rel.to_seconds(np.array([5, 12_000_005, -1]))[:2], [100, 101])
    wrap = Timebase(TimeMode.COUNTER)
    t = wrap.to_seconds(np.array([(1 << 48) - 12_000_000, 0], np.int64))
    assert np.allclose(t, [0, 1])
