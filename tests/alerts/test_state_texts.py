"""A state alert's messages name the state (故障 / Fault, or the bare label when it has no
names), never its index number, a unit or a threshold."""

from __future__ import annotations

from pathlib import Path

from alerts.engine.describe import describe
from alerts.engine.state import Observation, new_alert, sensor_subject, step
from alerts.notify import NotificationKind
from alerts.notify.alertmanager import alert_annotations
from alerts.notify.grouping import AlertGroup
from alerts.notify.text import group_text
from tests.alerts.schedule_stepping import SHIPPED_GEOGRAPHY, rule_set
from tests.alerts.stepping import at
from tests.alerts.timed_types import DARK, FAULT, timed_registry

LAMP_RULE = "default:streetlight:lamp:state_in"


def test_messages_name_the_state_by_its_names_or_its_label(tmp_path: Path) -> None:
    registry = timed_registry(tmp_path)
    rules = rule_set(registry, tmp_path / "rules")
    rule = rules.rules[LAMP_RULE]
    alert = new_alert(rule, sensor_subject(rule, "yp-sl-0001", "wujiaochang"))
    fired, _ = step(rule, alert, Observation(value=FAULT), at(0))
    shown = describe(fired, rule, registry, SHIPPED_GEOGRAPHY)
    text = group_text(AlertGroup("g", {}, (shown,)), NotificationKind.FIRING)
    assert "状态：故障" in text.lines_zh
    assert "State: Fault" in text.lines_en
    assert not any(ch.isdigit() for ch in text.lines_zh[0] + text.lines_en[0])
    assert alert_annotations(shown)["state_zh"] == "故障"
    assert alert_annotations(shown)["state_en"] == "Fault"
    resolved, _ = step(rule, fired, Observation(value=DARK), at(1))
    plain = describe(resolved, rule, registry, SHIPPED_GEOGRAPHY)
    text = group_text(AlertGroup("g", {}, (plain,)), NotificationKind.RESOLVED)
    assert "状态：dark" in text.lines_zh  # no names declared for 'dark': the label itself
    assert "State: dark" in text.lines_en
