"""Scales: drivers (MT-SICS, Toledo 8213, NCI SCP-01, CAS, HID POS), simulator, capture."""

from app.weighing.capture import BoxWeighing, CaptureOutcome, CaptureState
from app.weighing.detect import DetectedScale, detect_scale
from app.weighing.driver import ScaleDriver, ScalePoller
from app.weighing.errors import (
    BadScaleUrl,
    ManualEntryNotAllowed,
    ScaleCommandRejected,
    ScaleCommandUnsupported,
    ScaleDisconnected,
    ScaleError,
    ScaleFault,
    ScaleProtocolError,
    ScaleTimeout,
    UnknownUnit,
)
from app.weighing.reading import ScaleReading, WeightUnit, parse_unit, to_grams
from app.weighing.simulated import ManualScale, SimulatedScale
from app.weighing.url import open_scale, scale_from_url

__all__ = [
    "BadScaleUrl",
    "BoxWeighing",
    "CaptureOutcome",
    "CaptureState",
    "DetectedScale",
    "ManualEntryNotAllowed",
    "ManualScale",
    "ScaleCommandRejected",
    "ScaleCommandUnsupported",
    "ScaleDisconnected",
    "ScaleDriver",
    "ScaleError",
    "ScaleFault",
    "ScalePoller",
    "ScaleProtocolError",
    "ScaleReading",
    "ScaleTimeout",
    "SimulatedScale",
    "UnknownUnit",
    "WeightUnit",
    "detect_scale",
    "open_scale",
    "parse_unit",
    "scale_from_url",
    "to_grams",
]
