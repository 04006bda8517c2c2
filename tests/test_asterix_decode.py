"""ASTERIX decoding with libasterix: the real CAT048/CAT034 capture, unknown categories,
rejected blocks, CAT021/CAT020 samples, time of day, JSON records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from asterix_helpers import PCAP, cat020_block, cat021_block
from skyfuse.decode.asterix import (
    AsterixDecoder,
    TimeOfDayClock,
    decode_datagrams,
    iter_json_records,
    reference_from_date,
)
from skyfuse.ingest.asterix_source import iter_asterix_file, iter_raw_blocks
from skyfuse.ingest.pcap import read_udp_file


@pytest.fixture(scope="module")
def datagrams() -> list[tuple[float, bytes]]:
    return [(d.t_s, d.payload) for d in read_udp_file(PCAP)]


def test_real_capture_64_plots_7_sensors_63_mode_s(datagrams: list[tuple[float, bytes]]) -> None:
    dec = AsterixDecoder()
    b = decode_datagrams(datagrams, dec)
    st = dec.stats
    assert st.records == {48: 64, 34: 17}
    assert st.duplicates == 64 + 17  # every record is sent on two multicast groups
    assert st.bad == 0 and not st.unknown_category
    p = b.plots
    assert len(p) == 64
    assert set(p.sac.tolist()) == {25}
    assert sorted(set(p.sic.tolist())) == [11, 12, 13, 14, 201, 204, 205]
    assert int((p.icao24 >= 0).sum()) == 63
    assert int(np.isnan(p.slant_range_m).sum()) == 1  # a "no detection" end-of-track record
    assert len(set(zip(p.sic.tolist(), p.tod_s.tolist(), p.icao24.tolist(), strict=True))) == 64
    # time of day resolved against the capture's date (2016-05-05), within the capture span
    assert np.all(np.abs(p.t_s - 1462433756.5) < 30.0)
    first = p.take(np.flatnonzero(p.callsign == b"THY9TX"))
    assert first.icao24.tolist() == [0x4BAACD] and first.mode3a.tolist() == [0o2303]
    assert first.fl.tolist() == [360.0] and first.detection_type.tolist() == [5]
    assert first.slant_range_m[0] == pytest.approx(194.82421875 * 1852.0)
    assert first.azimuth_deg[0] == pytest.approx(128.759765625)


def test_without_dedup_all_128_and_34_records(datagrams: list[tuple[float, bytes]]) -> None:
    dec = AsterixDecoder(dedup=False)
    b = decode_datagrams(datagrams, dec)
    assert dec.stats.records == {48: 128, 34: 34}
    assert len(b.plots) == 128 and len(b.services) == 34
    assert sorted(set(b.services.msg_type.tolist())) == [1, 2]  # north marker, sector crossing
    assert b.services.rotation_period_s[b.services.msg_type == 1][0] == pytest.approx(4.9453125)


def test_unknown_category_block_is_counted_and_skipped(
    datagrams: list[tuple[float, bytes]],
) -> None:
    t, payload = next(d for d in datagrams if d[1][0] == 48)
    alien = bytes([99, 0, 7]) + b"\x80\x01\x02\x03"  # a well-formed CAT099 block
    ref = AsterixDecoder(dedup=False)
    ref.feed(payload, t)
    want = ref.take().plots
    dec = AsterixDecoder(dedup=False)
    dec.feed(alien + payload + alien, t)
    got = dec.take().plots
    assert dec.stats.unknown_category == {99: 2}
    assert dec.stats.bad == 0
    assert got.tod_s.tolist() == want.tod_s.tolist() and len(got) >= 1
    assert dec.stats.summary()["unknown_categories"] == {"99": 2}


def test_rejected_block_loses_only_itself(datagrams: list[tuple[float, bytes]]) -> None:
    t, payload = next(d for d in datagrams if d[1][0] == 48)
    broken = bytes([48, 0, 6]) + b"\xff\xff\xff"  # FSPEC runs past the block
    dec = AsterixDecoder(dedup=False)
    dec.feed(broken + payload, t)
    assert dec.stats.rejected_blocks == 1
    assert len(dec.take().plots) > 0
    (err,) = dec.stats.errors
    assert err.category == 48 and err.offset == 0 and "rejected" in err.message
    # a broken block *header* ends the datagram but keeps the blocks before it
    dec = AsterixDecoder(dedup=False)
    dec.feed(payload + bytes([34, 0, 200]) + b"\x00", t)
    assert dec.stats.bad_framing == 1 and len(dec.take().plots) > 0


def test_cat021_and_cat020_fields() -> None:
    dec = AsterixDecoder(reference_epoch_s=reference_from_date("2024-01-01"))
    dec.feed(cat021_block() + cat020_block())
    b = dec.take()
    assert dec.stats.bad == 0
    a = b.adsb
    assert len(a) == 1
    assert a.lat_deg[0] == pytest.approx(47.25, abs=2e-7)
    assert a.lon_deg[0] == pytest.approx(-8.5, abs=2e-7)
    assert (a.icao24[0], a.callsign[0], a.fl[0], a.nacp[0], a.address_type[0]) == (
        0xABCDEF, b"SWR123", 350.25, 9, 0)
    assert a.t_s[0] == reference_from_date("2024-01-01") - 43200 + 45000.5
    m = b.mlat
    assert (m.x_m[0], m.y_m[0], m.icao24[0], m.callsign[0], m.fl[0], m.track_number[0]) == (
        -1000.5, 2000.0, 0x123456, b"EZY12", -2.5, 77)
    assert m.lat_deg[0] == pytest.approx(47.25, abs=1e-5)


def test_time_of_day_midnight_rollover() -> None:
    clock = TimeOfDayClock(reference_from_date("2024-03-01"))
    midnight = reference_from_date("2024-03-01") - 43200
    assert clock.resolve(86399.0) == midnight + 86399.0
    assert clock.resolve(0.5) == midnight + 86400.5  # next day
    assert clock.resolve(86399.5) == midnight + 86399.5  # a late record: back a day
    # a capture timestamp just after midnight dates a record sent just before it
    assert TimeOfDayClock().resolve(86399.0, hint_s=midnight + 86400.2) == midnight + 86399.0
    assert TimeOfDayClock().resolve(10.0) == 10.0  # no date at all: day 0


def test_json_records_and_errors(datagrams: list[tuple[float, bytes]]) -> None:
    dec = AsterixDecoder()
    recs = list(iter_json_records([*datagrams[:6], (math.nan, b"\x30\x00\x09zzz")], dec,
                                  errors=True))
    text = "\n".join(json.dumps(r, allow_nan=False) for r in recs)
    assert '"kind": "CAT048"' in text and '"source": "asterix"' in text
    plot = next(r for r in recs if r.get("callsign") == "THY9TX")
    assert plot["icao24"] == "4baacd" and plot["mode3a"] == "2303" and plot["fl"] == 360.0
    errs = [r for r in recs if "error" in r]
    assert len(errs) == 1 and errs[0]["offset"] == 0 and errs[0]["datagram"] == 6


def test_raw_block_files(tmp_path) -> None:
    raw = cat021_block() + cat020_block()
    path = tmp_path / "rec.ast"
    path.write_bytes(raw + b"\x30\x00")  # a cut-off block at the end
    ds = list(iter_asterix_file(path))
    assert [d.payload for d in ds] == [cat021_block(), cat020_block()]
    assert all(math.isnan(d.t_s) for d in ds)
    assert len(list(iter_asterix_file(PCAP))) == 100
    assert list(iter_raw_blocks(b"\x30\x00\x02")) == []
