"""Units are quantities: what a metric may declare and what a reading may arrive in.

A metric declares any unit pint understands (``kPa``, ``m3/h``, ``µg/m³``, ``degF``), one of the
symbols people write that pint reads otherwise or not at all (``%RH``, ``dB(A)``, ``pH``, ``NTU``,
``AQI``, ``count``, ``bool``), or a UN/CEFACT common code as smart-city data models send them
(``GQ`` µg/m³, ``CEL`` °C, ``P1`` percent). The declared text stays the display symbol; the
quantity behind it decides which readings can be converted into it (`conversion`), with the
factors computed once when a validator is built, never per reading.

Quantities without an SI dimension that must never turn into one another (an AQI, a pH, a
turbidity, a count, a binary or enumerated state, an A-weighted level, a power factor) each have
a dimension of their own in ``unit_definitions.txt``. Suggestions for an unknown unit only ever
propose a spelling that means the same unit ('Mpa' -> 'MPa'), never a neighbour of another size
('mg/m3' is not 'µg/m3'): a wrong factor of 1000 is worse than no suggestion.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import pint

Registry = pint.UnitRegistry[float]
DEFINITIONS = Path(__file__).parent / "unit_definitions.txt"
MAX_UNIT_CHARS = 32  # a reading's unit text is attacker-controlled: longer is refused unparsed

# Spellings pint misreads or does not know -> the pint expression they mean. Our symbols first
# (they are preferred in suggestions), then UN/CEFACT Recommendation 20 common codes.
SPELLINGS: dict[str, str] = {
    "%RH": "percent",  # relative humidity; a 0-1 fraction converts into it (x 100)
    "fraction": "dimensionless",  # a 0-1 ratio, for readings of % metrics
    "dB(A)": "a_weighted_decibel",
    "dBA": "a_weighted_decibel",
    "dB": "a_weighted_decibel",  # sound meters and data models name the weighting in the metric
    "AQI": "air_quality_index",
    "index": "index_value",
    "pH": "ph_value",  # pint: picohenry
    "NTU": "nephelometric_turbidity_unit",
    "PF": "power_factor_value",
    "count": "counted_item",  # pint: a plain number, which a % would convert into
    "bool": "binary_state",
    "state": "enumerated_state",
    # UN/CEFACT common codes (Recommendation 20) that environment and utility models use
    "GQ": "microgram / meter ** 3",
    "GP": "milligram / meter ** 3",
    "M1": "milligram / liter",
    "59": "ppm",
    "61": "ppb",
    "CEL": "degree_Celsius",
    "FAH": "degree_Fahrenheit",
    "KEL": "kelvin",
    "P1": "percent",
    "C62": "dimensionless",
    "2N": "a_weighted_decibel",
    "H87": "counted_item",
    "MTR": "meter",
    "CMT": "centimeter",
    "MMT": "millimeter",
    "KTM": "kilometer",
    "MTQ": "meter ** 3",
    "LTR": "liter",
    "MQH": "meter ** 3 / hour",
    "MQS": "meter ** 3 / second",
    "MTS": "meter / second",
    "KMH": "kilometer / hour",
    "WTT": "watt",
    "KWT": "kilowatt",
    "MAW": "megawatt",
    "KWH": "kilowatt_hour",
    "KVA": "kilovolt_ampere",
    "KVR": "kilovolt_ampere_reactive",
    "AMP": "ampere",
    "VLT": "volt",
    "KVT": "kilovolt",
    "HTZ": "hertz",
    "PAL": "pascal",
    "A97": "hectopascal",
    "KPA": "kilopascal",
    "MPA": "megapascal",
    "BAR": "bar",
    "MBR": "millibar",
    "LUX": "lux",
    "D54": "watt / meter ** 2",
    "SEC": "second",
    "MIN": "minute",
    "HUR": "hour",
}

# Symbols engineers write that pint reads as they are; with SPELLINGS, the list suggestions are
# drawn from (a suggestion must come from a list a person chose, not from pint's 1,000 names).
COMMON_SYMBOLS = (
    "1",
    "%",
    "°C",
    "°F",
    "K",
    "ppm",
    "ppb",
    "µg/m3",
    "µg/m³",
    "mg/m3",
    "mg/m³",
    "mg/L",
    "lx",
    "Wh",
    "kWh",
    "MWh",
    "W",
    "kW",
    "MW",
    "kvar",
    "kVA",
    "V",
    "kV",
    "A",
    "Hz",
    "Pa",
    "hPa",
    "kPa",
    "MPa",
    "m3/h",
    "m3",
    "L/s",
    "m/s",
    "km/h",
    "m",
    "cm",
    "mm",
    "mm/h",
    "µS/cm",
    "mS/cm",
    "W/m2",
    "s",
    "min",
    "h",
)

# Names for the dimensions messages mention most; others are shown as pint writes them.
_DIMENSION_NAMES = {
    "[temperature]": "a temperature",
    "[mass] / [length] / [time] ** 2": "a pressure",
    "[mass] / [length] ** 3": "a mass concentration",
    "[length] ** 3 / [time]": "a volume flow",
    "[length] ** 3": "a volume",
    "[length]": "a length",
    "[length] / [time]": "a speed",
    "[time]": "a duration",
    "[mass] * [length] ** 2 / [time] ** 3": "a power",
    "[mass] * [length] ** 2 / [time] ** 2": "an energy",
    "[current]": "a current",
    "[mass] * [length] ** 2 / [current] / [time] ** 3": "a voltage",
    "dimensionless": "a plain ratio",
    "[air_quality_index]": "an air-quality index",
    "[index]": "an index",
    "[acidity]": "a pH",
    "[turbidity]": "a turbidity",
    "[power_factor]": "a power factor",
    "[a_weighted_sound_level]": "an A-weighted sound level",
    "[count]": "a count",
    "[binary_state]": "a binary state",
    "[enumerated_state]": "an enumerated state",
    "[reactive_power]": "a reactive power",
}
# Digits after a unit name are a power: m3 -> m**3, cm2 -> cm**2 (pint reads 'm3' as a name).
_POWER = re.compile(r"(?<=[A-Za-zµμ])([23])(?![\d.])")
_TWO_CASE_PREFIXES = frozenset("mMpPyYzZrRqQ")  # milli/mega, pico/peta, yocto/yotta, ...
_FOLD = str.maketrans({"³": "3", "²": "2", "μ": "µ", " ": None, "^": None, "*": None})


class UnitError(ValueError):
    """A unit text that cannot be used; the message says why and what would work."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """declared = arriving * scale + offset (offset only between temperature scales)."""

    scale: float
    offset: float


@cache
def unit_registry() -> Registry:
    """pint's registry with our definitions: built once per process and shared, like a constant;
    it holds no state that changes after loading.

    Parsing pint's definitions takes about 0.35 s, most of a service's start-up; pint keeps the
    parsed result in the user's cache folder (about 20 ms from the second start on). A folder
    that cannot be written or a cache file another process is still writing costs only the time:
    the registry is then built from the definitions as before."""
    try:
        registry: Registry = _pint_registry(cache_folder=":auto:")
    except Exception:  # pint's cache is an optimisation: any failure of it means "parse"
        registry = _pint_registry(cache_folder=None)
    registry.load_definitions(str(DEFINITIONS))
    return registry


def _pint_registry(cache_folder: str | None) -> Registry:
    return pint.UnitRegistry(
        preprocessors=[lambda text: _POWER.sub(r"**\1", text)], cache_folder=cache_folder
    )


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """The pint unit a text means; raises UnitError naming the text (with a same-unit suggestion
    when there is one)."""
    if not text or len(text) > MAX_UNIT_CHARS or not text.isprintable():
        raise UnitError(f"{text!r} is not a unit (1 to {MAX_UNIT_CHARS} printable characters)")
    registry = unit_registry()
    try:
        unit = registry.parse_units(SPELLINGS.get(text, text))
    except Exception:  # pint raises many kinds (undefined, syntax, tokenizer): all mean unknown
        raise UnitError(_unknown(text)) from None
    if not _is_linear(unit):
        what = f"{text!r} is a logarithmic unit; declare the level as sent (dB(A) for sound)"
        raise UnitError(what)
    return unit


def unit_problem(text: str) -> str | None:
    """Why a metric cannot declare this unit, or None. A unit pint reads, but spelt like one of
    our symbols that means something else ('ph' is pint's picohour, not pH; 'pa' a picoyear,
    not Pa), is ambiguous: pint's thousand names make many typos valid units."""
    try:
        unit = parse_unit(text)
    except UnitError as error:
        return str(error)
    for look_alike in _look_alikes(text, same_prefix=False):
        other = parse_unit(look_alike)
        # mW beside MW is a deliberate prefix: same quantity, same letters after the prefix.
        prefixed = look_alike[1:] == text[1:] and other.dimensionality == unit.dimensionality
        if other != unit and not prefixed:
            meaning = (
                f"{other:D}"
                if other.dimensionality == unit.dimensionality
                else quantity_name(look_alike)
            )
            return (
                f"ambiguous unit {text!r}: pint reads it as {unit:D}, but {look_alike!r} is "
                f"{meaning}; write the one you mean exactly"
            )
    return None


