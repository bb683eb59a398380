"""The city's vital signs: per domain, district-wide and per subdistrict, from storage figures.

Storage aggregates per subdistrict; here they are folded into district-wide figures (counts and
sums add up; the average is sum / reporting) and shaped for the API. Answers are reused for
`ttl` so a wall of dashboards polling every second costs the database one query per ttl.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import asyncpg

from alerts import store
from gateway.models_city import (
    DomainVitalSigns,
    Figures,
    MetricFigure,
    SubdistrictFigures,
    VitalSigns,
)
from schemas.districts import SUBDISTRICTS
from schemas.domains import DomainSpec
from storage.domains import domains_in_use
from storage.pool import connection
from storage.vital_signs import metric_figures, sensor_counts

MetricKey = tuple[str, str, str, str]  # type, metric, unit, kind


class VitalSignsSource:
    def __init__(
        self, pool: asyncpg.Pool, clock: Callable[[], datetime], ttl_s: float = 5.0
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._ttl_s = ttl_s
        self._cached: tuple[float, VitalSigns] | None = None
        self._lock = asyncio.Lock()

    async def current(self, domain: str | None = None) -> VitalSigns:
        """All domains (or one), computed at most once per ttl for everyone."""
        async with self._lock:
            cached = self._cached
            if cached is None or time.monotonic() - cached[0] >= self._ttl_s:
                cached = (time.monotonic(), await self._compute(self._clock()))
                self._cached = cached
        signs = cached[1]
        if domain is None:
            return signs
        return VitalSigns(at=signs.at, domains=[d for d in signs.domains if d.domain == domain])

    async def _compute(self, now: datetime) -> VitalSigns:
        async with connection(self._pool, "computing vital signs") as conn:
            declared = await domains_in_use(conn)
            metrics = await metric_figures(conn, now)
            counts = await sensor_counts(conn, now)
            firing = await store.firing_counts(conn)
        return fold(now, declared, metrics, counts, firing)


def fold(
    now: datetime,
    declared: Iterable[DomainSpec],
    metrics: Iterable[dict[str, Any]],
    counts: Iterable[dict[str, Any]],
    firing: Iterable[dict[str, Any]],
) -> VitalSigns:
    """`declared`: the domains that have sensor types, in wall order (each gets an entry; a
    row of a domain not among them cannot occur: rows come from types)."""
    domains = {d.code: _empty_domain(d) for d in declared}
    places = {d: {s.code: s for s in domain.subdistricts} for d, domain in domains.items()}
    for row in counts:
        for figures in (domains[row["domain"]].district, places[row["domain"]][row["subdistrict"]]):
            figures.sensors += row["sensors"]
            figures.online += row["online"]
            figures.offline += row["offline"]
    for row in firing:
        if row["grade"] is None:
            continue
        targets: list[Figures] = [domains[row["domain"]].district]
        if row["subdistrict"] in places[row["domain"]]:
            targets.append(places[row["domain"]][row["subdistrict"]])
        for figures in targets:
            grade = row["grade"]
            setattr(figures.firing, grade, getattr(figures.firing, grade) + row["alerts"])
    district: dict[str, dict[MetricKey, list[dict[str, Any]]]] = {}
    for row in metrics:
        key = (row["type"], row["metric"], row["unit"], row["kind"])
        places[row["domain"]][row["subdistrict"]].metrics.append(_figure(key, [row]))
        district.setdefault(row["domain"], {}).setdefault(key, []).append(row)
    for domain, by_metric in district.items():
        domains[domain].district.metrics = [_figure(k, rows) for k, rows in by_metric.items()]
    return VitalSigns(at=now, domains=list(domains.values()))


def _empty_domain(domain: DomainSpec) -> DomainVitalSigns:
    return DomainVitalSigns(
        domain=domain.code,
        name_zh=domain.zh,
        name_en=domain.en,
        colour=domain.colour,
        district=Figures(),
        subdistricts=[
            SubdistrictFigures(code=s.code, name_zh=s.zh, name_en=s.en) for s in SUBDISTRICTS
        ],
    )


def _figure(key: MetricKey, rows: list[dict[str, Any]]) -> MetricFigure:
    reporting = sum(r["reporting"] for r in rows)
    sums = [r["sum"] for r in rows if r["sum"] is not None]
    mins = [r["min"] for r in rows if r["min"] is not None]
    maxes = [r["max"] for r in rows if r["max"] is not None]
    total = sum(sums) if sums else None
    type_name, metric, unit, kind = key
    return MetricFigure(
        type=type_name,
        metric=metric,
        unit=unit,
        kind=kind,
        sensors=sum(r["sensors"] for r in rows),
        reporting=reporting,
        avg=total / reporting if total is not None and reporting else None,
        min=min(mins) if mins else None,
        max=max(maxes) if maxes else None,
        sum=total,
    )
