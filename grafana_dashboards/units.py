"""Grafana unit ids for the registry's units: what a panel of a metric shows beside its values.

A panel's thresholds are the registry's, in the unit the metric declares, so the value must be
shown in that unit at every size. Many of Grafana's own unit ids rescale: `lengthm` prints 0.45 as
"450.00 mm" beside thresholds of 0.7 and 1.0 m, `kwatt` 0.8 as "800 W", `amp`, `volt`, `kvolt`,
`kwatth` likewise. A Grafana id is used here only where Grafana prints the unit as declared at any
size; every other unit is a custom suffix (`suffix:m`: Grafana itself puts the space before it).
tests/grafana_dashboards/test_units.py checks each choice with Grafana's own formatting code.
"""

from __future__ import annotations

import re

from schemas.sensor_type import Metric, MetricKind

# Display symbol -> the Grafana id (@grafana/data 11.6) that prints exactly that symbol and never
# rescales. Note the micro sign: Grafana's id is `conμgm3` with U+03BC (Greek mu); `conµgm3` with
# U+00B5 is no id at all and Grafana prints it literally ("35 conµgm3").
_GRAFANA_IDS = {
    "%": "percent",
    "°C": "celsius",
    "°F": "fahrenheit",
    "K": "kelvin",
    "ppm": "ppm",
    "ppb": "conppb",
    "µg/m³": "conμgm3",
    "mg/m³": "conmgm3",
    "m³": "m3",
    "m/s": "velocityms",
    "km/h": "velocitykmh",
    "hPa": "pressurehpa",
    "kPa": "pressurekpa",
    "lx": "lux",  # printed "lux"
}

# Numbers without a symbol: counts, states, indexes and ratios the panel title already names.
# Grafana's `short` would abbreviate them ("2 K" for 1,500 at 0 decimals): `none` never does.
_PLAIN = frozenset({"1", "fraction", "count", "bool", "state", "AQI", "index", "PF"})

# Symbols written before the number ("pH 7.2"); the prefix carries its own space.
_PREFIXES = frozenset({"pH"})

# Declared spellings that are not what people read -> the symbol: ASCII spellings pint reads,
# and the UN/CEFACT common codes of schemas/units.py (SPELLINGS).
_SYMBOLS = {
    "ug/m3": "µg/m³",
    "degC": "°C",
    "degF": "°F",
    "GQ": "µg/m³",
    "GP": "mg/m³",
    "M1": "mg/L",
    "59": "ppm",
    "61": "ppb",
    "CEL": "°C",
    "FAH": "°F",
    "KEL": "K",
    "P1": "%",
    "C62": "1",
    "2N": "dB(A)",
    "H87": "count",
    "MTR": "m",
    "CMT": "cm",
    "MMT": "mm",
    "KTM": "km",
    "MTQ": "m³",
    "LTR": "L",
    "MQH": "m³/h",
    "MQS": "m³/s",
    "MTS": "m/s",
    "KMH": "km/h",
    "WTT": "W",
    "KWT": "kW",
    "MAW": "MW",
    "KWH": "kWh",
    "KVA": "kVA",
    "KVR": "kvar",
    "AMP": "A",
    "VLT": "V",
    "KVT": "kV",
    "HTZ": "Hz",
    "PAL": "Pa",
    "A97": "hPa",
    "KPA": "kPa",
    "MPA": "MPa",
    "BAR": "bar",
    "MBR": "mbar",
    "LUX": "lx",
    "D54": "W/m²",
    "SEC": "s",
    "MIN": "min",
    "HUR": "h",
}

# A 2 or 3 right after a unit's letters is a power (m3, W/m2), as schemas/units.py reads it.
_POWER = re.compile(r"(?<=[A-Za-zµμ])([23])(?![\d.])")
_SUPERSCRIPTS = {"2": "²", "3": "³"}


def display_symbol(unit: str) -> str:
    """The symbol people read for a declared unit: a UN/CEFACT code or ASCII spelling as its
    symbol (GQ, ug/m3 -> µg/m³), powers as superscripts (m3/h -> m³/h), the micro sign for µ;
    other units as declared."""
    symbol = _SYMBOLS.get(unit, unit).replace("μ", "µ")
    return _POWER.sub(lambda power: _SUPERSCRIPTS[power[1]], symbol)


def grafana_unit(unit: str) -> str:
    """The Grafana unit id a value in the declared `unit` is shown with."""
    symbol = display_symbol(unit)
    if symbol in _PLAIN:
        return "none"
    if symbol in _PREFIXES:
        return f"prefix:{symbol} "
    return _GRAFANA_IDS.get(symbol, f"suffix:{symbol}")


def metric_unit(metric: Metric) -> str:
    """The unit a panel of this metric shows (a state metric shows a count of sensors)."""
    return "none" if metric.kind is MetricKind.STATE else grafana_unit(metric.unit)
