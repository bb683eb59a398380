"""Units are quantities: every symbol and code we add resolves, conversions are right (offsets
included), quantities never turn into one another, and suggestions never change the size."""

from __future__ import annotations

import pytest

from schemas.units import (
    COMMON_SYMBOLS,
    SPELLINGS,
    UnitError,
    conversion,
    parse_unit,
    spellings_like,
    unit_problem,
)


@pytest.mark.parametrize("text", [*SPELLINGS, *COMMON_SYMBOLS])
def test_every_symbol_and_code_we_list_is_a_usable_unit(text: str) -> None:
    assert unit_problem(text) is None
    assert conversion(text, text).scale == 1.0


@pytest.mark.parametrize(
    ("code", "symbol"),
    [
        ("GQ", "µg/m³"),
        ("GP", "mg/m³"),
        ("M1", "mg/L"),
        ("CEL", "°C"),
        ("FAH", "°F"),
        ("KEL", "K"),
        ("P1", "%"),
        ("C62", "1"),
        ("59", "ppm"),
        ("61", "ppb"),
        ("2N", "dB(A)"),
        ("H87", "count"),
        ("MTR", "m"),
        ("CMT", "cm"),
        ("MMT", "mm"),
        ("KTM", "km"),
        ("MTQ", "m3"),
        ("LTR", "L"),
        ("MQH", "m3/h"),
        ("MQS", "m3/s"),
        ("MTS", "m/s"),
        ("KMH", "km/h"),
        ("WTT", "W"),
        ("KWT", "kW"),
        ("MAW", "MW"),
        ("KWH", "kWh"),
        ("KVA", "kVA"),
        ("KVR", "kvar"),
        ("AMP", "A"),
        ("VLT", "V"),
        ("KVT", "kV"),
        ("HTZ", "Hz"),
        ("PAL", "Pa"),
        ("A97", "hPa"),
        ("KPA", "kPa"),
        ("MPA", "MPa"),
        ("BAR", "bar"),
        ("MBR", "mbar"),
        ("LUX", "lx"),
        ("D54", "W/m2"),
        ("SEC", "s"),
        ("MIN", "min"),
        ("HUR", "h"),
    ],
)
def test_un_cefact_codes_mean_their_unit(code: str, symbol: str) -> None:
    assert parse_unit(code) == parse_unit(symbol)
    factors = conversion(code, symbol)
    assert (factors.scale, factors.offset) == pytest.approx((1.0, 0.0))


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("µg/m³", "microgram / meter ** 3"),
        ("µg/m3", "microgram / meter ** 3"),
        ("ug/m3", "microgram / meter ** 3"),
        ("μg/m3", "microgram / meter ** 3"),  # Greek mu, as some keyboards type it
        ("mg/m³", "milligram / meter ** 3"),
        ("m3/h", "meter ** 3 / hour"),
        ("µS/cm", "microsiemens / centimeter"),
        ("%RH", "percent"),
        ("fraction", "dimensionless"),
    ],
)
def test_written_symbols_are_the_quantities_they_look_like(written: str, same_as: str) -> None:
    assert parse_unit(written) == parse_unit(same_as)


@pytest.mark.parametrize(
    ("arriving", "declared", "sent", "stored"),
    [
        ("kPa", "MPa", 310, 0.31),
        ("°F", "°C", 212, 100.0),
        ("FAH", "°C", 50, 10.0),
        ("K", "°C", 273.15, 0.0),
        ("1", "%", 0.62, 62.0),
        ("fraction", "%RH", 0.62, 62.0),
        ("P1", "%RH", 62, 62.0),
        ("mg/m3", "µg/m3", 0.9, 900.0),
        ("GP", "µg/m³", 1.2, 1200.0),
        ("GQ", "mg/m³", 900, 0.9),
        ("L/s", "m3/h", 1, 3.6),
        ("W", "kW", 1500, 1.5),
        ("Mvar", "kvar", 1, 1000.0),
        ("dB", "dB(A)", 55, 55.0),
    ],
)
def test_conversions(arriving: str, declared: str, sent: float, stored: float) -> None:
    factors = conversion(arriving, declared)
    assert sent * factors.scale + factors.offset == pytest.approx(stored, abs=1e-9)


