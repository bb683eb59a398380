"""Receivers and routes: who hears about which alert, read from one YAML file.

    receivers:
      - name: duty-webhook
        kind: webhook                      # webhook | wecom | dingtalk | feishu
        url: https://ops.example.cn/hooks/cityvitals
        secret_env: CITYVITALS_DUTY_WEBHOOK_SECRET
        timeout: 5s
      - {name: water-dingtalk, kind: dingtalk, url_env: WATER_DT_URL, secret_env: WATER_DT_SECRET}
    default_receiver: duty-webhook         # when no route matches (optional)
    group_by: [alertname, subdistrict]     # defaults for every route
    group_wait: 0s                         # hold a new group's first message this long
    group_interval: 1m                     # at most one update of a group this often
    repeat_interval: 4h
    routes:                                # in order; the first match stops unless `continue`
      - receiver: water-dingtalk
        domains: [water]
        min_grade: yellow                  # or grades: [orange, red]
        subdistricts: [yinhang]            # or districts: [...] (codes of the geography)
        continue: true
        escalate: {after: 15m, to: duty-webhook, grades: [orange, red]}

Secrets never sit in the file: `secret_env` and `url_env` name environment variables, read when
the file is loaded. Routes are a flat ordered list with Alertmanager's `continue`, which covers
matching by grade, domain, subdistrict and district without a tree the ops staff would have to read.
Loading reports every problem at once, each naming the file and the dotted key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from alerts.errors import ReceiversError
from alerts.file_problems import FileProblems, Report, did_you_mean
from alerts.model import Grade
from alerts.notify import NotifyAlert
from alerts.notify.destinations import local_destination
from alerts.notify.escalation import (
    EscalatePolicy,
    check_receiver_name,
    escalate_policy,
)
from alerts.notify.grouping import DEFAULT_GROUP_BY, AlertGroup, group_alerts
from alerts.notify.receiver_specs import (
    DEFAULT_GROUP_INTERVAL_S,
    DEFAULT_GROUP_WAIT_S,
    DEFAULT_REPEAT_INTERVAL_S,
    ReceiverKind,
    ReceiverSpec,
    RouteSpec,
    RoutingSpec,
)
from schemas.domains import shipped_domains
from schemas.geography import Geography, load_geography
from schemas.grades import GRADES_BY_SEVERITY, at_least

__all__ = [
    "Receiver",
    "ReceiverKind",
    "Route",
    "Routing",
    "load_routing",
    "parse_routing",
]

HINT = "the format is in alerts/notify/receivers.py"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


# --- the validated configuration -------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: ReceiverKind
    url: str
    secret: str | None = field(default=None, repr=False)  # never in logs or reprs
    timeout_s: float = 10.0
    max_alerts: int = 0  # webhook: alerts per message, 0 = all (Alertmanager's max_alerts)
    send_resolved: bool = True
    msg_type: str = "interactive"  # feishu only: "interactive" (card) or "text"


@dataclass(frozen=True)
class Route:
    receiver: str
    key: str  # Alertmanager-style route key; the prefix of its groups' keys
    grades: frozenset[Grade] | None = None
    domains: frozenset[str] | None = None
    subdistricts: frozenset[str] | None = None
    districts: frozenset[str] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    group_wait_s: float = DEFAULT_GROUP_WAIT_S
    group_interval_s: float = DEFAULT_GROUP_INTERVAL_S
    repeat_interval_s: float = DEFAULT_REPEAT_INTERVAL_S
    continue_: bool = False
    escalate: EscalatePolicy | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Every matcher given must hold; an alert without the label does not match it."""
        if self.grades is not None and labels.get("grade") not in self.grades:
            return False
        if self.domains is not None and labels.get("domain") not in self.domains:
            return False
        if self.subdistricts is not None and labels.get("subdistrict") not in self.subdistricts:
            return False
        if self.districts is not None and labels.get("district") not in self.districts:
            return False
        return all(labels.get(name) == value for name, value in self.labels.items())


@dataclass(frozen=True)
class Routing:
    receivers: Mapping[str, Receiver]
    routes: tuple[Route, ...]
    default: Route | None = None
    allow_local_urls: bool = False

    def routes_for(self, labels: Mapping[str, str]) -> list[Route]:
        """Matching routes in file order, stopping after the first without `continue`."""
        chosen: list[Route] = []
        for route in self.routes:
            if route.matches(labels):
                chosen.append(route)
                if not route.continue_:
                    break
        if not chosen and self.default is not None:
            chosen.append(self.default)
        return chosen

    def dispatch(self, alerts: Iterable[NotifyAlert]) -> list[tuple[Route, AlertGroup]]:
        """Each route with the groups of the alerts it takes, in route then group-key order."""
        per_route: dict[str, tuple[Route, list[NotifyAlert]]] = {}
        order: list[str] = []
        for alert in alerts:
            for route in self.routes_for(alert.labels):
                if route.key not in per_route:
                    per_route[route.key] = (route, [])
                    order.append(route.key)
                per_route[route.key][1].append(alert)
        return [
            (route, group)
            for key in order
            for route, members in [per_route[key]]
            for group in group_alerts(members, route.group_by, route.key)
        ]


