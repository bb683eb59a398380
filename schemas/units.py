"""The units a metric may declare.

A closed list, because storage, dashboards and alert rules compare numbers across sensors: two
files that say "Mpa" and "MPa" would silently split one quantity into two. Unknown units are
rejected with the closest known spelling suggested.
"""

from __future__ import annotations

import difflib

# symbol -> quantity it measures (used for documentation and for the JSON Schema enum)
UNITS: dict[str, str] = {
    "%": "ratio in percent (load, occupancy, state of charge)",
    "%RH": "relative humidity",
    "°C": "temperature",
    "ppm": "gas concentration (CO2)",
    "µg/m3": "particulate concentration (PM2.5, PM10)",
    "dB(A)": "sound level",
    "lx": "illuminance",
    "kWh": "energy (cumulative meter reading)",
    "kW": "active power",
    "kvar": "reactive power",
    "kVA": "apparent power",
    "V": "voltage",
    "kV": "voltage (medium voltage)",
    "A": "current",
    "Hz": "frequency",
    "PF": "power factor (dimensionless, -1..1)",
    "MPa": "pressure",
    "kPa": "pressure",
    "m3/h": "volume flow",
    "m3": "volume (cumulative meter reading)",
    "m/s": "velocity",
    "m": "level or depth",
    "mm": "level, depth or displacement",
    "mm/h": "rain intensity",
    "NTU": "turbidity",
    "mg/L": "dissolved concentration (residual chlorine, oxygen)",
    "pH": "acidity",
    "µS/cm": "conductivity",
    "count": "number of things (vehicles, free spaces, sessions)",
    "bool": "binary state, 0 or 1 (alarm, occupied, fault)",
    "s": "duration",
}


def is_known_unit(symbol: str) -> bool:
    return symbol in UNITS


def suggest_unit(symbol: str) -> str | None:
    """The closest known unit, ignoring case first (the usual mistake is 'Mpa' for 'MPa')."""
    folded = {u.casefold(): u for u in UNITS}
    if symbol.casefold() in folded:
        return folded[symbol.casefold()]
    close = difflib.get_close_matches(symbol, list(UNITS), n=1, cutoff=0.6)
    return close[0] if close else None