@pytest.mark.parametrize(
    ("arriving", "declared", "quantities"),
    [
        ("kPa", "°C", ("a pressure", "a temperature")),
        ("count", "AQI", ("a count", "an air-quality index")),
        ("AQI", "index", ("an air-quality index", "an index")),
        ("pH", "NTU", ("a pH", "a turbidity")),
        ("bool", "count", ("a binary state", "a count")),
        ("state", "bool", ("an enumerated state", "a binary state")),
        ("1", "dB(A)", ("a plain ratio", "an A-weighted sound level")),
        ("%", "PF", ("a plain ratio", "a power factor")),
        ("kW", "kvar", ("a power", "a reactive power")),
        ("count", "%", ("a count", "a plain ratio")),
    ],
)
def test_other_quantities_are_never_converted(
    arriving: str, declared: str, quantities: tuple[str, str]
) -> None:
    with pytest.raises(UnitError) as refused:
        conversion(arriving, declared)
    assert str(refused.value) == (
        f"unit {arriving!r} ({quantities[0]}) cannot be converted to the declared unit "
        f"{declared!r} ({quantities[1]})"
    )


def test_an_unknown_arriving_unit_is_named_with_the_declared_one() -> None:
    with pytest.raises(UnitError, match=r"unknown unit 'kettle'.*declared unit is 'MPa'"):
        conversion("kettle", "MPa")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Mpa", "unknown unit 'Mpa'; did you mean 'MPa'?"),
        ("kpa", "unknown unit 'kpa'; did you mean 'kPa'?"),
        ("kWH", "unknown unit 'kWH'; did you mean 'kWh'?"),
        ("Mwh", "unknown unit 'Mwh'; did you mean 'MWh'?"),
        ("ntu", "unknown unit 'ntu'; did you mean 'NTU'?"),
        ("Kpa", "unknown unit 'Kpa'; did you mean 'kPa'?"),
        ("Kwh", "unknown unit 'Kwh'; did you mean 'kWh'?"),
        ("", "'' is not a unit (1 to 32 printable characters)"),
        ("dBm", "'dBm' is a logarithmic unit; declare the level as sent (dB(A) for sound)"),
    ],
)
def test_unknown_units_get_same_unit_suggestions(text: str, problem: str) -> None:
    assert unit_problem(text) == problem


@pytest.mark.parametrize("text", ["mpa", "mw", "UG/M3", "Ug/m3", "µg/m3x"])
def test_suggestions_never_propose_another_size(text: str) -> None:
    """mg/m3 is known now (no more "did you mean 'µg/m3'"); for these, which differ from a known
    unit by the case of the prefix letter, nothing is offered: milli or mega, micro or nothing
    is the difference between right and wrong by 10^3 to 10^9."""
    problem = unit_problem(text)
    assert problem is not None
    assert "did you mean" not in problem


def test_a_validator_prepares_every_spelling_of_the_quantity() -> None:
    spellings = spellings_like("µg/m3")
    assert {"GQ", "GP", "µg/m³", "mg/m3", "mg/m³", "M1"} <= set(spellings)
    assert "ppm" not in spellings  # a ratio, not a mass concentration
    assert {"CEL", "FAH", "KEL", "°F"} <= set(spellings_like("°C"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pa", "ambiguous unit 'pa': pint reads it as picoyear, but 'Pa' is a pressure"),
        ("PH", "ambiguous unit 'PH': pint reads it as petahenry, but 'pH' is a pH"),
        (
            "Mg/m3",
            "ambiguous unit 'Mg/m3': pint reads it as megagram / meter ** 3, but 'mg/m³' "
            "is milligram / meter ** 3",
        ),
    ],
)
def test_typos_pint_happens_to_know_are_ambiguous(text: str, problem: str) -> None:
    assert unit_problem(text) == f"{problem}; write the one you mean exactly"


@pytest.mark.parametrize("text", ["mW", "MW", "kW", "mS/cm", "ms", "mm/h"])
def test_a_deliberate_prefix_is_not_ambiguous(text: str) -> None:
    assert unit_problem(text) is None
