"""Receivers and routes YAML: loading, secrets from the environment, matching, validation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.errors import ReceiversError
from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify import NotifyAlert, notify_alert
from alerts.notify.receivers import ReceiverKind, Routing, load_routing, parse_routing
from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, load_geography

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
ENV = {
    "DUTY_SECRET": "duty-s3cret",
    "WATER_DT_URL": "https://oapi.dingtalk.com/robot/send?access_token=abc",
    "WATER_DT_SECRET": "SECwater",
    "YINHANG_WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "LEAD_FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
}

GOOD = """
receivers:
  - name: duty
    kind: webhook
    url: https://ops.example.cn/hooks/cityvitals
    secret_env: DUTY_SECRET
    timeout: 5s
    max_alerts: 50
  - {name: water-dingtalk, kind: dingtalk, url_env: WATER_DT_URL, secret_env: WATER_DT_SECRET}
  - {name: yinhang-wecom, kind: wecom, url_env: YINHANG_WECOM_URL}
  - {name: lead-feishu, kind: feishu, url_env: LEAD_FEISHU_URL, msg_type: text}
default_receiver: duty
repeat_interval: 2h
routes:
  - receiver: water-dingtalk
    domains: [water]
    min_grade: yellow
    continue: true
    escalate: {after: 15m, to: lead-feishu}
  - receiver: yinhang-wecom
    subdistricts: [yinhang]
    grades: [orange, red]
    group_by: [alertname]
    repeat_interval: 30m
  - receiver: duty
    labels: {type: water_main_pressure}
"""


def routing() -> Routing:
    return parse_routing(GOOD, "routes.yaml", ENV)


def alert(
    grade: Grade = Grade.ORANGE,
    domain: str = "water",
    subdistrict: str = "yinhang",
    sensor: str = "WP-1",
    sensor_type: str = "water_main_pressure",
) -> NotifyAlert:
    raw = Alert(
        rule_id="r1",
        subject=Subject("sensor", sensor, domain, subdistrict),
        phase=Phase.FIRING,
        grade=grade,
        value=1.0,
        firing_since=T0,
    )
    return notify_alert(raw, what_zh="指标", what_en="metric", sensor_type=sensor_type)


def receivers_of(config: Routing, a: NotifyAlert) -> list[str]:
    return [route.receiver for route in config.routes_for(a.labels)]


def test_a_good_file_loads_with_secrets_from_the_environment() -> None:
    config = routing()
    duty = config.receivers["duty"]
    assert duty.kind is ReceiverKind.WEBHOOK
    assert duty.secret == "duty-s3cret"
    assert duty.timeout_s == 5.0
    assert duty.max_alerts == 50
    assert "duty-s3cret" not in repr(duty)  # secrets stay out of logs
    assert config.receivers["water-dingtalk"].url == ENV["WATER_DT_URL"]
    assert config.receivers["yinhang-wecom"].secret is None
    assert config.receivers["lead-feishu"].msg_type == "text"
    first, second, third = config.routes
    assert first.grades == frozenset({Grade.YELLOW, Grade.ORANGE, Grade.RED})
    assert first.repeat_interval_s == 7200.0  # the file's default
    assert second.repeat_interval_s == 1800.0
    assert second.group_by == ("alertname",)
    assert third.group_by == ("alertname", "subdistrict")
    assert first.escalate is not None
    assert first.escalate.levels[0].after_s == 900.0
    assert first.escalate.levels[0].to == "lead-feishu"
    assert first.escalate.grades == frozenset({Grade.ORANGE, Grade.RED})
    assert first.key == '{}/{grade=~"yellow|orange|red", domain=~"water"}/water-dingtalk'


def test_routes_match_grade_domain_subdistrict_and_labels_with_continue() -> None:
    config = routing()
    # water + orange + yinhang: route 1 matches and continues, route 2 matches and stops.
    assert receivers_of(config, alert()) == ["water-dingtalk", "yinhang-wecom"]
    # blue is below route 1's min_grade and not in route 2's grades; route 3 matches on type.
    assert receivers_of(config, alert(Grade.BLUE)) == ["duty"]
    # yellow in another subdistrict: route 1 (continue), route 2 no, route 3 yes.
    assert receivers_of(config, alert(Grade.YELLOW, subdistrict="wujiaochang")) == [
        "water-dingtalk",
        "duty",
    ]
    # parking in yinhang, red: route 2 only (subdistrict and grade), which stops.
    red_parking = alert(Grade.RED, domain="parking", sensor_type="parking_lot_counter")
    assert receivers_of(config, red_parking) == ["yinhang-wecom"]
    # Nothing matches: the default receiver.
    blue_power = alert(Grade.BLUE, domain="power", sensor_type="feeder_current")
    assert receivers_of(config, blue_power) == ["duty"]
    assert config.default is not None
    assert config.default.key == "{}"


def test_dispatch_groups_per_route() -> None:
    config = routing()
    burst = [alert(sensor=f"WP-{i}") for i in range(200)]
    dispatched = config.dispatch(burst)
    assert [(route.receiver, len(group.alerts)) for route, group in dispatched] == [
        ("water-dingtalk", 200),
        ("yinhang-wecom", 200),
    ]
    keys = [group.key for _, group in dispatched]
    assert keys[0].endswith('/water-dingtalk:{alertname="r1", subdistrict="yinhang"}')
    assert keys[1].endswith('/yinhang-wecom:{alertname="r1"}')


def test_no_default_receiver_means_unrouted_alerts_go_nowhere() -> None:
    text = """
