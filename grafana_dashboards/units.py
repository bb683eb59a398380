"""Grafana unit ids for the registry's units: what a panel of a metric shows beside its values."""

from __future__ import annotations

from schemas.sensor_type import Metric, MetricKind

# Registry unit -> Grafana unit id; units Grafana has no id for are shown as a suffix.
_UNITS = {
    "%": "percent",
    "%RH": "humidity",
    "°C": "celsius",
    "ppm": "ppm",
    "µg/m3": "conµgm3",
    "µg/m³": "conµgm3",
    "ug/m3": "conµgm3",
    "GQ": "conµgm3",
    "mg/m3": "conmgm3",
    "mg/m³": "conmgm3",
    "GP": "conmgm3",
    "dB(A)": "dB",
    "dB": "dB",
    "AQI": "none",
    "index": "none",
    "state": "none",
    "CEL": "celsius",
    "P1": "percent",
    "lx": "lux",
    "kWh": "kwatth",
    "kW": "kwatt",
    "kvar": "kvar",
    "kVA": "kvoltamp",
    "V": "volt",
    "kV": "kvolt",
    "A": "amp",
    "Hz": "hertz",
    "m3": "m3",
    "m/s": "velocityms",
    "m": "lengthm",
    "mm": "lengthmm",
    "count": "short",
    "bool": "short",
    "PF": "none",
    "s": "s",
}


def grafana_unit(unit: str) -> str:
    return _UNITS.get(unit, f"suffix: {unit}")


def metric_unit(metric: Metric) -> str:
    """The unit a panel of this metric shows (a state metric shows a count of sensors)."""
    return "short" if metric.kind is MetricKind.STATE else grafana_unit(metric.unit)
