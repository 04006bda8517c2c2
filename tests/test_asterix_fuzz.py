"""Fuzzing the ASTERIX decoder: ≥100,000 seeded mutated and truncated datagrams.

libasterix is pure Python (~0.3 ms a record), so the inputs are small: single-record blocks
taken from the real capture plus libasterix-encoded CAT021/CAT020 records, alone or two to
a datagram. Mutations keep the block length consistent for a share of inputs, so that they
get past the framing into libasterix's record parsing.
"""

from __future__ import annotations

from asterix.base import Bits

from asterix_helpers import PCAP, Mutator, cat020_block, cat021_block
from skyfuse.decode.asterix import EDITIONS, AsterixDecoder
from skyfuse.ingest.pcap import read_udp_file


def _single_record_blocks() -> list[bytes]:
    out: set[bytes] = set()
    for d in read_udp_file(PCAP):
        p, off = d.payload, 0
        while off < len(p):
            cat, n = p[off], (p[off + 1] << 8) | p[off + 2]
            for rec in EDITIONS[cat].cv_uap.parse(Bits.from_bytes(p[off + 3:off + n])):
                body = bytes(rec.unparse().to_bytes())
                out.add(bytes((cat, 0, len(body) + 3)) + body)
            off += n
    return [*sorted(out), cat021_block(), cat020_block()]


def test_fuzz_asterix_100k_no_exception_escapes() -> None:
    bases = _single_record_blocks()
    assert len(bases) == 83
    mutate = Mutator(4)
    rng = mutate.rng
    dec = AsterixDecoder(dedup=False)
    good = bases[0]
    n = 100_000
    deep = 0
    for i in range(n):
        base = bases[rng.randrange(len(bases))]
        if rng.random() < 0.15:
            base += bases[rng.randrange(len(bases))]
        data = bytearray(mutate(base, max_ops=3))
        if rng.random() < 0.3 and len(data) >= 3 and len(data) < 0x10000:
            data[1:3] = len(data).to_bytes(2, "big")  # get past the framing
            deep += 1
        dec.feed(bytes(data))
        if i % 1000 == 0:  # the decoder stays sound after garbage
            before = sum(dec.stats.records.values())
            dec.feed(good)
            assert sum(dec.stats.records.values()) == before + 1
            dec.take()
    st = dec.stats
    assert st.datagrams == n + n // 1000
    assert st.bad > 30_000, st.summary()
    assert st.rejected_blocks > 10_000 and st.bad_framing > 10_000
    assert sum(st.unknown_category.values()) > 100
    assert sum(st.records.values()) > 5_000  # untouched records still decode
    assert deep > 25_000
    assert st.errors_total == st.bad
