"""CAT062 encoding: values survive libasterix decoding within one LSB; packing; bounds."""

from __future__ import annotations

import socket
import struct
from typing import Any

import numpy as np
import pytest

from output_helpers import Extra
from skyfuse.measure.geodesy import LocalFrame
from skyfuse.outputs.base import TrackOutput
from skyfuse.outputs.cat062 import (
    Cat062Sender,
    decode_cat062,
    encode_cat062,
    encode_cat062_records,
    ndarray_of,
    pack_datagrams,
)
from skyfuse.runtime.tracks_csv import TrackRows

T0 = 1_764_612_000.0            # 2025-12-01T18:00:00Z: time of day 64800 s
FRAME = LocalFrame(47.0, 8.0)


def tracks(n: int, seed: int = 3) -> TrackRows:
    """``n`` updates around Zurich with a realistic mix of absent fields."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    alt = rng.uniform(-900, 45000, n)
    alt[ids % 5 == 1] = np.nan
    return TrackRows(
        t_s=T0 + rng.uniform(0, 300, n), track_id=(ids * 37 + 65_000).astype(np.int64),
        status=(ids % 3).astype(np.int8), lat_deg=rng.uniform(45, 49, n),
        lon_deg=rng.uniform(5, 11, n), alt_ft=alt,
        icao24=np.where(ids % 4 == 0, -1, rng.integers(0, 1 << 24, n)).astype(np.int32),
        callsign=np.array([b"" if i % 3 == 0 else b"SWR%d" % i for i in ids], "S8"),
        vx_mps=rng.normal(0, 150, n), vy_mps=rng.normal(0, 150, n))


def test_decoded_values_match_within_one_lsb() -> None:
    rows = tracks(120)
    data = encode_cat062(rows, sac=25, sic=100, frame=FRAME, service_id=7)
    got = decode_cat062(data)
    assert len(got) == 120
    assert {(g["sac"], g["sic"]) for g in got} == {(25, 100)}
    assert [g["track_number"] for g in got] == (rows.track_id & 0xFFFF).tolist()
    np.testing.assert_allclose(ndarray_of(got, "tod_s"), np.mod(rows.t_s, 86400),
                               atol=1 / 256 + 1e-9)
    lsb = 180 / 2**25
    np.testing.assert_allclose(ndarray_of(got, "lat_deg"), rows.lat_deg, atol=lsb / 2 + 1e-12)
    np.testing.assert_allclose(ndarray_of(got, "lon_deg"), rows.lon_deg, atol=lsb / 2 + 1e-12)
    xy = FRAME.to_plane(rows.lat_deg, rows.lon_deg)
    np.testing.assert_allclose(ndarray_of(got, "x_m"), xy[:, 0], atol=0.25 + 1e-9)
    np.testing.assert_allclose(ndarray_of(got, "y_m"), xy[:, 1], atol=0.25 + 1e-9)
    np.testing.assert_allclose(ndarray_of(got, "vx_mps"), rows.vx_mps, atol=0.125 + 1e-9)
    np.testing.assert_allclose(ndarray_of(got, "vy_mps"), rows.vy_mps, atol=0.125 + 1e-9)
    np.testing.assert_allclose(ndarray_of(got, "fl"), rows.alt_ft / 100, atol=0.125 + 1e-9)
    assert [g["icao24"] for g in got] == [None if a < 0 else a for a in rows.icao24.tolist()]
    assert [g["callsign"] for g in got] == [c.decode() or None for c in rows.callsign.tolist()]
    assert [g["cnf"] for g in got] == (rows.status == 0).astype(int).tolist()
    assert [g["cst"] for g in got] == (rows.status == 2).astype(int).tolist()
    assert all(g["mode3a"] is None for g in got)


def test_mode3a_sensors_and_out_of_range_fields() -> None:
    base = tracks(4)
    rows = Extra(base, mode3a=np.array([0o7000, -1, 0o1234, 0o7777], np.int16),
                 sensors=np.array([1, 6, 0, 8], np.int64))
    far = LocalFrame(10.0, 100.0)               # > 4194 km east: no I062/100
    recs = encode_cat062_records(rows, sac=1, sic=2, frame=far)  # type: ignore[arg-type]
    got = decode_cat062(b"".join(pack_datagrams(recs)))
    assert [g["mode3a"] for g in got] == [0o7000, None, 0o1234, 0o7777]
    assert all(g["x_m"] is None for g in got)
    # MON (monosensor) is bit 8 of the first I062/080 octet: one sensor in the bitmask
    fast = TrackRows(*(np.resize(getattr(base, f), 2) for f in base.__dataclass_fields__))
    wild = TrackRows(**{**{f: getattr(fast, f) for f in fast.__dataclass_fields__},
                        "vx_mps": np.array([1e5, 10.0]), "alt_ft": np.array([1e7, np.nan]),
                        "lat_deg": np.array([np.nan, 47.0])})
    g = decode_cat062(encode_cat062(wild, sac=1, sic=2))
    assert g[0]["vx_mps"] is None and g[0]["fl"] is None and g[0]["lat_deg"] is None
    assert g[1]["vx_mps"] == 10.0 and g[1]["lat_deg"] == pytest.approx(47.0, abs=1e-5)
    with pytest.raises(ValueError):
        encode_cat062(wild, sac=256, sic=0)


def test_monosensor_flag() -> None:
    rows = Extra(tracks(3), sensors=np.array([4, 5, 0], np.int64))
    recs = encode_cat062_records(rows, sac=1, sic=2)  # type: ignore[arg-type]
    # locate I062/080 after the items before it: parse with libasterix and read MON
    import asterix.generated as gen
    from asterix.base import Bits

    blocks = pack_datagrams(recs)
    parsed = gen.Cat_062_1_19.cv_uap.parse(Bits.from_bytes(blocks[0][3:]))
    mon = [bytes(r.get_item("080").unparse().to_bytes())[0] >> 7 for r in parsed]
    assert mon == [1, 0, 0]


def test_datagrams_hold_whole_records_and_stay_under_the_limit() -> None:
    rows = tracks(500)
    recs = encode_cat062_records(rows, sac=25, sic=100, frame=FRAME)
    dgrams = pack_datagrams(recs, 1400)
    assert len(dgrams) > 10
    for d in dgrams:
        assert len(d) <= 1400 and d[0] == 62 and struct.unpack(">H", d[1:3])[0] == len(d)
    assert b"".join(d[3:] for d in dgrams) == b"".join(recs)
    assert len(decode_cat062(b"".join(dgrams))) == 500
    with pytest.raises(ValueError):
        pack_datagrams([b"x" * 2000], 1400)
    assert pack_datagrams([]) == [] and encode_cat062_records(tracks(0), sac=1, sic=1) == []


def test_sender_sends_udp_datagrams() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(20)
    port = rx.getsockname()[1]
    rows = tracks(200)
    try:
        sender = Cat062Sender("127.0.0.1", port, sac=9, sic=8, frame=FRAME)
        assert isinstance(sender, TrackOutput)
        sender.publish(rows)
        assert sender.flush()
        sender.close()
        sender.publish(rows)                 # after close: ignored
        n = sender.stats["datagrams_sent"]
        assert sender.stats["records_sent"] == 200 and n >= 5
        got = []
        for _ in range(n):
            d = rx.recv(65536)
            assert len(d) <= 1400
            got += decode_cat062(d)
    finally:
        rx.close()
    assert [g["track_number"] for g in got] == (rows.track_id & 0xFFFF).tolist()
    assert {(g["sac"], g["sic"]) for g in got} == {(9, 8)}


def test_sender_drops_oldest_batches_when_behind() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    try:
        s = Cat062Sender("127.0.0.1", rx.getsockname()[1], sac=1, sic=1,
                         max_pending_batches=2)
        big = tracks(400)
        for _ in range(8):                   # encoding 400 records takes ~0.1 s each
            s.publish(big)
        s.close()
        assert s.stats["batches_dropped"] >= 1
        assert s.stats["records_sent"] == 400 * (8 - s.stats["batches_dropped"])
    finally:
        rx.close()


def test_native_encoder_is_byte_identical_to_libasterix() -> None:
    base = tracks(400, seed=9)
    n = len(base)
    rng = np.random.default_rng(5)
    vx = base.vx_mps.copy()
    vx[::17] = 1e5                              # out of range: item left out
    lat = base.lat_deg.copy()
    lat[::13] = np.nan
    rows = Extra(TrackRows(**{**{f: getattr(base, f) for f in base.__dataclass_fields__},
                              "vx_mps": vx, "lat_deg": lat}),
                 mode3a=np.where(rng.random(n) < 0.5, rng.integers(0, 0o10000, n), -1),
                 sensors=rng.integers(0, 16, n))
    for frame in (FRAME, None):
        kw: dict[str, Any] = {"sac": 200, "sic": 3, "frame": frame, "service_id": 4}
        a = encode_cat062_records(rows, engine="native", **kw)  # type: ignore[arg-type]
        b = encode_cat062_records(rows, engine="libasterix", **kw)  # type: ignore[arg-type]
        assert a == b
    with pytest.raises(ValueError):
        encode_cat062_records(rows, sac=1, sic=1, engine="other")  # type: ignore[arg-type]


def test_sender_skips_updates_without_a_time_and_survives_bad_batches() -> None:
    """Regression: a NaN ``t_s`` (I062/070 is mandatory) raised in the encoder and killed
    the sender thread, so nothing was ever sent again and ``flush`` hung."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(20)
    rows = tracks(10)
    t = rows.t_s.copy()
    t[[2, 5]] = [np.nan, np.inf]
    bad = TrackRows(**{**{f: getattr(rows, f) for f in rows.__dataclass_fields__}, "t_s": t})
    try:
        s = Cat062Sender("127.0.0.1", rx.getsockname()[1], sac=1, sic=2)
        s.publish(bad)
        assert s.flush(timeout_s=20)
        assert s.stats["records_skipped"] == 2 and s.stats["records_sent"] == 8
        s.max_datagram_bytes = 10                      # now no record fits: ValueError
        s.publish(rows)
        assert s.flush(timeout_s=20) and s.stats["send_errors"] == 1
        s.max_datagram_bytes = 1400
        s.publish(rows)                                # the thread is still there
        assert s.flush(timeout_s=20) and s.stats["records_sent"] == 18
        s.close()
        got = []
        for _ in range(s.stats["datagrams_sent"]):
            got += decode_cat062(rx.recv(65536))
    finally:
        rx.close()
    want = rows.track_id[[0, 1, 3, 4, 6, 7, 8, 9]].tolist() + rows.track_id.tolist()
    assert [g["track_number"] for g in got] == [w & 0xFFFF for w in want]
