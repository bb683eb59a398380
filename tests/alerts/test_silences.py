"""Silences: Alertmanager-style matchers and time windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.errors import SilenceError
from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify.silences import Matcher, MatchOp, Silence, alert_labels, is_silenced

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

LABELS = {
    "rule_id": "default:water_main_pressure:pressure:below",
    "type": "water_main_pressure",
    "domain": "water",
    "metric": "pressure",
    "subdistrict": "yinhang",
    "sensor": "yp-wp-0001",
    "grade": "orange",
}


def silence(
    *matchers: str,
    starts: datetime = T0,
    ends: datetime = T0 + timedelta(hours=2),
    id: str = "s1",
) -> Silence:
    return Silence(
        id=id,
        matchers=tuple(Matcher.parse(m) for m in matchers),
        starts_at=starts,
        ends_at=ends,
        created_by="duty officer wang",
        comment="planned works on the Yinhang main",
    )


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ("subdistrict=yinhang", "subdistrict", MatchOp.EQUAL, "yinhang"),
        ("grade!=blue", "grade", MatchOp.NOT_EQUAL, "blue"),
        ("type=~water_.*", "type", MatchOp.REGEX, "water_.*"),
        ("sensor!~yp-wp-000[12]", "sensor", MatchOp.NOT_REGEX, "yp-wp-000[12]"),
        ('grade=~"orange|red"', "grade", MatchOp.REGEX, "orange|red"),
        ("subdistrict = 'yinhang'", "subdistrict", MatchOp.EQUAL, "yinhang"),
        ("  metric  =  pressure  ", "metric", MatchOp.EQUAL, "pressure"),
        ('sensor=""', "sensor", MatchOp.EQUAL, ""),
        (
            "rule_id=default:water_main_pressure:pressure:below",
            "rule_id",
            MatchOp.EQUAL,
            "default:water_main_pressure:pressure:below",
        ),
    ],
)
def test_matcher_parsing(text: str, name: str, op: MatchOp, value: str) -> None:
    matcher = Matcher.parse(text)
    assert (matcher.name, matcher.op, matcher.value) == (name, op, value)
    assert matcher == Matcher(name, op, value)


@pytest.mark.parametrize("text", ["yinhang", "subdistrict", "=yinhang", "subdistrict~yinhang"])
def test_unparseable_matchers(text: str) -> None:
    with pytest.raises(SilenceError, match="expected label=value"):
        Matcher.parse(text)


def test_unknown_label_and_bad_regex_are_errors_that_name_the_matcher() -> None:
    with pytest.raises(SilenceError, match=r"unknown label 'district' \(one of: domain, grade"):
        Matcher.parse("district=yinhang")
    with pytest.raises(SilenceError, match=r"matcher sensor=~'yp-\[': bad regular expression"):
        Matcher.parse("sensor=~yp-[")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subdistrict=yinhang", True),
        ("subdistrict=yin", False),
        ("subdistrict!=yinhang", False),
        ("subdistrict!=daqiao", True),
        ("grade=~orange|red", True),
        ("grade=~or", False),  # the whole value must match, not a part of it
        ("grade=~.*ang.*", True),
        ("grade!~orange|red", False),
        ("grade!~red", True),
        ("type=~water", False),
        ("type=~water_.*", True),
        ("sensor=~yp-wp-000[12]", True),
    ],
)
def test_matching_uses_full_matches(text: str, expected: bool) -> None:
    assert Matcher.parse(text).matches(LABELS) is expected


def test_a_missing_label_counts_as_empty() -> None:
    district_wide = {"rule_id": "water_pressure_district_minimum", "domain": "water"}
    assert Matcher.parse("sensor!=yp-wp-0001").matches(district_wide)
    assert Matcher.parse('sensor=""').matches(district_wide)
    assert Matcher.parse("sensor=~.*").matches(district_wide)
    assert not Matcher.parse("sensor=~.+").matches(district_wide)
    assert not Matcher.parse("sensor=yp-wp-0001").matches(district_wide)


@pytest.mark.parametrize(
    "matchers",
    [
        ("sensor!=yp-wp-0001",),
        ("grade=~.*",),
        ('subdistrict=""',),
        ("subdistrict!~yinhang", "grade!=red"),
    ],
)
def test_a_silence_that_would_match_everything_is_refused(matchers: tuple[str, ...]) -> None:
    with pytest.raises(SilenceError, match="would silence everything"):
        silence(*matchers)


def test_one_matcher_that_needs_a_value_is_enough() -> None:
    s = silence("subdistrict=yinhang", "grade!=red")
    assert s.matches(LABELS)
    assert not s.matches({**LABELS, "grade": "red"})
    assert not s.matches({**LABELS, "subdistrict": "daqiao"})


def test_invalid_silences() -> None:
    with pytest.raises(SilenceError, match="needs at least one matcher"):
        silence()
    with pytest.raises(SilenceError, match="must be after starts_at"):
        silence("subdistrict=yinhang", ends=T0)
    with pytest.raises(SilenceError, match="must be after starts_at"):
        silence("subdistrict=yinhang", ends=T0 - timedelta(minutes=1))
    with pytest.raises(SilenceError, match="need a UTC offset"):
        silence("subdistrict=yinhang", starts=datetime(2026, 11, 25, 8, 0))
    with pytest.raises(SilenceError, match="created_by"):
        Silence("s", (Matcher.parse("subdistrict=yinhang"),), T0, T0 + timedelta(1), " ", "")


def test_window_start_inclusive_end_exclusive() -> None:
    s = silence("subdistrict=yinhang", starts=T0, ends=T0 + timedelta(hours=1))
    assert not s.active_at(T0 - timedelta(microseconds=1))
    assert s.active_at(T0)
    assert s.active_at(T0 + timedelta(minutes=59, seconds=59))
    assert not s.active_at(T0 + timedelta(hours=1))
    assert is_silenced(LABELS, [s], T0) is s
    assert is_silenced(LABELS, [s], T0 + timedelta(hours=1)) is None


def test_is_silenced_picks_the_active_matching_silence_that_ends_last() -> None:
    short = silence("subdistrict=yinhang", ends=T0 + timedelta(hours=1), id="short")
    long = silence("type=~water_.*", ends=T0 + timedelta(hours=3), id="long")
    longest_other = silence("subdistrict=daqiao", ends=T0 + timedelta(hours=9), id="other")
    future = silence(
        "sensor=yp-wp-0001",
        starts=T0 + timedelta(hours=1),
        ends=T0 + timedelta(hours=12),
        id="future",
    )
    now = T0 + timedelta(minutes=30)
    for order in ([short, long, longest_other, future], [future, longest_other, long, short]):
        assert is_silenced(LABELS, order, now) is long
    assert is_silenced(LABELS, [short, future], T0 + timedelta(hours=2)) is future
    assert is_silenced(LABELS, [longest_other], now) is None
    assert is_silenced(LABELS, [], now) is None


def test_alert_labels_add_the_grade() -> None:
    subject = Subject("sensor", "yp-wp-0001", "water", "yinhang")
    alert = Alert(
        rule_id="r",
        subject=subject,
        phase=Phase.FIRING,
        grade=Grade.ORANGE,
        labels={"rule_id": "r", "type": "water_main_pressure", "metric": "pressure"},
    )
    assert alert_labels(alert) == {
        "rule_id": "r",
        "type": "water_main_pressure",
        "metric": "pressure",
        "domain": "water",
        "subdistrict": "yinhang",
        "sensor": "yp-wp-0001",
        "grade": "orange",
    }
    assert alert.labels.get("grade") is None  # the alert's own labels are not changed
    inactive = Alert(rule_id="d", subject=Subject("district", "yangpu", "water"))
    assert alert_labels(inactive) == {"rule_id": "d", "domain": "water"}
    # grade=red silences the red alert and no longer the orange one.
    red_only = silence("grade=red")
    assert not red_only.matches(alert_labels(alert))
    assert red_only.matches(alert_labels(Alert("r", subject, Phase.FIRING, Grade.RED)))