receivers: [{name: duty, kind: webhook, url: "http://h", secret_env: DUTY_SECRET}]
routes: [{receiver: duty, grades: [red]}]
"""
    config = parse_routing(text, "r.yaml", ENV)
    assert config.routes_for(alert(Grade.BLUE).labels) == []


def test_every_problem_is_reported_at_once_with_file_and_key() -> None:
    bad = """
receivers:
  - name: duty
    kind: webhook
    url: https://ops.example.cn/hook
  - {name: ding, kind: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x"}
  - {name: wecom, kind: wecom, url_env: NOT_SET_ANYWHERE}
  - {name: slack, kind: slack, url: "http://h"}
  - {name: duty, kind: feishu, url_env: LEAD_FEISHU_URL, colour: red}
  - {name: hook2, kind: webhook, url: "http://h", secret_env: "lower-case"}
routes:
  - {receiver: nobody}
  - {receiver: duty, grades: [purple]}
  - {receiver: duty, grades: [red], min_grade: orange, subdistricts: [yinhnag]}
  - {receiver: duty, repeat_interval: soon}
  - receiver: duty
    escalate: {after: 15m, to: boss}
  - receiver: duty
    escalate: {levels: [{after: 30m, to: duty}, {after: 10m, to: ding}]}
default_receiver: ghost
"""
    with pytest.raises(ReceiversError) as caught:
        parse_routing(bad, "routes.yaml", ENV)
    problems = {(p.key, p.message) for p in caught.value.problems}
    assert all(p.file == "routes.yaml" for p in caught.value.problems)

    def has(key: str, fragment: str) -> bool:
        return any(k == key and fragment in m for k, m in problems)

    assert has("receivers[0].secret_env", "required")
    assert has("receivers[1].url", "use url_env")
    assert has("receivers[2].url_env", "NOT_SET_ANYWHERE is not set")
    assert has("receivers[3].kind", "'webhook', 'wecom', 'dingtalk' or 'feishu'")
    assert has("receivers[4].colour", "unknown key")
    assert has("receivers[4].name", "duplicate receiver name 'duty'")
    assert has("receivers[5].secret_env", "not an environment variable name")
    assert has("routes[0].receiver", "unknown receiver 'nobody'")
    assert has("routes[1].grades[0]", "'blue', 'yellow', 'orange' or 'red'")
    assert has("routes[2].min_grade", "not both")
    assert has("routes[2].subdistricts[0]", "did you mean 'yinhang'?")
    assert has("routes[3].repeat_interval", "expected a duration")
    assert has("routes[4].escalate.to", "unknown receiver 'boss'")
    assert has("routes[5].escalate.levels[1].after", "later than the one before")
    assert has("default_receiver", "unknown receiver 'ghost'")
    assert len(problems) == 15
    assert "routes.yaml: routes[0].receiver: unknown receiver 'nobody'" in str(caught.value)


def test_route_domains_are_the_declared_ones() -> None:
    text = """
receivers: [{name: duty, kind: webhook, url: "https://ops.example.cn/h", secret_env: DUTY_SECRET}]
routes:
  - {receiver: duty, domains: [watre, greenery, Air-Quality]}
"""
    with pytest.raises(ReceiversError) as caught:  # the shipped domains: no greenery
        parse_routing(text, "routes.yaml", ENV)
    problems = {p.key: p.message for p in caught.value.problems}
    assert problems["routes[0].domains[0]"] == "unknown domain 'watre'; did you mean 'water'?"
    assert problems["routes[0].domains[1]"] == (
        "unknown domain 'greenery'; declared: buildings, water, power, parking, environment"
    )
    assert "unknown domain 'Air-Quality'" in problems["routes[0].domains[2]"]
    # Declared in the registry folder: accepted, and matched.
    routing = parse_routing(
        text.replace(", Air-Quality", "").replace("watre", "water"),
        "routes.yaml",
        ENV,
        domains=["water", "greenery"],
    )
    assert routing.routes_for({"domain": "greenery"})[0].receiver == "duty"


def test_secret_values_never_appear_in_errors() -> None:
    text = """
receivers: [{name: ding, kind: dingtalk, url_env: NOT_A_URL}]
"""
    with pytest.raises(ReceiversError) as caught:
        parse_routing(text, "r.yaml", {"NOT_A_URL": "ftp://host/?access_token=TOPSECRET"})
    assert "TOPSECRET" not in str(caught.value)
    assert caught.value.problems[0].key == "receivers[0].url_env"


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("receivers: [\n  - {name: a\n", "line", "invalid YAML"),
        ("- just\n- a list\n", "", "expected a mapping"),
        ("receivers: []\nreceivers: []\n", "line", "duplicate key"),
        ("routes: []\n", "receivers", "required key is missing"),
        ("receivers: []\n", "receivers", "at least 1"),
    ],
)
def test_broken_files(text: str, key: str, fragment: str) -> None:
    with pytest.raises(ReceiversError) as caught:
        parse_routing(text, "r.yaml", ENV)
    problem = caught.value.problems[0]
    assert problem.key.startswith(key)
    assert fragment in problem.message


def test_load_routing_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "receivers.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert set(load_routing(path, ENV).receivers) == {
        "duty",
        "water-dingtalk",
        "yinhang-wecom",
        "lead-feishu",
    }
    with pytest.raises(ReceiversError, match="cannot read"):
        load_routing(tmp_path / "missing.yaml", ENV)


def test_escalation_levels_form() -> None:
    text = """
receivers:
  - {name: duty, kind: webhook, url: "http://h", secret_env: DUTY_SECRET}
  - {name: lead, kind: webhook, url: "http://l", secret_env: DUTY_SECRET}
routes:
  - receiver: duty
    escalate:
      grades: [red]
      levels: [{after: 10m, to: lead}, {after: 1h, to: duty}]
"""
    policy = parse_routing(text, "r.yaml", ENV).routes[0].escalate
    assert policy is not None
    assert [(lv.after_s, lv.to) for lv in policy.levels] == [(600.0, "lead"), (3600.0, "duty")]
    assert policy.grades == frozenset({Grade.RED})


def test_the_shipped_example_loads_once_its_secrets_are_set() -> None:
    example = Path(__file__).parents[2] / "alerts" / "receivers.example.yaml"
    names = re.findall(r"(?:url|secret)_env: (\w+)", example.read_text(encoding="utf-8"))
    env = {n: "https://robot.example.cn/send" if n.endswith("_URL") else "s3cret" for n in names}
    routing = load_routing(example, env)
    assert set(routing.receivers) == {
        "duty-webhook",
        "water-dingtalk",
        "grid-wecom",
        "duty-lead-feishu",
    }
    water = routing.routes_for({"domain": "water", "grade": "orange"})
    assert [r.receiver for r in water] == ["duty-webhook", "water-dingtalk"]
    with pytest.raises(ReceiversError, match="CITYVITALS_DUTY_WEBHOOK_SECRET"):
        load_routing(example, {})


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is this host"),
        ("http://localhost/hook", "'localhost' is this host"),
        ("http://2130706433/hook", "127.0.0.1 is this host"),  # a resolver's spelling of it
        ("http://0x7f.1/hook", "127.0.0.1 is this host"),
        ("http://[::1]/hook", "::1 is this host"),
        ("http://[::ffff:127.0.0.1]/hook", "127.0.0.1 is this host"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://0.0.0.0:9/", "0.0.0.0 is this host"),
    ],
)
def test_receivers_on_this_host_or_link_local_are_refused_unless_allowed(
    url: str, why: str
) -> None:
    text = f'receivers: [{{name: duty, kind: webhook, url: "{url}", secret_env: DUTY_SECRET}}]\n'
    with pytest.raises(ReceiversError) as refused:
        parse_routing(text, "r.yaml", ENV)
    problem = str(refused.value)
    assert "r.yaml: receivers[0].url:" in problem
    assert why in problem
    assert "allow_local_urls: true" in problem
    allowed = parse_routing(text + "allow_local_urls: true\n", "r.yaml", ENV)
    assert allowed.receivers["duty"].url == url
    assert allowed.allow_local_urls


def test_an_ops_centre_network_and_a_url_from_the_environment_are_not_echoed() -> None:
    private = (
        'receivers: [{name: duty, kind: webhook, url: "http://10.20.0.5/hook", '
        "secret_env: DUTY_SECRET}]"
    )
    assert parse_routing(private, "r.yaml", ENV).receivers["duty"].url == "http://10.20.0.5/hook"
    from_env = "receivers: [{name: ding, kind: dingtalk, url_env: LOCAL_URL}]"
    with pytest.raises(ReceiversError) as refused:
        parse_routing(from_env, "r.yaml", {**ENV, "LOCAL_URL": "http://127.0.0.1/x?token=SECRET"})
    assert "receivers[0].url_env:" in str(refused.value)
    assert "SECRET" not in str(refused.value)


def test_routes_match_district_codes_and_subdistricts_of_the_configured_geography() -> None:
    both = load_geography([DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR / "examples" / "hongkou.geojson"])
    text = """
receivers: [{name: duty, kind: webhook, url: "https://ops.example.cn/h", secret_env: DUTY_SECRET},
            {name: hongkou, kind: webhook, url: "https://hk.example.cn/h", secret_env: DUTY_SECRET}]
default_receiver: duty
routes:
  - {receiver: hongkou, districts: [hongkou]}
  - {receiver: hongkou, subdistricts: [ouyang_road]}
"""
    routing = parse_routing(text, "routes.yaml", ENV, geography=both)
    assert routing.routes[0].key == '{}/{district=~"hongkou"}/hongkou'
    assert [r.receiver for r in routing.routes_for({"district": "hongkou"})] == ["hongkou"]
    assert [r.receiver for r in routing.routes_for({"district": "yangpu"})] == ["duty"]
    assert [r.receiver for r in routing.routes_for({"subdistrict": "yinhang"})] == ["duty"]
    # The shipped geography alone holds neither: both named, with the configured district.
    with pytest.raises(ReceiversError) as caught:
        parse_routing(text, "routes.yaml", ENV, geography=load_geography())
    problems = {p.key: p.message for p in caught.value.problems}
    assert problems["routes[0].districts[0]"] == (
        "unknown district 'hongkou'; configured: 杨浦区 (yangpu)"
    )
    assert problems["routes[1].subdistricts[0]"].startswith("unknown subdistrict 'ouyang_road'")
    with pytest.raises(ReceiversError) as typo:
        parse_routing(text.replace("[hongkou]}", "[hongkuo]}"), "routes.yaml", ENV, geography=both)
    assert typo.value.problems[0].message == "unknown district 'hongkuo'; did you mean 'hongkou'?"
