"""Measurements: reports turned into the tracker's input (geodesy, sensor error models)."""

from skyfuse.measure.batch import (
    NO_ADDRESS,
    NO_MODE3A,
    AddressType,
    MeasKind,
    MeasurementBatch,
    SourceKind,
)

__all__ = ["NO_ADDRESS", "NO_MODE3A", "AddressType", "MeasKind", "MeasurementBatch", "SourceKind"]
