"""skyfuse's ASTERIX decoding of the real capture agrees with tshark's dissection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from asterix_helpers import PCAP, PCAP_PORTS, tshark_records
from skyfuse.decode.asterix import AsterixDecoder, decode_datagrams
from skyfuse.decode.asterix_records import NM_TO_M
from skyfuse.ingest.pcap import read_udp_file

pytestmark = pytest.mark.peers


def _v(rec: dict[str, Any], item: str, field: str) -> str | None:
    sub = rec.get(item)
    return None if sub is None else sub.get(f"asterix.{rec['cat']:03d}_{item}_{field}")


def _fl_signed(s: str) -> float:
    """tshark (like libasterix, both from asterix-specs) reads I048/090 FL as unsigned; the
    ICAO range (down to -1000 ft) needs two's complement, which skyfuse applies: the same
    14 bits, read signed (the capture holds one such plot: 0x3FFC, FL -1, not FL 4095)."""
    fl = float(s)
    return fl - 4096.0 if fl >= 2048.0 else fl


def _key048(r: dict[str, Any]) -> tuple[Any, ...]:
    def num(item: str, field: str, conv: Callable[[str], Any] = float) -> Any:
        v = _v(r, item, field)
        return None if v is None else conv(v)

    return (
        int(_v(r, "010", "SAC") or "-1", 0), int(_v(r, "010", "SIC") or "-1", 0),
        num("140", "VALUE"), num("040", "RHO"), num("040", "THETA"),
        num("020", "TYP", int), num("070", "MODE3A", int), num("090", "FL", _fl_signed),
        num("220", "VALUE", lambda s: int(s, 16)),
        num("240", "VALUE", lambda s: s.strip() or None),  # all spaces: no callsign
        num("161", "TRN", int),
    )


def _ours048(p: Any, i: int) -> tuple[Any, ...]:
    def opt(ok: bool, v: Any) -> Any:
        return v if ok else None

    rng = p.slant_range_m[i]
    return (
        int(p.sac[i]), int(p.sic[i]), float(p.tod_s[i]),
        opt(not np.isnan(rng), round(float(rng) / NM_TO_M, 9)),
        opt(not np.isnan(rng), round(float(p.azimuth_deg[i]), 9)),
        opt(p.detection_type[i] >= 0, int(p.detection_type[i])),
        opt(p.mode3a[i] >= 0, int(p.mode3a[i])),
        opt(not np.isnan(p.fl[i]), float(p.fl[i])),
        opt(p.icao24[i] >= 0, int(p.icao24[i])),
        opt(p.callsign[i] != b"", p.callsign[i].decode()),
        opt(p.track_number[i] >= 0, int(p.track_number[i])),
    )


def test_cat048_and_cat034_agree_with_tshark(require_peer: Callable[[str], str]) -> None:
    tshark = require_peer("tshark")
    theirs = tshark_records(tshark, PCAP, PCAP_PORTS)
    dec = AsterixDecoder(dedup=False)
    b = decode_datagrams(((d.t_s, d.payload) for d in read_udp_file(PCAP)), dec)

    t48 = [_key048(r) for r in theirs if r["cat"] == 48]
    t48 = [k[:3] + tuple(None if v is None else round(v, 9) for v in k[3:5]) + k[5:]
           for k in t48]
    o48 = [_ours048(b.plots, i) for i in range(len(b.plots))]
    assert len(t48) == len(o48) == 128
    assert t48 == o48  # record by record, in capture order
    assert len(set(o48)) == 64
    assert sum(1 for k in set(o48) if k[8] is not None) == 63

    t34 = [(int(_v(r, "010", "SIC") or "-1", 0), float(_v(r, "030", "VALUE") or "nan"),
            int(_v(r, "000", "VALUE") or "-1"), _v(r, "020", "VALUE"),
            _v(r, "041", "VALUE")) for r in theirs if r["cat"] == 34]
    s = b.services
    o34 = [(int(s.sic[i]), float(s.tod_s[i]), int(s.msg_type[i]),
            None if np.isnan(s.sector_deg[i]) else float(s.sector_deg[i]),
            None if np.isnan(s.rotation_period_s[i]) else float(s.rotation_period_s[i]))
           for i in range(len(s))]
    assert len(t34) == 34
    assert [k[:3] for k in t34] == [k[:3] for k in o34]
    assert [None if k[3] is None else float(k[3]) for k in t34] == [
        None if k[3] is None else float(k[3]) for k in o34]
    assert [None if k[4] is None else float(k[4]) for k in t34] == [
        None if k[4] is None else float(k[4]) for k in o34]
