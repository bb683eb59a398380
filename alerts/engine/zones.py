"""Which time zone a subject's scheduled thresholds are read in: the one seam for it.

Schedules ("22:00-06:00", "sat, sun") are local wall-clock times of the subject's district:
`by_district` reads each district's `time_zone` from the geography files (the engine's default);
`one_zone` puts every subject in one zone (`alerts.time_zone`, for tests and tools). The
evaluator asks it once per subdistrict for sensor rules (a subdistrict lies in one district,
so its sensors share a zone) and once per subject for vital-sign rules, and only for rules that
have schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from zoneinfo import ZoneInfo

from alerts.model import Subject
from alerts.rules.rule import SubjectKind
from schemas.geography import Geography

__all__ = ["DEFAULT_TIME_ZONE", "ZoneOf", "by_district", "one_zone"]

DEFAULT_TIME_ZONE = "Asia/Shanghai"
ZoneOf = Callable[[Subject], tzinfo]


def one_zone(name: str = DEFAULT_TIME_ZONE) -> ZoneOf:
    """Every subject in the zone `name` (an IANA name; ZoneInfoNotFoundError when unknown)."""
    zone = ZoneInfo(name)

    def zone_of(subject: Subject) -> tzinfo:
        return zone

    return zone_of


def by_district(geography: Geography, fallback: str = DEFAULT_TIME_ZONE) -> ZoneOf:
    """Each subject in its district's zone: a district by its code, a sensor or a subdistrict by
    the district its subdistrict lies in, the city in its first district's (a city's districts
    share one zone in practice; the files do not require it); `fallback` for a place the
    geography no longer holds (an alert of a subdistrict dropped from the files)."""
    zones = {code: district.zone for code, district in geography.districts.items()}
    by_subdistrict = {s.code: zones[s.district] for s in geography}
    spare = ZoneInfo(fallback)
    city_zone = next(iter(zones.values()), spare)

    def zone_of(subject: Subject) -> tzinfo:
        if subject.kind == SubjectKind.CITY.value:
            return city_zone
        if subject.kind == SubjectKind.DISTRICT.value:
            return zones.get(subject.id, spare)
        if subject.subdistrict is None:
            return spare
        return by_subdistrict.get(subject.subdistrict, spare)

    return zone_of