def quantity_name(text: str) -> str:
    """'a pressure', 'an A-weighted sound level': what kind of thing a unit measures."""
    dimensionality = str(parse_unit(text).dimensionality)
    return _DIMENSION_NAMES.get(dimensionality, dimensionality)


def conversion(arriving: str, declared: str) -> Conversion:
    """Factors turning a value in `arriving` into `declared`; raises UnitError when `arriving` is
    unknown or measures another quantity (the message names both units)."""
    target = parse_unit(declared)
    try:
        source = parse_unit(arriving)
    except UnitError as error:
        raise UnitError(f"{error} (the declared unit is {declared!r})") from None
    if source == target:
        return Conversion(1.0, 0.0)
    if source.dimensionality != target.dimensionality:
        raise UnitError(
            f"unit {arriving!r} ({quantity_name(arriving)}) cannot be converted to the declared "
            f"unit {declared!r} ({quantity_name(declared)})"
        )
    quantity = unit_registry().Quantity
    offset = float(quantity(0.0, source).to(target).magnitude)
    # From a span of 1000, so °F -> °C gives 5/9 to the last digit rather than (1 - 0) noise.
    scale = (float(quantity(1e3, source).to(target).magnitude) - offset) / 1e3
    return Conversion(scale, offset)


def spellings_like(declared: str) -> list[str]:
    """Every spelling of SPELLINGS and COMMON_SYMBOLS that converts into `declared`: the units
    a validator prepares factors for before the first reading arrives."""
    target = parse_unit(declared).dimensionality
    return [
        text for text in (*SPELLINGS, *COMMON_SYMBOLS) if parse_unit(text).dimensionality == target
    ]


