"""The city's vital signs: per domain, for the city, each district and each subdistrict, from
storage figures.

Storage aggregates per subdistrict; here they are folded into district and city figures (counts
and sums add up; the average is sum / reporting) and shaped for the API. Answers are reused for
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
    PlaceFigures,
    SubdistrictFigures,
    VitalSigns,
)
from schemas.domains import DomainSpec
from schemas.geography import Geography
from storage.domains import domains_in_use
from storage.pool import connection
from storage.vital_signs import metric_figures, sensor_counts

MetricKey = tuple[str, str, str, str]  # type, metric, unit, kind


class VitalSignsSource:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Callable[[], datetime],
        geography: Geography,
        ttl_s: float = 5.0,
        *,
        on_compute: Callable[[], object] = lambda: None,
    ) -> None:
        self._pool = pool
        self._on_compute = on_compute  # counted in the gateway's metrics
        self._clock = clock
        self._geography = geography
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
        self._on_compute()
        async with connection(self._pool, "computing vital signs") as conn:
            declared = await domains_in_use(conn)
            metrics = await metric_figures(conn, now)
            counts = await sensor_counts(conn, now)
            firing = await store.firing_counts(conn)
        return fold(now, declared, self._geography, metrics, counts, firing)


class _Places:
    """One domain's figures at the three levels, and which of them a row adds to: its
    subdistrict, that subdistrict's district and the city. A subdistrict stored but no longer
    configured counts for the city only."""

    def __init__(self, geography: Geography, domain: DomainSpec) -> None:
        city = geography.city
        self.signs = DomainVitalSigns(
            domain=domain.code,
            name_zh=domain.zh,
            name_en=domain.en,
            colour=domain.colour,
            city=PlaceFigures(code=city.code, name_zh=city.zh, name_en=city.en),
            districts=[
                PlaceFigures(code=d.code, name_zh=d.zh, name_en=d.en)
                for d in geography.districts.values()
            ],
            subdistricts=[
                SubdistrictFigures(code=s.code, name_zh=s.zh, name_en=s.en, district=s.district)
                for s in geography
            ],
        )
        self.districts = {d.code: d for d in self.signs.districts}
        self.subdistricts = {s.code: s for s in self.signs.subdistricts}

    def of(self, subdistrict: str | None, district: str | None = None) -> list[Figures]:
        """The figures a row of `subdistrict` (or of a district-wide subject) adds to."""
        targets: list[Figures] = [self.signs.city]
        place = self.subdistricts.get(subdistrict) if subdistrict is not None else None
        if place is not None:
            district = place.district
        if district in self.districts:
            targets.append(self.districts[district])
        if place is not None:
            targets.append(place)
        return targets


def fold(
    now: datetime,
    declared: Iterable[DomainSpec],
    geography: Geography,
    metrics: Iterable[dict[str, Any]],
    counts: Iterable[dict[str, Any]],
    firing: Iterable[dict[str, Any]],
) -> VitalSigns:
    """`declared`: the domains that have sensor types, in wall order (each gets an entry; a
    row of a domain not among them cannot occur: rows come from types)."""
    domains = {d.code: _Places(geography, d) for d in declared}
    for row in counts:
        for figures in domains[row["domain"]].of(row["subdistrict"]):
            figures.sensors += row["sensors"]
            figures.online += row["online"]
            figures.offline += row["offline"]
    for row in firing:
        if row["grade"] is None:
            continue
        for figures in domains[row["domain"]].of(row["subdistrict"], row.get("district")):
            grade = row["grade"]
            setattr(figures.firing, grade, getattr(figures.firing, grade) + row["alerts"])
    wider: dict[int, tuple[Figures, dict[MetricKey, list[dict[str, Any]]]]] = {}
    for row in metrics:
        key = (row["type"], row["metric"], row["unit"], row["kind"])
        *above, place = domains[row["domain"]].of(row["subdistrict"])
        if isinstance(place, SubdistrictFigures):
            place.metrics.append(_figure(key, [row]))
        else:
            above.append(place)
        for figures in above:  # the city and the district fold their subdistricts' rows
            wider.setdefault(id(figures), (figures, {}))[1].setdefault(key, []).append(row)
    for figures, by_metric in wider.values():
        figures.metrics = [_figure(k, rows) for k, rows in by_metric.items()]
    return VitalSigns(at=now, domains=[d.signs for d in domains.values()])


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
