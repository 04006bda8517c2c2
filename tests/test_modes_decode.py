"""Mode S decoding on the real AFR34ZG recording against rs1090's oracle positions."""

from __future__ import annotations

import numpy as np

from modes_helpers import AFR_AVR, CDG, DUMP1090_BEAST, afr_oracle
from skyfuse.decode import cpr
from skyfuse.decode.modes import ModeSDecoder
from skyfuse.decode.positions import PositionTable, distance_m
from skyfuse.ingest.avr import AvrParser
from skyfuse.ingest.beast import BeastParser, encode_beast
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.measure.batch import AddressType


def _decode_afr(chunk: int = 512):
    t0, _ = afr_oracle()
    p = AvrParser()
    b = p.feed(AFR_AVR.read_bytes())
    t = Timebase(TimeMode.COUNTER, t0_s=t0).to_seconds(b.ticks)
    dec = ModeSDecoder(receiver=CDG)
    outs = [dec.decode(t[i:i + chunk], b.data[i:i + chunk]) for i in range(0, len(t), chunk)]
    return b, dec, outs


def test_every_position_matches_oracle_within_1m() -> None:
    _, oracle = afr_oracle()
    _, dec, outs = _decode_afr()
    n_air = n_surf = 0
    offset = 0
    for out in outs:
        for k in np.flatnonzero(np.isfinite(out.lat_deg)):
            line = offset + int(out.src_index[k])
            bds, lat, lon = oracle[line]
            d = distance_m(lat, lon, out.lat_deg[k], out.lon_deg[k])
            assert d < 1.0, (line, d)
            n_air += bds == "05"
            n_surf += bds == "06"
        offset += 512
    air_oracle = sum(v[0] == "05" for v in oracle.values())
    assert n_air >= 0.6 * air_oracle  # duplicates (two receivers) are decoded once
    assert n_surf > 500
    assert dec.positions.rejected == 0


def test_identity_fields() -> None:
    _, dec, outs = _decode_afr()
    icao = np.concatenate([o.icao24 for o in outs])
    assert set(np.unique(icao[icao >= 0]).tolist()) == {0x393322}
    calls = np.concatenate([o.callsign for o in outs])
    assert b"AFR34ZG" in set(calls.tolist())
    at = np.concatenate([o.addr_type for o in outs])
    df = np.concatenate([o.df for o in outs])
    assert (at[df == 17] == AddressType.ICAO).all()
    m3a = np.concatenate([o.mode3a for o in outs])
    assert (m3a[df == 5] == 0o1000).all()
    alt = np.concatenate([o.alt_ft for o in outs])
    assert np.nanmax(alt) > 4000
    assert dec.counters.duplicates > 0 and dec.counters.crc_failures == 0


def test_beast_and_avr_give_the_same_records() -> None:
    raw = AFR_AVR.read_bytes()
    a = AvrParser().feed(raw)
    beast = b"".join(encode_beast(f, int(t)) for f, t in zip(a.data, a.ticks, strict=True))
    b = BeastParser().feed(beast)
    outs = []
    for batch in (a, b):
        t = Timebase(TimeMode.COUNTER).to_seconds(batch.ticks)
        outs.append(ModeSDecoder(receiver=CDG).decode(t, batch.data))
    x, y = outs
    for name in ("t_s", "df", "icao24", "alt_ft", "mode3a", "callsign", "lat_deg", "lon_deg",
                 "nacp", "gs_kt", "vrate_fpm", "crc_ok"):
        np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)


def test_dump1090_sample_decodes() -> None:
    b = BeastParser().feed(DUMP1090_BEAST.read_bytes())
    dec = ModeSDecoder()
    out = dec.decode(Timebase().to_seconds(b.ticks), b.data)
    assert len({int(x) for x in out.icao24[out.icao24 >= 0]}) >= 4
    assert len({int(x) for x in out.icao24[out.crc_ok]}) >= 1
    assert dec.counters.unknown_address > 0  # replies before the address was seen in DF17


def test_dedup_keeps_receivers() -> None:
    b = BeastParser().feed(DUMP1090_BEAST.read_bytes())
    frames = b.data[:50]
    t = np.arange(50) * 0.5
    dec = ModeSDecoder()
    both = [f for f in frames for _ in range(2)]
    out = dec.decode(np.repeat(t, 2) + np.tile([0.0, 0.01], 50), both,
                     np.tile(np.array([0, 3], np.int32), 50))
    assert len(out) == 50 and (out.receivers == 0b1001).all()
    again = dec.decode(t + 100, frames, 1)
    assert len(again) == 50 and (again.receivers == 0b10).all()


def test_unknown_address_reply_not_trusted() -> None:
    dec = ModeSDecoder()
    out = dec.decode(np.array([0.0]), [bytes.fromhex("212800bf40f1ef")])
    assert out.df[0] == 4 and not out.crc_ok[0] and np.isnan(out.alt_ft[0])


def test_speed_gate_rejects_jump() -> None:
    tab = PositionTable()
    e, o = (93000, 51372), (74158, 50194)  # an even/odd pair (pyModeS docs example)
    p1 = tab.update(0x40621D, 0.0, False, *e, False)
    p2 = tab.update(0x40621D, 1.0, True, *o, False)
    assert p1 is None and p2 is not None
    assert abs(p2[0] - 52.26578) < 1e-3 and abs(p2[1] - 3.93894) < 1e-3
    bad = tab.update(0x40621D, 2.0, False, e[0] + 3000, e[1], False)
    assert bad is None and tab.rejected == 1
    tab.update(0x40621D, 3.0, True, *o, False)  # pairs with the bad even: rejected too
    ok = tab.update(0x40621D, 4.0, False, *e, False)
    assert ok is not None and abs(ok[0] - 52.2572) < 1e-3


def test_cpr_local_and_surface() -> None:
    lat, lon = cpr.local(93000, 51372, False, 52.258, 3.918)
    assert abs(lat - 52.2572) < 1e-3 and abs(lon - 3.9194) < 1e-3
    assert cpr.nl(0.0) == 59 and cpr.nl(87.0) == 2 and cpr.nl(89.0) == 1
    g = cpr.global_surface(93000, 51372, 74158, 50194, True, 52.0, 4.0)
    assert g is None or (abs(g[1] - 4.0) <= 45.0 and 0 <= g[0] <= 90)


def test_receivers_of_a_copy_in_a_later_call_and_same_feed_repeats() -> None:
    b = AvrParser().feed(AFR_AVR.read_bytes())
    df17 = next(f for f in b.data if f[0] >> 3 == 17)
    df4 = next(f for f in b.data if f[0] >> 3 == 4)
    dec = ModeSDecoder()
    first = dec.decode(np.array([0.0, 0.0]), [df17, df4], 2)
    assert (first.receivers == 0b100).all()
    # the copies of other feeds, in the next call: dropped, their bits set in place
    again = dec.decode(np.array([0.01, 0.01]), [df17, df4], np.array([0, 5], np.int32))
    assert len(again) == 0 and dec.counters.duplicates == 2
    assert first.receivers.tolist() == [0b101, 0b100100]
    # the same feed again: a squitter within the window is one transmission seen twice,
    # a reply (DF4) answers another interrogation and is kept; at the same time: a copy
    rep = dec.decode(np.array([0.1, 0.1, 0.1]), [df17, df4, df4], 2)
    assert [f[0] >> 3 for f in rep.frame] == [4]
    assert rep.receivers.tolist() == [0b100] and dec.counters.duplicates == 4
