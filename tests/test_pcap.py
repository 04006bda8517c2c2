"""pcap / pcapng reader: the real radar capture, synthetic edge cases, fuzzing."""

from __future__ import annotations

from asterix_helpers import PCAP, Mutator, pcap_bytes, pcapng_bytes, udp_frame
from skyfuse.ingest.pcap import PcapStats, iter_udp, read_udp_file


def test_real_capture_payloads_cut_at_udp_length() -> None:
    st = PcapStats()
    ds = read_udp_file(PCAP, st)
    assert (st.records, st.datagrams, st.padded, st.bad) == (100, 100, 12, 0)
    assert {d.dst_port for d in ds} >= {21113, 22113}
    for d in ds:  # the payload is exactly a run of whole ASTERIX blocks: no padding left
        off = 0
        while off < len(d.payload):
            assert d.payload[off] in (34, 48)
            off += (d.payload[off + 1] << 8) | d.payload[off + 2]
        assert off == len(d.payload)
    assert 1462433756.0 < ds[0].t_s < ds[-1].t_s < 1462433757.0  # 2016-05-05 07:35:56 UTC


def test_vlan_padding_byte_orders_and_pcapng() -> None:
    frames = [(1000.25, udp_frame(b"\x30\x00\x03", vlan=True, pad=20)),
              (1001.5, udp_frame(b"abc", dport=9000))]
    for data in (pcap_bytes(frames), pcap_bytes(frames, big_endian=True),
                 pcap_bytes(frames, nanos=True), pcapng_bytes(frames)):
        st = PcapStats()
        ds = list(iter_udp(data, st))
        assert [(d.t_s, d.dst_port, d.payload) for d in ds] == [
            (1000.25, 8600, b"\x30\x00\x03"), (1001.5, 9000, b"abc")]
        assert ds[0].src_ip == "10.0.0.1" and ds[0].dst_ip == "232.1.1.1"
        assert st.padded == 1 and st.bad == 0


def test_non_udp_fragments_and_garbage_are_counted() -> None:
    frames = [(1.0, udp_frame(b"x", proto=6)), (2.0, udp_frame(b"y", frag=0x2000)),
              (3.0, udp_frame(b"z")[:30]), (4.0, b"\x00" * 12 + b"\x86\xdd" + b"\x00" * 40),
              (5.0, udp_frame(b"ok"))]
    st = PcapStats()
    assert [d.payload for d in iter_udp(pcap_bytes(frames), st)] == [b"ok"]
    assert (st.skipped_not_udp, st.skipped_fragment, st.bad_frame) == (2, 1, 1)
    st = PcapStats()
    assert list(iter_udp(b"not a capture at all", st)) == [] and st.bad_file == 1
    data = pcap_bytes(frames)
    st = PcapStats()
    assert [d.payload for d in iter_udp(data[:-3], st)] == []  # last record cut short
    assert st.truncated_tail == 1


def test_fuzz_pcap_100k_mutated_and_truncated() -> None:
    """≥100,000 seeded mutations of small captures: nothing escapes, bad input is counted."""
    frames = [(1.0, udp_frame(b"\x30\x00\x05ab", vlan=True, pad=6)), (2.0, udp_frame(b"cd"))]
    bases = [pcap_bytes(frames), pcap_bytes(frames, big_endian=True, nanos=True),
             pcapng_bytes(frames), pcap_bytes(frames[:1])]
    mutate = Mutator(20240501)
    total = PcapStats()
    n = 100_000
    for i in range(n):
        for _ in iter_udp(mutate(bases[i % len(bases)]), total):
            pass
    assert total.bad > 20_000  # mutations are noticed and counted, not raised
    assert total.datagrams > 20_000  # and undamaged records still come through
