"""Fuzzing the Mode S parsers: ≥ 100,000 seeded mutated and truncated inputs each.

A fast seeded mutator (numpy RNG; hypothesis is too slow at this scale) cuts a window out
of a valid stream and applies 1-4 of: flip bytes, insert random bytes, delete a range,
duplicate a range, insert frame-start bytes, truncate. Every input goes through a fresh
parser in two chunks plus ``flush``: no exception may escape and bad input is counted.
"""

from __future__ import annotations

import random

import numpy as np

from modes_helpers import AFR_AVR, DUMP1090_BEAST
from skyfuse.decode.modes import ModeSDecoder
from skyfuse.ingest.avr import AvrParser
from skyfuse.ingest.beast import BeastParser
from skyfuse.ingest.sbs import SbsParser

N_INPUTS = 100_000

SBS = (b"MSG,3,1,1,4CA2D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,37000,,,51.5,"
       b"-0.12,,,0,0,0,0\nMSG,1,1,1,4CA2D6,1,2024/07/06,06:43:10.000,2024/07/06,06:43:10.0"
       b",RYR123  ,,,,,,,,,,,\nMSG,6,1,1,4CA2D6,1,2024/07/06,06:43:11.000,2024/07/06,06:43:"
       b"11.000,,,,,,,,7700,0,1,0,-1\nMSG,4,1,1,4CA2D6,1,2024/07/06,06:43:11.000,2024/07/06,"
       b"06:43:11.000,,,420,270,,,-64,,,,,0\n") * 4


def _mutants(corpus: bytes, seed: int, n: int, specials: bytes):
    g = random.Random(seed)
    ri = g.randrange
    for _ in range(n):
        start = ri(len(corpus) - 200)
        buf = bytearray(corpus[start:start + 1 + ri(199)])
        for _ in range(1 + ri(4)):
            op = ri(6)
            pos = ri(len(buf) + 1)
            if op == 0 and buf:
                for _ in range(1 + ri(7)):
                    buf[ri(len(buf))] = ri(256)
            elif op == 1:
                buf[pos:pos] = g.randbytes(1 + ri(29))
            elif op == 2:
                del buf[pos:pos + 1 + ri(29)]
            elif op == 3:
                buf[pos:pos] = buf[pos:pos + 1 + ri(39)]
            elif op == 4:
                buf[pos:pos] = specials[ri(len(specials)):][:1]
            else:
                del buf[pos:]
        yield bytes(buf), ri(len(buf) + 1)


def _fuzz(parser_cls, corpus: bytes, seed: int, specials: bytes) -> tuple[int, int]:
    frames = bad = 0
    for data, cut in _mutants(corpus, seed, N_INPUTS, specials):
        p = parser_cls()
        p.feed(data[:cut])
        p.feed(data[cut:])
        p.flush()
        frames += p.counters.frames
        bad += p.counters.bad_frames
    return frames, bad


def test_fuzz_beast() -> None:
    frames, bad = _fuzz(BeastParser, DUMP1090_BEAST.read_bytes() * 2, 11, b"\x1a123\x1a")
    assert frames > N_INPUTS and bad > N_INPUTS // 2


def test_fuzz_avr() -> None:
    frames, bad = _fuzz(AvrParser, AFR_AVR.read_bytes()[:20000], 12, b"*@;\n0F")
    assert frames > N_INPUTS // 4 and bad > N_INPUTS // 2


def test_fuzz_sbs() -> None:
    frames, bad = _fuzz(SbsParser, SBS, 13, b",\n:/-.M")
    assert frames > N_INPUTS // 20 and bad > N_INPUTS // 2


def test_fuzz_decoder_on_mutated_frames() -> None:
    g = np.random.default_rng(14)
    p = BeastParser()
    frames = p.feed(DUMP1090_BEAST.read_bytes()).data
    dec = ModeSDecoder(receiver=(52.0, 4.0))
    for _ in range(10):
        mutated = []
        for f in frames * 10:
            b = bytearray(f)
            b[int(g.integers(0, len(b)))] ^= 1 << int(g.integers(0, 8))
            mutated.append(bytes(b))
        mutated += [g.integers(0, 256, int(g.choice([2, 7, 14, 5])), np.uint8).tobytes()
                    for _ in range(500)]
        out = dec.decode(np.arange(len(mutated)) * 1e-3, mutated)
        assert len(out) <= len(mutated)
    assert dec.counters.crc_failures > 1000
