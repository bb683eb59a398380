"""Units as Grafana prints them, decided by Grafana's own formatting code (@grafana/data at the
version deploy/ runs, through grafana_units/format.mjs): every value a wall shows reads as the
registry's unit at the registry's scale — 0.45 m as "0.45 m", not "450.00 mm"; PM2.5 as
"35 μg/m³", not "35 conµgm3"; 1,500 sensors as "1500", not "2 K".

"Reads as the unit" is judged by pint through schemas/units.py: the symbol Grafana prints must
mean the same unit as the one the metric declares (µ or μ, m3 or m³, lx or lux alike), and
numbers without a unit (counts, states, indexes) must print no symbol at all."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.units import display_symbol, grafana_unit
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind
from schemas.units import COMMON_SYMBOLS, SPELLINGS, UnitError, parse_unit
from tests.grafana_dashboards.grafana_units import (
    Shown,
    deployed_grafana_version,
    grafana_format,
)

# Units whose values are plain numbers: the panel's title names what is counted or indexed.
PLAIN = {parse_unit(u) for u in ("1", "count", "bool", "state", "AQI", "index", "PF")}
# A (type, metric) pair in a panel's SQL (grafana_dashboards/sql.py: metric_id).
METRIC_IN_SQL = re.compile(r"mt\.name = '([a-z0-9_]+)' AND m\.name = '([a-z0-9_]+)'")
SIZES = (0.45, 7.5, 35.0, 1200.0, 1.5e6)  # a Grafana id that rescales does so somewhere here
SENSOR_COUNTS = (0.0, 1.0, 7.0, 1500.0)  # what a state metric's panels show
MAX_ROWS = 80  # of the failure table


@dataclass(frozen=True, slots=True)
class Case:
    where: str  # board and panel, or the declared unit
    unit: str  # the Grafana unit id
    declared: str  # the registry's unit ("" for a count of sensors)
    value: float
    decimals: int | None


def reads_right(case: Case, shown: Shown) -> bool:
    """The number is the value (at the decimals asked) and the symbol means the declared unit."""
    try:
        number = float(shown.text)
    except ValueError:
        return False
    tolerance = 0.5 * 10.0 ** -(case.decimals if case.decimals is not None else 3)
    if not math.isclose(number, case.value, rel_tol=1e-9, abs_tol=tolerance + 1e-9):
        return False
    if "  " in shown.shown:  # "suffix: hPa" prints two spaces: Grafana adds one of its own
        return False
    symbol = (shown.prefix + shown.suffix).strip()
    if not case.declared or parse_unit(case.declared) in PLAIN:
        return symbol == ""
    try:
        return parse_unit(symbol) == parse_unit(case.declared)
    except UnitError:  # a literal id ("conµgm3") or a symbol no unit has ("%H")
        return False


def check(cases: list[Case], units: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """Formats every case with Grafana; fails with a table of those that read wrong. Returns
    what Grafana makes of `units` (and of every case's unit)."""
    formatted = grafana_format(
        [(c.unit, c.value, c.decimals) for c in cases], units | {c.unit for c in cases}
    )
    wrong = [
        f"{c.where:<58} {c.unit!r:<18} {c.value:<10g} {s.shown!r:<18} {expected(c)!r}"
        for c, s in zip(cases, formatted.values, strict=True)
        if not reads_right(c, s)
    ]
    header = f"{'where':<58} {'unit':<18} {'value':<10} {'got':<18} expected"
    more = [f"... and {len(wrong) - MAX_ROWS} more"] if len(wrong) > MAX_ROWS else []
    assert not wrong, f"{len(wrong)} of {len(cases)} values read wrong:\n" + "\n".join(
        [header, *wrong[:MAX_ROWS], *more]
    )
    return formatted.kinds


def expected(case: Case) -> str:
    number = f"{case.value:.{case.decimals}f}" if case.decimals is not None else f"{case.value:g}"
    if not case.declared or parse_unit(case.declared) in PLAIN:
        return number
    return f"{number} {display_symbol(case.declared)}"


def test_the_harness_is_the_grafana_deploy_runs() -> None:
    formatted = grafana_format(
        [("lengthm", 0.45, 2), ("conµgm3", 35.0, 0)], {"lengthm", "conµgm3", "suffix:m", "kvar"}
    )
    assert formatted.version == deployed_grafana_version()
    # The faults the walls had: Grafana's code shows them, so this test can see them.
    assert [v.shown for v in formatted.values] == ["450.00 mm", "35 conµgm3"]
    assert formatted.kinds == {
        "lengthm": "builtin",
        "conµgm3": "unknown",
        "suffix:m": "custom",
        "kvar": "unknown",
    }


def test_every_unit_a_metric_may_declare_reads_as_itself_at_every_size(
    registry: Registry,
) -> None:
    declarable = {*SPELLINGS, *COMMON_SYMBOLS, "ug/m3", "degC", "degF", "W/m2", "m3/s", "t"}
    declarable |= {m.unit for t in registry for m in t.metrics.values()}
    cases = [
        Case(f"declared {unit!r}", grafana_unit(unit), unit, value, 2)
        for unit in sorted(declarable)
        for value in SIZES
    ]
    kinds = check(cases)
    assert {u: k for u, k in kinds.items() if k == "unknown"} == {}


def test_display_symbols_mean_the_declared_unit() -> None:
    for unit in sorted({*SPELLINGS, *COMMON_SYMBOLS, "ug/m3", "degC", "degF"}):
        assert parse_unit(display_symbol(unit)) == parse_unit(unit), unit
    assert display_symbol("GQ") == display_symbol("ug/m3") == "µg/m³"
    assert display_symbol("m3/h") == "m³/h"


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _units(panel: dict[str, Any]) -> Iterator[str]:
    field_config = panel.get("fieldConfig", {})
    if unit := field_config.get("defaults", {}).get("unit"):
        yield unit
    for override in field_config.get("overrides", []):
        for prop in override.get("properties", []):
            if prop.get("id") == "unit" and prop.get("value"):
                yield prop["value"]


@dataclass(frozen=True, slots=True)
class MetricField:
    """A value a panel shows of one registry metric, with the unit and decimals it shows it in."""

    where: str
    name: str  # type.metric
    metric: Metric
    unit: str
    decimals: int | None


def _metric_fields(where: str, panel: dict[str, Any], registry: Registry) -> Iterator[MetricField]:
    """The registry metrics a panel shows: the one (type, metric) its queries read, in its
    defaults; with several, each field an override names after a type that the queries read
    one metric of (a tile per type), in that override's unit."""
    queries = [target.get("rawSql", "") for target in panel.get("targets", [])]
    pairs = {pair for query in queries for pair in METRIC_IN_SQL.findall(query)}
    field_config = panel.get("fieldConfig", {})
    defaults = field_config.get("defaults", {})

    def field(pair: tuple[str, str], properties: dict[str, Any]) -> MetricField:
        metric = registry.metric(*pair)
        assert metric is not None, f"{where} reads {pair[0]}.{pair[1]}, not in the registry"
        unit = properties.get("unit", defaults.get("unit")) or ""
        decimals = properties.get("decimals", defaults.get("decimals"))
        return MetricField(where, ".".join(pair), metric, unit, decimals)

    if len(pairs) == 1:
        yield field(next(iter(pairs)), {})
        return
    for override in field_config.get("overrides", []):
        matcher = override.get("matcher", {})
        of_type = [p for p in pairs if matcher.get("options") == p[0]]
        properties = {p.get("id"): p.get("value") for p in override.get("properties", [])}
        if matcher.get("id") == "byName" and len(of_type) == 1 and "unit" in properties:
            yield field(of_type[0], properties)


def _values(metric: Metric) -> list[float]:
    """The metric's threshold levels (every direction and schedule), else its range."""
    levels: list[float] = []
    thresholds = metric.thresholds
    if thresholds is not None:
        directions = [thresholds.above, thresholds.below]
        for scheduled in (thresholds.schedules or {}).values():
            directions += [scheduled.above, scheduled.below]
        levels = [v for d in directions if d is not None for _, v in d.levels()]
    return sorted(set(levels)) or [metric.range.min, metric.range.max]


def test_every_panel_reads_in_its_metrics_unit_at_its_thresholds(registry: Registry) -> None:
    cases: list[Case] = []
    units: set[str] = set()
    shown: dict[str, set[str]] = {"zh": set(), "en": set()}
    for file_name, board in build_dashboards(registry).items():
        for panel in _panels(board.get("panels", [])):
            units.update(_units(panel))
            where = f"{file_name} {panel.get('title', '')!r}"
            for field in _metric_fields(where, panel, registry):
                shown[file_name.split("/")[0]].add(field.name)
                if field.metric.kind is MetricKind.STATE:  # the number of sensors in the state
                    counts = SENSOR_COUNTS
                    cases += [Case(where, field.unit, "", n, field.decimals) for n in counts]
                    continue
                declared, values = field.metric.unit, _values(field.metric)
                cases += [Case(where, field.unit, declared, v, field.decimals) for v in values]
    kinds = check(cases, units)
    unknown = sorted(u for u, k in kinds.items() if k == "unknown")
    assert unknown == [], f"unit ids Grafana does not know: {unknown}"
    # Every metric of the registry was found on the walls of both languages, so a change to the
    # panels' SQL cannot make this test check nothing.
    every = {f"{t.name}.{m}" for t in registry for m in t.metrics}
    assert shown == {"zh": every, "en": every}
