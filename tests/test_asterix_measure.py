"""Sensor files and CAT048 plots → polar measurements (slant-range correction, biases,
identity, unknown sensors), CAT034 rotation periods."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest

from asterix_helpers import PCAP
from skyfuse.decode.asterix import AsterixDecoder, decode_datagrams
from skyfuse.decode.asterix_records import RadarPlots
from skyfuse.ingest.pcap import read_udp_file
from skyfuse.measure.batch import AddressType, MeasKind, SourceKind
from skyfuse.measure.geodesy import FT_TO_M, LocalFrame
from skyfuse.measure.radar import (
    gaussian_radius_m,
    ground_range_m,
    plots_to_measurements,
    rotation_periods_s,
)
from skyfuse.measure.sensors import SensorFileError, load_sensors, parse_sensors

SENSOR = """
[[sensor]]
name = "{name}"
sac = 25
sic = {sic}
kind = "modes"
lat_deg = {lat}
lon_deg = {lon}
height_m = 300.0
sigma_range_m = 30.0
sigma_azimuth_deg = 0.05
"""
SICS = (11, 12, 13, 14, 201, 204, 205)


def _sensors_text(sics: tuple[int, ...] = SICS) -> str:
    return "".join(SENSOR.format(name=f"R{s}", sic=s, lat=46.0 + s % 7 * 0.3,
                                 lon=7.0 + s % 5 * 0.4) for s in sics)


def test_sensor_file_ok_and_defaults(tmp_path) -> None:
    path = tmp_path / "sensors.toml"
    path.write_text(_sensors_text() + '[[sensor]]\nname = "P"\nsac = 1\nsic = 2\n'
                    'kind = "psr"\nlat_deg = 1.0\nlon_deg = 2.0\n')
    table = load_sensors(path)
    assert len(table) == 8
    assert table.index_of(25, 13) == 2 and table.index_of(9, 9) == -1
    p = table.sensors[7]
    assert (p.height_m, p.sigma_range_m, p.range_bias_m, p.rotation_period_s) == (
        0.0, 60.0, 0.0, 4.0)
    assert table.lookup(np.array([25, 1, 3]), np.array([205, 2, 3])).tolist() == [6, 7, -1]


@pytest.mark.parametrize(("text", "message"), [
    ('[[sensor]]\nname = "A"\nsac = 1\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n',
     "sensor[0]: missing required key 'sic'"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 300\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n',
     "sensor[0] (A): sic must be an integer 0..255"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 3\nkind = "lidar"\nlat_deg = 1\nlon_deg = 2\n',
     "kind must be one of"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 3\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n'
     'sigma_range_m = "big"\n', "sigma_range_m must be a finite number"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 3\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n'
     'sigma_rnage_m = 3\n', "unknown key 'sigma_rnage_m'"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 3\nkind = "ssr"\nlat_deg = 91\nlon_deg = 2\n',
     "lat_deg must be within"),
    ('[[sensor]]\nname = "A"\nsac = 1\nsic = 3\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n'
     '[[sensor]]\nname = "B"\nsac = 1\nsic = 3\nkind = "ssr"\nlat_deg = 1\nlon_deg = 2\n',
     "sensor[1] (B): sac/sic 1/3 already used by 'A'"),
    ("[[sensor]\n", "not valid TOML"),
])
def test_sensor_file_errors_name_file_and_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SensorFileError) as err:
        load_sensors(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_ground_range_law_of_cosines_against_geometry() -> None:
    R, h_s = 6_371_000.0, 250.0
    gamma = np.array([1e-4, 0.005, 0.02, 0.05])
    h_t = np.array([1000.0, 11_000.0, 3000.0, 12_000.0])
    sensor = np.array([0.0, R + h_s])  # earth centre at the origin
    target = np.stack([(R + h_t) * np.sin(gamma), (R + h_t) * np.cos(gamma)], axis=1)
    rho = np.linalg.norm(target - sensor, axis=1)
    g, el, gain, ok = ground_range_m(rho, h_s, h_t, R)
    assert ok.all()
    np.testing.assert_allclose(g, R * gamma, rtol=1e-9)
    d = target - sensor  # elevation: angle above the sensor's horizontal (x axis here)
    np.testing.assert_allclose(el, np.arctan2(d[:, 1], d[:, 0]), atol=1e-9)
    g2 = ground_range_m(rho + 0.01, h_s, h_t, R)[0]
    np.testing.assert_allclose(gain, np.minimum((g2 - g) / 0.01, 10.0), rtol=1e-4)
    _, _, _, bad = ground_range_m(np.array([100.0, np.nan]), h_s, np.array([9000.0, 0.0]), R)
    assert not bad.any()  # 100 m slant range to a target 8.75 km above: impossible


def test_plot_lands_on_the_true_position() -> None:
    """Slant range/azimuth computed exactly (ellipsoid) from a target's position come back,
    through the slant-range correction and the frame, within metres of that position."""
    frame = LocalFrame(46.5, 7.5)
    table = parse_sensors(_sensors_text((13,)))
    s = table.sensors[0]
    lat = np.array([47.8, 45.6, 46.9, 46.2])
    lon = np.array([7.2, 9.1, 5.9, 8.0])
    fl = np.array([350.0, 120.0, 50.0, 240.0])
    az, _el, srange = pymap3d.geodetic2aer(lat, lon, fl * 100 * FT_TO_M, s.lat_deg, s.lon_deg,
                                          s.height_m)
    m = len(lat)
    plots = RadarPlots.from_lists({
        "t_s": [1.0e9] * m, "tod_s": [0.0] * m, "sac": [25] * m, "sic": [13] * m,
        "slant_range_m": srange.tolist(), "azimuth_deg": az.tolist(),
        "detection_type": [5, 1, 2, 0], "mode3a": [0o1234, 0o7000, -1, 5],
        "mode3a_ok": [True, True, False, False], "fl": fl.tolist(),
        "fl_ok": [True, True, True, True], "icao24": [0x4BAACD, -1, -1, 7],
        "callsign": [b"THY9TX", b"", b"", b""], "track_number": [1, 2, 3, 4],
    })
    out = plots_to_measurements(plots, table, frame)
    b = out.batch
    assert out.unknown_sensors == {} and out.invalid == 0 and b.valid.all()
    assert (b.kind == MeasKind.POLAR).all()
    truth = frame.to_enu(lat, lon, 0.0)[:, :2]
    err = np.linalg.norm(b.xy_approx_m - truth, axis=1)
    assert err.max() < 20.0, err  # at 40-150 km: sphere vs ellipsoid in the elevation only
    assert b.source.tolist() == [SourceKind.MODE_S, SourceKind.PSR, SourceKind.SSR,
                                 SourceKind.MODE_S]  # TYP 0: from the sensor's kind
    assert b.icao24.tolist()[:2] == [0x4BAACD, -1]
    assert b.addr_type.tolist()[:2] == [AddressType.ICAO, AddressType.NONE]
    assert b.mode3a.tolist() == [0o1234, 0o7000, -1, -1]
    assert b.alt_ft.tolist() == (fl * 100).tolist()
    assert np.sqrt(b.R[:, 1, 1]) == pytest.approx(np.radians(0.05))
    assert np.all(np.sqrt(b.R[:, 0, 0]) > 29.9) and np.all(np.sqrt(b.R[:, 0, 0]) < 32.0)
    # biases are removed: a radar reading 200 m long and 0.1° clockwise gives the same
    biased = parse_sensors(_sensors_text((13,)).replace(
        "sigma_range_m = 30.0", "sigma_range_m = 30.0\nrange_bias_m = 200.0\n"
        "azimuth_bias_deg = 0.1"))
    shifted = plots.take(slice(None))
    shifted.slant_range_m[:] += 200.0
    shifted.azimuth_deg[:] += 0.1
    b2 = plots_to_measurements(shifted, biased, frame).batch
    np.testing.assert_allclose(b2.z[:, :2], b.z[:, :2], rtol=1e-9, atol=1e-9)
    assert gaussian_radius_m(45.0) == pytest.approx(6_378_101.0, abs=1.0)
    assert gaussian_radius_m(0.0) == pytest.approx(6_356_752.3, abs=1.0)  # b at the equator


def test_real_capture_to_measurements_unknown_sensor_counted() -> None:
    dec = AsterixDecoder()
    b = decode_datagrams((d.t_s, d.payload) for d in read_udp_file(PCAP))
    assert dec.stats.bad == 0
    frame = LocalFrame(46.5, 7.5)
    full = plots_to_measurements(b.plots, parse_sensors(_sensors_text()), frame)
    assert len(full.batch) == 64 and full.unknown_sensors == {} and full.invalid == 1
    assert int((full.batch.icao24 >= 0).sum()) == 63
    assert set(full.batch.sensor.tolist()) == set(range(7))
    assert np.isfinite(full.batch.z[full.batch.valid, :2]).all()
    part = plots_to_measurements(b.plots, parse_sensors(_sensors_text(SICS[:-1])), frame)
    n205 = int((b.plots.sic == 205).sum())
    assert part.unknown_sensors == {(25, 205): n205} and len(part.batch) == 64 - n205
    periods = rotation_periods_s(b.services)
    assert periods[(25, 12)] == pytest.approx(4.9453125)  # sent in I034/041
    assert all(3.0 < p < 13.0 for p in periods.values())  # estimated from sector crossings
