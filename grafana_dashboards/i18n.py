"""Wall languages: Chinese by default, English as an option.

Grafana has no per-viewer translation of dashboard and panel titles, so each language is its own
set of generated dashboards (`zh/`, `en/`), in its own folder, with its own uids. Names that come
from the registry (types, metrics) and the database (subdistricts) are picked per language too.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.domains import DomainSpec
from schemas.geography import Geography
from schemas.sensor_type import BilingualName, Grade


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


DEFAULT_LANG = Lang.ZH

# key -> (zh, en)
_TEXT: dict[str, tuple[str, str]] = {
    "sensor": ("传感器详情", "Sensor drill-down"),
    "alerts": ("预警处置", "Alerts"),
    "vital_signs": ("生命体征", "Vital signs"),
    "map": ("街道传感器状态", "Sensor status by subdistrict"),
    "map_sensors": ("传感器数", "Sensors"),
    "map_online": ("在线", "Online"),
    "map_offline": ("离线", "Offline"),
    "map_firing": ("当前预警数", "Firing alerts"),
    "map_worst_grade": ("最高预警等级", "Worst alert grade"),
    "map_no_alert": ("无", "None"),
    "active_by_grade": ("当前预警(按等级)", "Active alerts by grade"),
    "active_by_domain": ("当前预警(按领域)", "Active alerts by domain"),
    "ingest": ("数据接入健康", "Ingest health"),
    "ingest_rate": ("接入速率(条/分钟)", "Ingest rate (readings/min)"),
    "ingest_lag": ("数据延迟(最新读数距今)", "Lag (age of the newest reading)"),
    "dead_letters": ("死信(按原因)", "Dead letters by reason"),
    "dead_letters_total": ("死信总数", "Dead letters"),
    "ingest_never": ("无数据", "No data"),
    "online": ("在线传感器", "Sensors online"),
    "open_alerts_type": ("当前预警", "Active alerts"),
    "by_subdistrict_now": ("各街道当前值", "By subdistrict, now"),
    "by_subdistrict_range": ("各街道区间累计", "By subdistrict, over the range"),
    "increase": ("增量", "increase"),
    "in_state": ("处于该状态的传感器数", "sensors in this state"),
    "subdistrict": ("街道", "Subdistrict"),
    "type": ("传感器类型", "Sensor type"),
    "sensor_var": ("传感器", "Sensor"),
    "metric": ("指标", "Metric"),
    "grade": ("等级", "Grade"),
    "domain": ("领域", "Domain"),
    "sensor_table": ("传感器与最新读数", "Sensors and their latest report"),
    "status_history": ("在线状态", "Online status"),
    "sensor_alerts": ("相关预警", "Alerts on these sensors"),
    "timeline": ("预警时间线(按等级)", "Alert timeline by grade"),
    "open_alerts": ("未闭环预警", "Open alerts"),
    "time_to_ack": ("响应时长(触发到确认)", "Time to acknowledge"),
    "time_to_close": ("闭环时长(触发到关闭)", "Time to close"),
    "durations": ("处置时长趋势(中位数)", "Handling times (median)"),
    "median": ("中位数", "median"),
    "p90": ("90分位", "p90"),
    "online_state": ("在线", "Online"),
    "offline_state": ("离线", "Offline"),
    "normal": ("正常", "normal"),
    "this_subdistrict": ("只看该街道", "This subdistrict only"),
    "domain_board": ("领域看板", "Domain board"),
    "just_this_sensor": ("只看该传感器", "This sensor only"),
    "worst_grade": ("最高等级", "Worst grade"),
    "language_link": ("English", "中文"),
    "boards": ("其他看板", "Other boards"),
    "console_url": ("运维控制台地址", "Ops console URL"),
    "console_url_help": (
        "表格中的预警与传感器链接到此地址的运维控制台",
        "Alerts and sensors in the tables link to the ops console at this address",
    ),
    "open_alert_in_console": ("在运维控制台处置此预警", "Handle this alert in the ops console"),
    "open_sensor_in_console": ("在运维控制台查看此传感器", "This sensor in the ops console"),
    # Table column headers (tables.HEADERS), in the ops console's words where it has them
    # (gateway/console/static/i18n: duty.col_*, sensor.*).
    "col_grade": ("等级", "Grade"),
    "col_rule": ("规则", "Rule"),
    "col_subject": ("对象", "Subject"),
    "col_value": ("当前值", "Value"),
    "col_phase": ("告警状态", "Phase"),
    "col_ops": ("处置状态", "Ops state"),
    "col_assignee": ("派给", "Assigned to"),
    "col_firing_since": ("告警开始于", "Firing since"),
    "col_acknowledged_at": ("确认于", "Acknowledged at"),
    "col_resolved_at": ("恢复于", "Resolved at"),
    "col_closed_at": ("关闭于", "Closed at"),
    "col_sensor": ("编号", "ID"),
    "col_name": ("名称", "Name"),
    "col_status": ("状态", "Status"),
    "col_status_changed": ("状态变更于", "Status changed"),
    "col_last_seen": ("最近上报", "Last seen"),
    # Stored codes as words (tables.PHASES, tables.OPS_STATES, online), the console's words
    # (duty.phase_*, duty.ops_*, sensor.online/offline): a test holds them equal.
    "phase_inactive": ("无告警", "Inactive"),
    "phase_pending": ("待确认", "Pending"),
    "phase_firing": ("告警中", "Firing"),
    "phase_resolved": ("已恢复", "Resolved"),
    "ops_open": ("待处置", "Open"),
    "ops_acknowledged": ("已确认", "Acknowledged"),
    "ops_assigned": ("已派单", "Assigned"),
    "ops_closed": ("已关闭", "Closed"),
    "status_unknown": ("未知", "Unknown"),
    # What a panel shows when its query returns nothing (Grafana's `noValue`): `no_value` for
    # any panel, `no_alerts` for the alert tables.
    "no_value": ("无数据", "No data"),
    "no_alerts": ("无预警", "No alerts"),
    "open_sensor_board": ("查看该传感器详情看板", "This sensor's drill-down board"),
    "ops_closed_while_firing": ("已关闭（仍在告警）", "Closed while firing"),
    # An empty cell (Grafana would show the panel's noValue there), as the console writes it.
    "empty_cell": ("—", "—"),
}

GRADE_NAMES: dict[Grade, tuple[str, str]] = {
    Grade.BLUE: ("蓝色", "Blue"),
    Grade.YELLOW: ("黄色", "Yellow"),
    Grade.ORANGE: ("橙色", "Orange"),
    Grade.RED: ("红色", "Red"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang is Lang.ZH else pair[1]


def text(key: str, lang: Lang) -> str:
    return _pick(_TEXT[key], lang)


def overview_title(geography: Geography, lang: Lang) -> str:
    """'<区>城市生命体征总览': the place the walls cover, from the geography files; the city's
    names when the deployment holds several districts (a city platform)."""
    if len(geography.districts) == 1:
        [place] = geography.districts.values()
        names = (place.zh, place.en)
    else:
        names = (geography.city.zh, geography.city.en)
    return _pick((f"{names[0]}城市生命体征总览", f"{names[1]} city vital signs"), lang)


def domain_name(domain: DomainSpec, lang: Lang) -> str:
    """From domains.yaml (the registry), like the domain's order and colour on the walls."""
    return _pick((domain.zh, domain.en), lang)


def grade_name(grade: Grade, lang: Lang) -> str:
    return _pick(GRADE_NAMES[grade], lang)


def name(bilingual: BilingualName, lang: Lang) -> str:
    return bilingual.zh if lang is Lang.ZH else bilingual.en


def name_column(lang: Lang) -> str:
    """The column of the dictionary tables (subdistricts, sensor_types, metrics) to show."""
    return f"name_{lang.value}"