# --- loading ---------------------------------------------------------------------------------


def load_routing(
    path: Path,
    environ: Mapping[str, str] | None = None,
    *,
    domains: Collection[str] | None = None,
    geography: Geography | None = None,
) -> Routing:
    """The receivers-and-routes file at `path`; raises ReceiversError listing every problem."""
    file = FileProblems(str(path), HINT)
    text = file.read(path)
    if text is None:
        raise ReceiversError(file.found)
    return parse_routing(text, str(path), environ, domains=domains, geography=geography)


def parse_routing(
    text: str,
    source: str,
    environ: Mapping[str, str] | None = None,
    *,
    domains: Collection[str] | None = None,
    geography: Geography | None = None,
) -> Routing:
    """Routing from YAML `text`; `environ` (default: the process environment) holds secrets.
    Routes may match the `domains` declared in the registry and the subdistricts and districts
    of the configured `geography` (defaults: the shipped ones, for tests and tools)."""
    env = os.environ if environ is None else environ
    declared = shipped_domains() if domains is None else domains
    places = load_geography() if geography is None else geography
    file = FileProblems(source, HINT)
    document = file.mapping(text, "with 'receivers' (and 'routes', 'default_receiver', ...)")
    spec = None if document is None else file.validate(RoutingSpec, document)
    if spec is None:
        raise ReceiversError(file.found)
    routing = _build(spec, env, file, declared, places)
    if file.found:
        raise ReceiversError(file.found)
    return routing


def _build(
    spec: RoutingSpec,
    env: Mapping[str, str],
    file: FileProblems,
    domains: Collection[str],
    geography: Geography,
) -> Routing:
    report = file.report

    # Names of receivers that failed validation still count as known, so a typo in one
    # receiver is reported once instead of again in every route that uses it.
    names: set[str] = set()
    for i, entry in enumerate(spec.receivers):
        if isinstance(name := entry.get("name"), str):
            if name in names:
                report(f"receivers[{i}].name", f"duplicate receiver name {name!r}")
            names.add(name)
    receivers: dict[str, Receiver] = {}
    for i, entry in enumerate(spec.receivers):
        raw = file.validate(ReceiverSpec, entry, f"receivers[{i}]")
        receiver = None if raw is None else _receiver(raw, f"receivers[{i}]", env, report)
        if raw is not None and receiver is not None and not spec.allow_local_urls:
            receiver = _not_local(receiver, raw, f"receivers[{i}]", report)
        if receiver is not None:
            receivers.setdefault(receiver.name, receiver)
    routes: list[Route] = []
    for i, entry in enumerate(spec.routes):
        raw_route = file.validate(RouteSpec, entry, f"routes[{i}]")
        if raw_route is None:
            continue
        route = _route(raw_route, f"routes[{i}]", spec, names, domains, geography, report)
        if any(r.key == route.key for r in routes):  # same matchers twice: distinct groups
            route = replace(route, key=f"{route.key}/{i}")
        routes.append(route)
    default = None
    if spec.default_receiver is not None:
        check_receiver_name(spec.default_receiver, "default_receiver", names, report)
        default = Route(
            receiver=spec.default_receiver,
            key="{}",
            group_by=tuple(spec.group_by),
            group_wait_s=spec.group_wait,
            group_interval_s=spec.group_interval,
            repeat_interval_s=spec.repeat_interval,
        )
    return Routing(
        receivers=receivers,
        routes=tuple(routes),
        default=default,
        allow_local_urls=spec.allow_local_urls,
    )


def _env(name: str | None, key: str, env: Mapping[str, str], report: Report) -> str | None:
    if name is None:
        return None
    if not _ENV_NAME.match(name):
        report(key, f"{name!r} is not an environment variable name (A-Z, 0-9, _)")
        return None
    value = env.get(name, "")
    if not value:
        report(key, f"environment variable {name} is not set (or empty)")
        return None
    return value


