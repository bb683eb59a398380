"""An alert in words: while it eases (value back, keep_firing_for running) its description says
when it stands down if the value holds, and whether that may be a step down."""

from __future__ import annotations

from alerts.engine.describe import describe
from alerts.engine.state import step
from alerts.model import Grade, Phase
from alerts.notify.text import alert_summary
from schemas.geography import Geography
from schemas.registry import Registry
from tests.alerts.stepping import at, firing, load_rule, value


def test_an_easing_alert_stands_down_keep_firing_for_after_the_value_came_back(
    registry: Registry,
    geography: Geography,
) -> None:
    rule = load_rule(hold=0, keep=10)  # yellow 80, orange 90, red 100
    alert = firing(rule, 85)  # yellow: the mildest grade of the rule
    assert describe(alert, rule, registry, geography).stands_down_at is None

    eased, _ = step(rule, alert, value(50), at(3))
    assert eased.phase is Phase.FIRING
    shown = describe(eased, rule, registry, geography)
    assert shown.stands_down_at == at(13)
    assert shown.may_step_down is False  # nothing milder than yellow: it resolves
    assert "若保持，2026-11-25 16:13 恢复" in alert_summary(shown)[0]

    back, _ = step(rule, eased, value(85), at(5))  # the dip is over
    assert describe(back, rule, registry, geography).stands_down_at is None


def test_a_red_alert_easing_may_step_down_to_a_milder_grade(
    registry: Registry, geography: Geography
) -> None:
    rule = load_rule(hold=0, keep=10)
    red, _ = step(rule, firing(rule, 85), value(105), at(1))
    assert red.grade is Grade.RED
    eased, _ = step(rule, red, value(92), at(2))  # orange territory, past red's recovery
    shown = describe(eased, rule, registry, geography)
    assert (shown.stands_down_at, shown.may_step_down) == (at(12), True)
    assert "若保持，2026-11-25 16:12 降级或恢复" in alert_summary(shown)[0]
