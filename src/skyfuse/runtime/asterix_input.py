"""ASTERIX into the pipeline: datagrams → :class:`AsterixDecoder` → measurements.

The plug between the ASTERIX stage (``decode/asterix.py``, ``measure/radar.py``,
``measure/sensors.py``) and :class:`~skyfuse.runtime.pipeline.Pipeline`:

* CAT048 plots → polar reports with the sensor's error model (needs a sensor file:
  plots of sensors absent from it are counted in ``unknown_sensors`` and dropped);
* CAT021 (ADS-B) and CAT020 (MLAT) positions → Cartesian reports with a NACp covariance
  (CAT020: the default NACp); their SAC/SIC, when in the sensor file, names the sensor;
* CAT034 (radar service messages) is decoded and counted (radar health), not tracked.

The local frame is the pipeline's: ``--receiver``, else the first sensor of the file, else
the first ADS-B/MLAT position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyfuse.decode.asterix import AsterixDecoder
from skyfuse.decode.asterix_records import AsterixBatch
from skyfuse.measure.adsb import nacp_sigma_m
from skyfuse.measure.batch import AddressType, MeasurementBatch, SourceKind
from skyfuse.measure.radar import plots_to_measurements
from skyfuse.measure.sensors import SensorTable
from skyfuse.runtime.pipeline import Pipeline

__all__ = ["AsterixCounters", "AsterixInput"]

_ATP_TYPE = np.array([AddressType.ICAO, AddressType.ICAO, AddressType.NON_ICAO,
                      AddressType.NON_ICAO], np.int8)


@dataclass(slots=True)
class AsterixCounters:
    """What the ASTERIX input did: reports per kind, plots of unknown sensors."""

    plots: int = 0
    services: int = 0
    adsb: int = 0
    mlat: int = 0
    invalid: int = 0
    unknown_sensors: dict[tuple[int, int], int] = field(default_factory=dict)


class AsterixInput:
    """Feeds ASTERIX datagrams into ``pipeline``; see the module docstring."""

    def __init__(self, pipeline: Pipeline, sensors: SensorTable | None,
                 reference_epoch_s: float | None = None) -> None:
        self.pipeline = pipeline
        self.sensors = sensors if sensors is not None else SensorTable(())
        self.decoder = AsterixDecoder(reference_epoch_s=reference_epoch_s)
        self.counters = AsterixCounters()
        if len(self.sensors) and pipeline.frame is None:
            s = self.sensors.sensors[0]
            pipeline.ensure_frame(s.lat_deg, s.lon_deg)

    def feed(self, payload: bytes, t_capture_s: float = float("nan")) -> None:
        """Decode one datagram and hand its reports to the pipeline."""
        self.decoder.feed(payload, t_capture_s)
        self._take(self.decoder.take())

    def _sensor_of(self, sac: np.ndarray, sic: np.ndarray) -> np.ndarray:
        idx = self.sensors.lookup(sac, sic) if len(self.sensors) else np.full(len(sac), -1)
        return np.where(idx >= 0, idx, 1000 + sac.astype(np.int32) * 256 + sic).astype(np.int32)

    def _take(self, b: AsterixBatch) -> None:
        c = self.counters
        p = self.pipeline
        c.services += len(b.services)
        if len(b.plots):
            frame = p.frame if p.frame is not None else None
            if frame is None:
                for k in zip(b.plots.sac.tolist(), b.plots.sic.tolist(), strict=True):
                    c.unknown_sensors[k] = c.unknown_sensors.get(k, 0) + 1
            else:
                rm = plots_to_measurements(b.plots, self.sensors, frame)
                for k, n in rm.unknown_sensors.items():
                    c.unknown_sensors[k] = c.unknown_sensors.get(k, 0) + n
                c.plots += len(rm.batch)
                c.invalid += rm.invalid
                p.add_measurements(rm.batch)
        for rep, mlat in ((b.adsb, False), (b.mlat, True)):
            ok = np.flatnonzero(np.isfinite(rep.lat_deg) & np.isfinite(rep.lon_deg))
            if len(ok) == 0:
                continue
            frame = p.ensure_frame(rep.lat_deg[ok[0]], rep.lon_deg[ok[0]])
            xy = frame.to_plane(rep.lat_deg[ok], rep.lon_deg[ok])
            nacp = getattr(rep, "nacp", np.full(len(rep), -1, np.int8))[ok]
            atype = (_ATP_TYPE[np.clip(rep.address_type[ok], 0, 3)] if not mlat
                     else np.full(len(ok), AddressType.ICAO, np.int8))
            atype = np.where(rep.icao24[ok] >= 0, atype, AddressType.NONE)
            batch = MeasurementBatch.cartesian(
                rep.t_s[ok], xy, nacp_sigma_m(nacp),
                sensor=self._sensor_of(rep.sac[ok], rep.sic[ok]),
                source=np.full(len(ok), SourceKind.MLAT if mlat else SourceKind.ADSB, np.int8),
                icao24=rep.icao24[ok], addr_type=atype, callsign=rep.callsign[ok],
                alt_ft=rep.fl[ok] * 100.0, nacp=nacp)
            if mlat:
                c.mlat += len(ok)
            else:
                c.adsb += len(ok)
            p.add_measurements(batch)
