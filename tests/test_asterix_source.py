"""The live ASTERIX UDP listener on localhost: datagrams arrive whole, timed by the clock
given, and decode; the real capture replayed over UDP gives the same plots."""

from __future__ import annotations

import asyncio
import socket

from asterix_helpers import PCAP
from skyfuse.decode.asterix import AsterixDecoder
from skyfuse.ingest.asterix_source import AsterixUdpListener, Datagram
from skyfuse.ingest.pcap import read_udp_file


def test_udp_listener_receives_and_decodes_the_real_stream() -> None:
    sent = [d.payload for d in read_udp_file(PCAP)]
    ticks = iter(range(1000, 2000))

    async def run() -> list[Datagram]:
        async with AsterixUdpListener("127.0.0.1", 0, clock=lambda: float(next(ticks))) as rx:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
                for p in sent:
                    tx.sendto(p, ("127.0.0.1", rx.port))
            got = [await asyncio.wait_for(rx.get(), 5.0) for _ in sent]
            assert rx.received == len(sent) and rx.dropped == 0
            return got

    got = asyncio.run(run())
    assert [d.payload for d in got] == sent
    assert [d.t_s for d in got] == [float(t) for t in range(1000, 1000 + len(sent))]
    assert got[0].origin.startswith("udp:127.0.0.1:")
    dec = AsterixDecoder()
    for d in got:
        dec.feed(d.payload, d.t_s)
    assert dec.stats.records == {48: 64, 34: 17} and dec.stats.bad == 0
