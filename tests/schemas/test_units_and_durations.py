from __future__ import annotations

import pytest

from schemas.durations import format_duration, parse_duration
from schemas.units import unit_problem


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86400), (45, 45), ("1.5m", 90)],
)
def test_durations_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5m", 0, True, "5 minutes", None])
def test_bad_durations_say_what_is_accepted(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_durations_round_trip_to_the_shortest_form() -> None:
    assert [format_duration(s) for s in (30, 300, 3600, 90, 86400)] == [
        "30s",
        "5m",
        "1h",
        "90s",
        "1d",
    ]


def test_unit_suggestions_fix_case() -> None:
    assert unit_problem("MPa") is None
    assert unit_problem("m3/hr") is None  # pint reads hr as hour
    assert unit_problem("Mpa") == "unknown unit 'Mpa'; did you mean 'MPa'?"