def _receiver(
    raw: ReceiverSpec, key: str, env: Mapping[str, str], report: Report
) -> Receiver | None:
    robot = raw.kind is not ReceiverKind.WEBHOOK
    if (raw.url is None) == (raw.url_env is None):
        report(f"{key}.url", "give exactly one of url and url_env")
    elif robot and raw.url is not None:
        # A robot's URL is its credential (WeCom key=, DingTalk access_token=, Feishu hook id).
        report(f"{key}.url", f"a {raw.kind} robot URL carries its access token: use url_env")
    if raw.kind is ReceiverKind.WEBHOOK and raw.secret_env is None:
        report(
            f"{key}.secret_env",
            "required: webhook requests are signed; name the environment variable of the secret",
        )
    if raw.kind is ReceiverKind.WECOM and raw.secret_env is not None:
        report(f"{key}.secret_env", "WeCom group robots have no signing; remove secret_env")
    if raw.msg_type is not None and raw.kind is not ReceiverKind.FEISHU:
        report(f"{key}.msg_type", "only feishu receivers have a msg_type")
    url = raw.url if raw.url is not None else _env(raw.url_env, f"{key}.url_env", env, report)
    if url is not None and not url.startswith(("http://", "https://")):
        where = "url" if raw.url is not None else "url_env"  # never echo a URL from the env
        report(f"{key}.{where}", "expected an http:// or https:// URL")
        url = None
    secret = _env(raw.secret_env, f"{key}.secret_env", env, report)
    if url is None:
        return None
    return Receiver(
        name=raw.name,
        kind=raw.kind,
        url=url,
        secret=secret,
        timeout_s=raw.timeout,
        max_alerts=raw.max_alerts,
        send_resolved=raw.send_resolved,
        msg_type=raw.msg_type or "interactive",
    )


def _not_local(receiver: Receiver, raw: ReceiverSpec, key: str, report: Report) -> Receiver | None:
    why = local_destination(receiver.url)
    if why is None:
        return receiver
    where = "url" if raw.url is not None else "url_env"  # never echo a URL from the env
    report(
        f"{key}.{where}",
        f"{why}: receivers may not call it unless the file sets allow_local_urls: true",
    )
    return None


def _route(
    raw: RouteSpec,
    key: str,
    spec: RoutingSpec,
    names: set[str],
    domains: Collection[str],
    geography: Geography,
    report: Report,
) -> Route:
    check_receiver_name(raw.receiver, f"{key}.receiver", names, report)
    grades: frozenset[Grade] | None = None
    if raw.grades is not None and raw.min_grade is not None:
        report(f"{key}.min_grade", "give grades or min_grade, not both")
    if raw.grades is not None:
        grades = frozenset(raw.grades)
    elif raw.min_grade is not None:
        grades = frozenset(at_least(raw.min_grade))
    for j, domain in enumerate(raw.domains or []):
        if domain not in domains:
            hint = did_you_mean(domain, domains) or f"; declared: {', '.join(domains)}"
            report(f"{key}.domains[{j}]", f"unknown domain {domain!r}{hint}")
    for j, code in enumerate(raw.subdistricts or []):
        if code not in geography:
            hint = did_you_mean(code, geography.subdistricts)
            report(f"{key}.subdistricts[{j}]", f"unknown subdistrict {code!r}{hint}")
    for j, code in enumerate(raw.districts or []):
        if code not in geography.districts:
            configured = f"; configured: {geography.describe()}"
            hint = did_you_mean(code, geography.districts) or configured
            report(f"{key}.districts[{j}]", f"unknown district {code!r}{hint}")
    group_by = tuple(raw.group_by if raw.group_by is not None else spec.group_by)
    return Route(
        receiver=raw.receiver,
        key=_route_key(raw, grades),
        grades=grades,
        domains=frozenset(raw.domains) if raw.domains else None,
        subdistricts=frozenset(raw.subdistricts) if raw.subdistricts else None,
        districts=frozenset(raw.districts) if raw.districts else None,
        labels=dict(raw.labels),
        group_by=group_by,
        group_wait_s=spec.group_wait if raw.group_wait is None else raw.group_wait,
        group_interval_s=raw.group_interval or spec.group_interval,
        repeat_interval_s=raw.repeat_interval or spec.repeat_interval,
        continue_=raw.continue_,
        escalate=escalate_policy(raw.escalate, f"{key}.escalate", names, report),
    )


def _route_key(raw: RouteSpec, grades: frozenset[Grade] | None) -> str:
    """`{}/{domain=~"water", grade=~"orange|red"}`: the route's matchers, as Alertmanager does."""
    matchers = [f"{name}={json.dumps(value)}" for name, value in sorted(raw.labels.items())]
    if grades is not None:
        matchers.append(f'grade=~"{"|".join(g.value for g in GRADES_BY_SEVERITY if g in grades)}"')
    if raw.domains:
        matchers.append(f'domain=~"{"|".join(sorted(raw.domains))}"')
    if raw.subdistricts:
        matchers.append(f'subdistrict=~"{"|".join(sorted(raw.subdistricts))}"')
    if raw.districts:
        matchers.append(f'district=~"{"|".join(sorted(raw.districts))}"')
    # The receiver is part of the key so two routes with equal matchers keep distinct groups.
    return "{}/{" + ", ".join(matchers) + "}/" + raw.receiver
