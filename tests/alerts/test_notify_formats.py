"""Payloads, robot formats, signatures, idempotency keys and grouping of notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.delivery import build_notification, prepare_request
from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify import SEVERITY_BY_GRADE, NotificationKind, NotifyAlert, notify_alert
from alerts.notify.alertmanager import ZERO_TIME, rfc3339, webhook_message
from alerts.notify.grouping import ALL_LABELS, AlertGroup, group_alerts
from alerts.notify.robots import dingtalk_markdown, feishu_card, feishu_text, wecom_markdown
from alerts.notify.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    dingtalk_sign,
    dingtalk_signed_url,
    feishu_sign,
    sign_body,
    signed_headers,
    verify_signature,
)
from alerts.notify.text import alert_summary, group_text
from alerts.receivers import Receiver, ReceiverKind

T0 = datetime(2026, 11, 25, 0, 3, tzinfo=UTC)  # 08:03 in Shanghai
RULE = "water_pressure_low"


def pressure(
    sensor: str = "WP-0042",
    subdistrict: str | None = "yinhang",
    grade: Grade = Grade.ORANGE,
    value: float = 0.15,
    resolved_at: datetime | None = None,
) -> NotifyAlert:
    kind = "sensor" if subdistrict else "district"
    alert = Alert(
        rule_id=RULE,
        subject=Subject(kind, sensor if subdistrict else "yangpu", "water", subdistrict),
        phase=Phase.RESOLVED if resolved_at else Phase.FIRING,
        grade=grade,
        value=value,
        firing_since=T0,
        resolved_at=resolved_at,
    )
    return notify_alert(
        alert,
        what_zh="供水管网压力",
        what_en="Water main pressure",
        sensor_type="water_main_pressure",
        metric="pressure",
        unit="MPa",
        threshold=0.2,
        direction="below",
    )


def one_group(*alerts: NotifyAlert) -> AlertGroup:
    groups = group_alerts(alerts)
    assert len(groups) == 1
    return groups[0]


WEBHOOK = Receiver(name="duty", kind=ReceiverKind.WEBHOOK, url="http://x/h", secret="s3cret")


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


def burst(n: int, subdistrict: str = "yinhang") -> list[NotifyAlert]:
    prefix = "WP" if subdistrict == "yinhang" else subdistrict[:2].upper()
    return [pressure(f"{prefix}-{i:03d}", subdistrict, value=0.19 - i / 1000) for i in range(n)]


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


# --- DingTalk and Feishu signatures ----------------------------------------------------------


def test_dingtalk_signature_matches_an_independent_computation() -> None:
    secret = "SEC0123456789abcdef"
    # Find a timestamp whose signature has '+' or '/', so URL encoding is really exercised.
    ts = next(
        t
        for t in range(1_764_000_000_000, 1_764_000_001_000)
        if set("+/") & set(dingtalk_sign(secret, t))
    )
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert dingtalk_sign(secret, ts) == expected
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t0k", secret, ts)
    query = urlsplit(url).query
    assert "+" not in query.split("sign=")[1]
    assert "/" not in query.split("sign=")[1]
    params = parse_qs(query)
    assert params == {"access_token": ["t0k"], "timestamp": [str(ts)], "sign": [expected]}


def test_feishu_signature_matches_an_independent_computation() -> None:
    secret, ts = "feishu-secret", 1_599_360_473
    key = f"{ts}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign(secret, ts) == expected
    # The roles of key and message differ from DingTalk's; make sure they were not mixed up.
    swapped = hmac.new(secret.encode(), key, hashlib.sha256).digest()
    assert feishu_sign(secret, ts) != base64.b64encode(swapped).decode()


def test_robot_requests_carry_the_robot_signatures() -> None:
    now = datetime.fromtimestamp(1_764_000_000, UTC)
    group = one_group(pressure())
    ding = Receiver("d", ReceiverKind.DINGTALK, "https://r/send?access_token=t", secret="SECx")
    request = prepare_request(
        build_notification(group, ding, NotificationKind.FIRING, now), ding, now
    )
    params = parse_qs(urlsplit(request.url).query)
    assert params["timestamp"] == ["1764000000000"]
    assert params["sign"] == [dingtalk_sign("SECx", 1_764_000_000_000)]
    feishu = Receiver("f", ReceiverKind.FEISHU, "https://open/hook/abc", secret="fs")
    notification = build_notification(group, feishu, NotificationKind.FIRING, now)
    body = json.loads(prepare_request(notification, feishu, now).body)
    assert body["timestamp"] == "1764000000"
    assert body["sign"] == feishu_sign("fs", 1_764_000_000)
    assert body["msg_type"] == "interactive"
    assert "sign" not in notification.payload  # signed per attempt, not stored


# --- our signature and idempotency key -------------------------------------------------------


def test_our_signature_verifies_and_rejects_tampering_and_old_timestamps() -> None:
    secret, body, ts = "s3cret", b'{"a":1}', 1_764_000_000
    header = sign_body(secret, ts, body)
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    now = datetime.fromtimestamp(ts + 10, UTC)
    assert verify_signature(secret, str(ts), body, header, now)
    assert not verify_signature(secret, str(ts), b'{"a":2}', header, now)  # tampered body
    assert not verify_signature("other", str(ts), body, header, now)  # wrong secret
    assert not verify_signature(secret, str(ts + 1), body, header, now)  # timestamp changed
    late = datetime.fromtimestamp(ts + 301, UTC)
    assert not verify_signature(secret, str(ts), body, header, late)  # too old: replay
    early = datetime.fromtimestamp(ts - 301, UTC)
    assert not verify_signature(secret, str(ts), body, header, early)  # from the future
    assert not verify_signature(secret, "yesterday", body, header, now)
    assert set(signed_headers(None, "k", body, now)) == {IDEMPOTENCY_HEADER, TIMESTAMP_HEADER}


def test_idempotency_key_is_stable_across_retries_and_new_for_every_other_notification() -> None:
    group = one_group(pressure(grade=Grade.ORANGE))
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)
    first = build_notification(group, WEBHOOK, NotificationKind.FIRING, t1)
    again = build_notification(group, WEBHOOK, NotificationKind.FIRING, t2)
    assert first.idempotency_key == again.idempotency_key
    attempt1, attempt2 = prepare_request(first, WEBHOOK, t1), prepare_request(first, WEBHOOK, t2)
    assert attempt1.headers[IDEMPOTENCY_HEADER] == attempt2.headers[IDEMPOTENCY_HEADER]
    assert attempt1.body == attempt2.body
    assert attempt1.headers[TIMESTAMP_HEADER] != attempt2.headers[TIMESTAMP_HEADER]
    assert attempt1.headers[SIGNATURE_HEADER] != attempt2.headers[SIGNATURE_HEADER]
    keys = {
        first.idempotency_key,
        build_notification(group, WEBHOOK, NotificationKind.REPEAT, t2, sequence=1).idempotency_key,
        build_notification(group, WEBHOOK, NotificationKind.REPEAT, t2, sequence=2).idempotency_key,
        build_notification(
            group, WEBHOOK, NotificationKind.ESCALATION, t2, sequence=1
        ).idempotency_key,
        build_notification(
            one_group(pressure(grade=Grade.RED)), WEBHOOK, NotificationKind.FIRING, t2
        ).idempotency_key,
        build_notification(
            one_group(pressure(resolved_at=t2)), WEBHOOK, NotificationKind.RESOLVED, t2
        ).idempotency_key,
        build_notification(
            group,
            Receiver("other", ReceiverKind.WEBHOOK, "http://y", "s"),
            NotificationKind.FIRING,
            t1,
        ).idempotency_key,
    }
    assert len(keys) == 7
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)


# --- grouping --------------------------------------------------------------------------------


def test_a_burst_of_200_sensors_in_one_subdistrict_is_one_group() -> None:
    groups = group_alerts(burst(200))
    assert len(groups) == 1
    group = groups[0]
    assert len(group.alerts) == 200
    assert group.key == '{}:{alertname="water_pressure_low", subdistrict="yinhang"}'
    assert group_text(group, NotificationKind.FIRING).title_zh.endswith("殷行街道 200 个传感器")


def test_two_subdistricts_make_two_groups_whatever_the_order() -> None:
    alerts = burst(30, "yinhang") + burst(20, "wujiaochang")
    groups = group_alerts(alerts)
    assert [len(g.alerts) for g in groups] == [20, 30]  # sorted by key: wujiaochang first
    random.Random(7).shuffle(alerts)
    shuffled = group_alerts(alerts)
    assert [g.key for g in shuffled] == [g.key for g in groups]
    assert [[a.fingerprint for a in g.alerts] for g in shuffled] == [
        [a.fingerprint for a in g.alerts] for g in groups
    ]


def test_group_by_options_duplicates_and_group_grade() -> None:
    assert len(group_alerts(burst(5), group_by=[ALL_LABELS])) == 5
    district = group_alerts([pressure(subdistrict=None)])[0]
    assert district.labels == {"alertname": RULE}
    twice = burst(3) + burst(3)
    assert len(group_alerts(twice)[0].alerts) == 3  # same fingerprint counts once
    mixed = group_alerts([pressure("A", grade=Grade.YELLOW), pressure("B", grade=Grade.RED)])[0]
    assert mixed.grade is Grade.RED
    assert mixed.alerts[0].alert.subject.id == "B"
    assert mixed.episode_start == T0


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
