"""Payloads of notifications: the Alertmanager webhook v4 message and the chat-robot formats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify import SEVERITY_BY_GRADE, NotificationKind, NotifyAlert, notify_alert
from alerts.notify.alertmanager import ZERO_TIME, rfc3339, webhook_message
from alerts.notify.robots import dingtalk_markdown, feishu_card, feishu_text, wecom_markdown
from alerts.notify.text import alert_summary, group_text
from tests.alerts.notifying import RULE, T0, burst, one_group, pressure

# --- Alertmanager webhook v4 -----------------------------------------------------------------


def test_webhook_message_has_exactly_the_alertmanager_v4_fields() -> None:
    group = one_group(pressure("WP-1", value=0.15), pressure("WP-2", value=0.18))
    message = webhook_message(group, "duty", external_url="https://ops.example.cn")
    assert set(message) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert message["version"] == "4"
    assert message["groupKey"] == '{}:{alertname="water_pressure_low", subdistrict="yinhang"}'
    assert message["truncatedAlerts"] == 0
    assert message["status"] == "firing"
    assert message["receiver"] == "duty"
    assert message["externalURL"] == "https://ops.example.cn"
    assert message["groupLabels"] == {"alertname": RULE, "subdistrict": "yinhang"}
    for alert in message["alerts"]:
        assert set(alert) == {
            "status",
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "generatorURL",
            "fingerprint",
        }
        assert alert["status"] == "firing"
        assert alert["startsAt"] == "2026-11-25T00:03:00Z"
        assert alert["endsAt"] == ZERO_TIME == "0001-01-01T00:00:00Z"
    first = message["alerts"][0]
    assert first["fingerprint"] == group.alerts[0].fingerprint
    assert first["labels"] == {
        "alertname": RULE,
        "grade": "orange",
        "severity": "error",
        "domain": "water",
        "scope": "sensor",
        "subdistrict": "yinhang",
        "district": "yangpu",
        "sensor": "WP-1",
        "type": "water_main_pressure",
        "metric": "pressure",
    }
    common = message["commonLabels"]
    assert "sensor" not in common
    assert common["grade"] == "orange"
    assert common["type"] == "water_main_pressure"
    assert message["commonAnnotations"] == {"threshold": "0.2", "unit": "MPa"}
    json.dumps(message)  # plain JSON types only


def test_resolved_alerts_carry_their_end_time_and_the_group_resolves_last() -> None:
    end = T0 + timedelta(minutes=42, microseconds=123000)
    resolved = pressure("WP-1", resolved_at=end, value=0.25)
    message = webhook_message(one_group(resolved), "duty")
    assert message["status"] == "resolved"
    assert message["alerts"][0]["status"] == "resolved"
    assert message["alerts"][0]["endsAt"] == "2026-11-25T00:45:00.123Z"
    mixed = webhook_message(one_group(resolved, pressure("WP-2")), "duty")
    assert mixed["status"] == "firing"  # Alertmanager: firing while any alert fires
    assert {a["status"] for a in mixed["alerts"]} == {"firing", "resolved"}


def test_annotations_are_bilingual_chinese_first_with_value_and_unit() -> None:
    message = webhook_message(one_group(pressure("WP-0042")), "duty")
    annotations = message["alerts"][0]["annotations"]
    assert annotations["summary_zh"] == (
        "殷行街道 WP-0042 供水管网压力 0.15 MPa，低于阈值 0.2 MPa（橙色预警）"
    )
    assert annotations["summary_en"] == (
        "Yinhang WP-0042: Water main pressure 0.15 MPa, below threshold 0.2 MPa (orange alert)"
    )
    assert annotations["summary"].startswith(annotations["summary_zh"] + " / ")
    assert annotations["value"] == "0.15"
    assert annotations["unit"] == "MPa"


def test_max_alerts_truncates_and_counts_the_rest() -> None:
    group = one_group(*(pressure(f"WP-{i}", value=0.1 + i / 100) for i in range(5)))
    message = webhook_message(group, "duty", max_alerts=2)
    assert len(message["alerts"]) == 2
    assert message["truncatedAlerts"] == 3
    # Worst first: the two lowest pressures are the ones kept.
    assert [a["labels"]["sensor"] for a in message["alerts"]] == ["WP-0", "WP-1"]


def test_severity_mapping_and_rfc3339() -> None:
    assert dict(SEVERITY_BY_GRADE) == {
        Grade.BLUE: "info",
        Grade.YELLOW: "warning",
        Grade.ORANGE: "error",
        Grade.RED: "critical",
    }
    shanghai = datetime(2026, 11, 25, 8, 3, 0, 500000, tzinfo=UTC) + timedelta(0)
    assert rfc3339(shanghai) == "2026-11-25T08:03:00.5Z"
    with pytest.raises(ValueError, match="naive"):
        rfc3339(datetime(2026, 1, 1))


# --- robots ----------------------------------------------------------------------------------


def test_wecom_markdown_shows_grade_colour_place_count_and_shanghai_time() -> None:
    payload = wecom_markdown(group_text(one_group(*burst(12)), NotificationKind.FIRING))
    assert set(payload) == {"msgtype", "markdown"}
    assert payload["msgtype"] == "markdown"
    content = payload["markdown"]["content"]
    assert '<font color="warning">' in content
    assert "【橙色预警】供水管网压力 · 殷行街道 12 个传感器" in content
    assert "另有 7 个" in content
    assert "and 7 more" in content
    assert "开始：2026-11-25 08:03" in content  # 00:03 UTC
    assert content.index("殷行街道") < content.index("Yinhang, 12 sensors")
    assert "WP-011：0.179 MPa，低于阈值 0.2 MPa" in content  # the lowest value listed first
    resolved = one_group(pressure(resolved_at=T0 + timedelta(hours=1)))
    calm = wecom_markdown(group_text(resolved, NotificationKind.RESOLVED))["markdown"]["content"]
    assert '<font color="info">' in calm
    assert "【已恢复】" in calm
    assert "恢复：2026-11-25 09:03" in calm
    blue = wecom_markdown(
        group_text(one_group(pressure(grade=Grade.BLUE)), NotificationKind.FIRING)
    )
    assert '<font color="comment">' in blue["markdown"]["content"]


def test_wecom_markdown_stays_within_4096_bytes() -> None:
    long = pressure()
    long = NotifyAlert(long.alert, long.labels, what_zh="很长的名称" * 400, what_en="x" * 3000)
    text = group_text(one_group(long), NotificationKind.FIRING)
    content = wecom_markdown(text)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096


def test_dingtalk_markdown_and_feishu_card_and_text() -> None:
    text = group_text(one_group(*burst(3)), NotificationKind.FIRING)
    ding = dingtalk_markdown(text)
    assert ding["msgtype"] == "markdown"
    assert set(ding["markdown"]) == {"title", "text"}
    assert "橙色预警" in ding["markdown"]["title"]
    assert "殷行街道" in ding["markdown"]["title"]
    assert ding["markdown"]["text"].index("殷行街道") < ding["markdown"]["text"].index("Yinhang")
    card = feishu_card(text)
    assert card["msg_type"] == "interactive"
    assert card["card"]["header"]["template"] == "orange"
    assert "殷行街道 3 个传感器" in card["card"]["header"]["title"]["content"]
    plain = feishu_text(text)
    assert plain["msg_type"] == "text"
    assert "Yinhang, 3 sensors" in plain["content"]["text"]
    red = group_text(one_group(pressure(grade=Grade.RED)), NotificationKind.FIRING)
    assert feishu_card(red)["card"]["header"]["template"] == "red"


def test_repeat_and_escalation_wording() -> None:
    group = one_group(pressure(grade=Grade.RED))
    repeat = group_text(group, NotificationKind.REPEAT)
    assert repeat.title_zh.startswith("【红色预警·持续】")
    escalation = group_text(group, NotificationKind.ESCALATION, unacknowledged_for_s=900)
    assert escalation.title_zh.startswith("【升级·红色预警未确认】")
    assert "已 15 分钟未确认" in escalation.lines_zh
    assert "Not acknowledged for 15 min" in escalation.lines_en


def test_a_value_held_by_hysteresis_is_not_called_past_its_threshold() -> None:
    def summary(value: float) -> tuple[str, str]:
        alert = Alert(
            rule_id="low_pressure",
            subject=Subject("sensor", "WP-1", "water", "yinhang"),
            phase=Phase.FIRING,
            grade=Grade.RED,
            value=value,
            firing_since=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        )
        shown = notify_alert(
            alert,
            what_zh="管网压力",
            what_en="Pressure",
            unit="MPa",
            threshold=0.12,
            direction="below",
        )
        return alert_summary(shown)

    zh, en = summary(0.119)
    assert "低于阈值 0.12 MPa" in zh
    assert "below threshold 0.12 MPa" in en
    zh, en = summary(0.121)  # still red: not yet past the recovery level
    assert "低于" not in zh
    assert "（阈值 0.12 MPa）" in zh
    assert "(threshold 0.12 MPa)" in en


# --- easing: firing while the value is back, until keep_firing_for has passed ---------------


def easing_pressure(sensor: str = "WP-0042", may_step_down: bool = False) -> NotifyAlert:
    """An orange pressure alert whose value came back at 08:10; it stands down at 08:12."""
    shown = pressure(sensor)
    eased = replace(shown.alert, clearing_since=T0 + timedelta(minutes=7))
    return replace(
        shown,
        alert=eased,
        stands_down_at=T0 + timedelta(minutes=9),
        may_step_down=may_step_down,
    )


def test_an_easing_alert_says_when_it_resolves_if_it_holds_zh_first() -> None:
    text = group_text(one_group(easing_pressure()), NotificationKind.REPEAT)
    assert "回落中：若保持，2026-11-25 08:12 恢复" in text.lines_zh
    assert "Easing: resolves at 2026-11-25 08:12 UTC+8 if it holds" in text.lines_en
    assert text.lines_zh.index("回落中：若保持，2026-11-25 08:12 恢复") == 1  # after the value
    zh, en = alert_summary(easing_pressure())
    assert zh.endswith("（橙色预警，回落中：若保持，2026-11-25 08:12 恢复）")
    assert en.endswith("(orange alert; easing: resolves at 2026-11-25 08:12 UTC+8 if it holds)")
    webhook = webhook_message(one_group(easing_pressure()), "duty")
    assert "回落中" in webhook["alerts"][0]["annotations"]["summary_zh"]
    assert "easing: resolves at" in webhook["alerts"][0]["annotations"]["summary_en"]


def test_an_easing_alert_with_milder_grades_may_step_down_instead() -> None:
    text = group_text(one_group(easing_pressure(may_step_down=True)), NotificationKind.FIRING)
    assert "回落中：若保持，2026-11-25 08:12 降级或恢复" in text.lines_zh
    assert "Easing: steps down or resolves at 2026-11-25 08:12 UTC+8 if it holds" in text.lines_en


def test_in_a_list_each_easing_alert_says_so_and_the_others_do_not() -> None:
    steady = pressure("WP-0001", value=0.14)
    text = group_text(one_group(steady, easing_pressure("WP-0002")), NotificationKind.REPEAT)
    assert "WP-0002：0.15 MPa，低于阈值 0.2 MPa（回落中：若保持，2026-11-25 08:12 恢复）" in (
        text.lines_zh
    )
    assert (
        "WP-0002: 0.15 MPa, below threshold 0.2 MPa "
        "(easing: resolves at 2026-11-25 08:12 UTC+8 if it holds)" in text.lines_en
    )
    assert not any("回落" in line for line in text.lines_zh if line.startswith("WP-0001"))


def test_a_steady_or_resolved_alert_says_nothing_of_easing() -> None:
    for shown in (pressure(), pressure(resolved_at=T0 + timedelta(minutes=30))):
        text = group_text(one_group(shown), NotificationKind.FIRING)
        assert not any("回落" in line for line in text.lines_zh)
        assert not any("Easing" in line for line in text.lines_en)
    resolved = replace(easing_pressure(), alert=replace(pressure().alert, phase=Phase.RESOLVED))
    assert "回落" not in alert_summary(resolved)[0]