def _is_linear(unit: pint.Unit) -> bool:
    """True for units that convert by scale and offset (all but logarithmic ones: dB, dBm)."""
    registry = unit_registry()
    try:
        base = registry.Quantity(1.0, unit).to_base_units().units
        points = [float(registry.Quantity(x, unit).to(base).magnitude) for x in (0.0, 1.0, 1e3)]
    except Exception:  # offset units inside a product (degC/h) cannot be converted at all
        return False
    scale = points[1] - points[0]
    return math.isclose(points[2], points[0] + 1e3 * scale, rel_tol=1e-9, abs_tol=1e-9)


def _unknown(text: str) -> str:
    candidates = _look_alikes(text)
    meanings = {parse_unit(c) for c in candidates}
    if len(meanings) == 1:
        return f"unknown unit {text!r}; did you mean {candidates[0]!r}?"
    if len(meanings) > 1:
        options = " or ".join(f"{c!r} ({parse_unit(c):D})" for c in candidates)
        return f"ambiguous unit {text!r}: {options}? Spell it exactly"
    return (
        f"unknown unit {text!r}: not a pint unit, nor one of the symbols and UN/CEFACT codes in "
        "schemas/units.py (README: Units and conversions)"
    )


def _look_alikes(text: str, *, same_prefix: bool = True) -> list[str]:
    """Our symbols spelt like `text` but for case, superscripts and spaces. With `same_prefix`
    (for suggestions), where the first letter is an SI prefix in both cases (milli/mega,
    pico/peta, ...) its case must match: 'Mpa' is MPa, while 'mpa' might be mPa as well ('ntu'
    is NTU: there is no prefix 'N')."""
    return [
        c
        for c in (*COMMON_SYMBOLS, *SPELLINGS)
        if _fold(c) == _fold(text)
        and (not same_prefix or c[:1] == text[:1] or c[:1] not in _TWO_CASE_PREFIXES)
    ]


def _fold(text: str) -> str:
    return text.translate(_FOLD).casefold()
