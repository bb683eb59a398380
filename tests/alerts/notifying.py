"""Alerts as notifications for tests: a water-pressure alert, groups, a webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify import NotifyAlert, notify_alert
from alerts.notify.grouping import AlertGroup, group_alerts
from alerts.notify.receivers import Receiver, ReceiverKind
from schemas.geography import load_geography

_GEOGRAPHY = load_geography()  # the shipped one: the texts name its places

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
    place = _GEOGRAPHY.get(subdistrict) if subdistrict else None
    district = _GEOGRAPHY.districts["yangpu"]
    return notify_alert(
        alert,
        place_zh=place.zh if place else district.zh,
        place_en=place.en if place else district.en,
        district=district.code,
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


def burst(n: int, subdistrict: str = "yinhang") -> list[NotifyAlert]:
    prefix = "WP" if subdistrict == "yinhang" else subdistrict[:2].upper()
    return [pressure(f"{prefix}-{i:03d}", subdistrict, value=0.19 - i / 1000) for i in range(n)]
