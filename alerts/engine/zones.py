"""Which time zone a subject's scheduled thresholds are read in: the one seam for it.

Schedules ("22:00-06:00", "sat, sun") are local wall-clock times of the subject's district.
Today one zone serves the deployment (`alerts.time_zone`, Asia/Shanghai by default); a platform
holding districts in several zones passes a `ZoneOf` that looks the district up instead. The
evaluator asks it once per subdistrict for sensor rules (a subdistrict lies in one district,
so its sensors share a zone) and once per subject for vital-sign rules, and only for rules that
have schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from zoneinfo import ZoneInfo

from alerts.model import Subject

__all__ = ["DEFAULT_TIME_ZONE", "ZoneOf", "one_zone"]

DEFAULT_TIME_ZONE = "Asia/Shanghai"
ZoneOf = Callable[[Subject], tzinfo]


def one_zone(name: str = DEFAULT_TIME_ZONE) -> ZoneOf:
    """Every subject in the zone `name` (an IANA name; ZoneInfoNotFoundError when unknown)."""
    zone = ZoneInfo(name)

    def zone_of(subject: Subject) -> tzinfo:
        return zone

    return zone_of
