"""ADS-B positions → MeasurementBatch: local frame, NACp covariance, identity."""

from __future__ import annotations

import numpy as np

from modes_helpers import AFR_AVR, CDG, afr_oracle
from skyfuse.decode.modes import ModeSDecoder
from skyfuse.ingest.avr import AvrParser
from skyfuse.ingest.sbs import SbsParser
from skyfuse.ingest.timebase import Timebase, TimeMode
from skyfuse.measure.adsb import EPU_M, adsb_measurements, nacp_sigma_m, sbs_measurements
from skyfuse.measure.batch import AddressType, MeasKind, SourceKind
from skyfuse.measure.geodesy import LocalFrame


def test_nacp_table() -> None:
    s = nacp_sigma_m(np.array([11, 10, 9, 8, 7, -1, 0]))
    assert np.allclose(s[:5], np.array([3, 10, 30, 92.6, 185.2]) / 2.45)
    assert s[5] == s[3] and np.isinf(s[6]) and len(EPU_M) == 12


def test_afr_positions_to_measurements() -> None:
    t0, _ = afr_oracle()
    b = AvrParser().feed(AFR_AVR.read_bytes())
    dec = ModeSDecoder(receiver=CDG).decode(
        Timebase(TimeMode.COUNTER, t0_s=t0).to_seconds(b.ticks), b.data)
    frame = LocalFrame(*CDG)
    m = adsb_measurements(dec, frame)
    assert len(m) == int(np.isfinite(dec.lat_deg).sum()) > 500
    assert (m.kind == MeasKind.CARTESIAN_2D).all() and (m.source == SourceKind.ADSB).all()
    assert (m.icao24 == 0x393322).all() and (m.addr_type == AddressType.ICAO).all()
    assert b"AFR34ZG" in set(m.callsign.tolist())
    assert m.t_s.min() >= t0 and np.all(np.diff(m.t_s) >= 0)
    assert np.hypot(m.z[:, 0], m.z[:, 1]).max() < 60_000
    lat, lon, _ = frame.to_geodetic(m.z[:, 0], m.z[:, 1])
    ok = np.isfinite(dec.lat_deg)
    assert np.allclose(lat, dec.lat_deg[ok], atol=1e-7)
    assert np.allclose(lon, dec.lon_deg[ok], atol=1e-7)
    sig = np.sqrt(m.R[:, 0, 0])
    assert np.allclose(sig, nacp_sigma_m(m.nacp)) and np.allclose(m.R[:, 0, 0], m.R[:, 1, 1])


def test_sbs_measurements() -> None:
    p = SbsParser()
    b = p.feed(
        b"MSG,1,1,1,4CA2D6,1,2024/07/06,06:43:09.000,2024/07/06,06:43:09.000,RYR123  ,,,,,"
        b",,,,,,\nMSG,3,1,1,4CA2D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,37000"
        b",,,51.5,-0.12,,,0,0,0,0\nMSG,3,1,1,4CA2D6,1,2024/07/06,06:43:10.525,2024/07/06,"
        b"06:43:10.525,,37000,,,951.5,-0.12,,,0,0,0,0\n")
    m = sbs_measurements(b, LocalFrame(51.5, -0.12), sensor=2)
    assert len(m) == 1 and m.callsign[0] == b"RYR123" and m.alt_ft[0] == 37000
    assert abs(m.z[0, 0]) < 1e-6 and m.sensor[0] == 2
