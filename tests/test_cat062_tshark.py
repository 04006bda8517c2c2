"""CAT062 datagrams sent by :class:`Cat062Sender`, captured into a pcap, dissected by tshark:
SAC/SIC, track numbers, time, positions (within the LSB), velocity, flight level, Mode S
address and callsign as sent."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from asterix_helpers import pcap_bytes, tshark_records, udp_frame
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.outputs.cat062 import Cat062Sender
from skyfuse.runtime.tracks_csv import TrackRows

pytestmark = pytest.mark.peers

T0 = 1_764_612_000.0


def test_tshark_dissects_what_the_sender_sent(require_peer: Callable[[str], str],
                                             tmp_path: Path) -> None:
    tshark = require_peer("tshark")
    rng = np.random.default_rng(11)
    n = 90
    ids = np.arange(n)
    alt = rng.uniform(1000, 41000, n)
    alt[::7] = np.nan
    rows = TrackRows(
        t_s=T0 + ids * 0.37, track_id=(ids + 4000).astype(np.int64),
        status=(ids % 3).astype(np.int8), lat_deg=rng.uniform(46, 48, n),
        lon_deg=rng.uniform(6, 10, n), alt_ft=alt,
        icao24=np.where(ids % 5 == 0, -1, 0x4B0000 + ids).astype(np.int32),
        callsign=np.array([b"" if i % 4 == 0 else b"SWR%03d" % i for i in ids], "S8"),
        vx_mps=rng.normal(0, 120, n), vy_mps=rng.normal(0, 120, n))
    frame = LocalFrame(47.0, 8.0)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(20)
    port = rx.getsockname()[1]
    try:
        sender = Cat062Sender("127.0.0.1", port, sac=42, sic=7, frame=frame)
        sender.publish(rows)
        assert sender.flush()
        sender.close()
        dgrams = [rx.recv(65536) for _ in range(sender.stats["datagrams_sent"])]
    finally:
        rx.close()
    assert len(dgrams) >= 3 and all(len(d) <= 1400 for d in dgrams)
    pcap = tmp_path / "cat062.pcap"
    pcap.write_bytes(pcap_bytes([(T0 + i, udp_frame(d, dport=port, dst="127.0.0.1"))
                                 for i, d in enumerate(dgrams)]))
    recs = tshark_records(tshark, pcap, (port,))
    assert len(recs) == n and {r["cat"] for r in recs} == {62}

    def field(item: str, name: str) -> list[str | None]:
        out = []
        for r in recs:
            sub = r.get(item)
            out.append(None if sub is None else sub.get(f"asterix.062_{item}_{name}"))
        return out

    assert {(int(a or "-1", 0), int(b or "-1", 0)) for a, b in
            zip(field("010", "SAC"), field("010", "SIC"), strict=True)} == {(42, 7)}
    assert [int(v or "-1", 0) for v in field("040", "VALUE")] == rows.track_id.tolist()
    np.testing.assert_allclose([float(v or "nan") for v in field("070", "VALUE")],
                               np.mod(rows.t_s, 86400), atol=1 / 256)
    lsb = 180 / 2**25
    np.testing.assert_allclose([float(v or "nan") for v in field("105", "LAT")], rows.lat_deg,
                               atol=lsb)
    np.testing.assert_allclose([float(v or "nan") for v in field("105", "LON")], rows.lon_deg,
                               atol=lsb)
    xy = frame.to_plane(rows.lat_deg, rows.lon_deg)
    np.testing.assert_allclose([float(v or "nan") for v in field("100", "X")], xy[:, 0],
                               atol=0.5)
    np.testing.assert_allclose([float(v or "nan") for v in field("100", "Y")], xy[:, 1],
                               atol=0.5)
    np.testing.assert_allclose([float(v or "nan") for v in field("185", "VX")], rows.vx_mps,
                               atol=0.25)
    np.testing.assert_allclose([float(v) if v else np.nan for v in field("136", "VALUE")],
                               rows.alt_ft / 100, atol=0.25)
    assert [int(v) for v in field("080", "CNF")] == (rows.status == 0).astype(int).tolist()
    cst = field("080", "CST")
    assert [int(v or "0") for v in cst] == (rows.status == 2).astype(int).tolist()
    adr, ident = [], []
    for r in recs:
        i380 = r.get("380") or {}
        a = i380.get("asterix.062_380_ADR")
        c = i380.get("asterix.062_380_ID")
        adr.append(None if a is None else int(a["asterix.062_380_ADR_VALUE"], 16))
        ident.append(None if c is None else c["asterix.062_380_ID_VALUE"].strip())
    assert adr == [None if a < 0 else a for a in rows.icao24.tolist()]
    assert ident == [c.decode() or None for c in rows.callsign.tolist()]
