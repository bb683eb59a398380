"""When other thresholds are in force: a time of day and/or days of the week, in local time.

Sensor types and rule files write a schedule the same way, next to the levels it brings:

    schedules:
      night:   {time: "22:00-06:00", above: {yellow: 45, orange: 50, red: 60}}
      weekend: {days: [sat, sun], above: {yellow: 50, orange: 55, red: 65}}

- `time: "HH:MM-HH:MM"`: from the start (included) to the end (excluded), local wall-clock time.
  An end before the start crosses midnight ("22:00-06:00"); "24:00" may end a range. Start and
  end may not be equal: for the whole day, leave `time` out.
- `days`: mon, tue, wed, thu, fri, sat, sun. For a range that crosses midnight the day is the
  one the range *starts* on: `{days: [fri], time: "22:00-06:00"}` is Friday night, up to
  Saturday 06:00.
- Several schedules in force at once: the first one listed wins (write the more specific first).
  No schedule in force: the unscheduled levels apply. Time is the caller's: the alert engine
  passes its tick time converted to the subject's time zone, so time-stepped tests are exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["DAY_NAMES", "TIME_RANGE_REGEX", "Schedule", "parse_schedule"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
TIME_RANGE_REGEX = r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$"
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY_MINUTES = 24 * 60
Finding = tuple[str, str]  # (key relative to the schedule, message)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A named time window; `start`/`end` in minutes after local midnight, `days` as weekdays
    (Monday 0). None: any time of day / any day."""

    name: str
    start: int | None = None
    end: int | None = None
    days: frozenset[int] | None = None

    def in_force(self, local: datetime) -> bool:
        """Whether the schedule applies at `local` (a time in the subject's time zone)."""
        day = local.weekday()
        if self.start is not None and self.end is not None:
            minute = local.hour * 60 + local.minute
            if self.start < self.end:
                if not self.start <= minute < self.end:
                    return False
            elif minute >= self.start:
                pass  # the evening part of a range that crosses midnight
            elif minute < self.end:
                day = (day - 1) % 7  # the morning part belongs to the day the range started
            else:
                return False
        return self.days is None or day in self.days

    def describe(self) -> str:
        """How an engineer wrote it, for messages: "22:00-06:00 sat,sun"."""
        parts = []
        if self.start is not None and self.end is not None:
            parts.append(f"{_clock(self.start)}-{_clock(self.end)}")
        if self.days is not None:
            parts.append(",".join(DAY_NAMES[d] for d in sorted(self.days)))
        return " ".join(parts)


def parse_schedule(
    name: str, time: str | None, days: Sequence[str] | None
) -> tuple[Schedule | None, list[Finding]]:
    """The schedule, or None with every finding (keys `time`, `days[i]`, or "" for the whole)."""
    findings: list[Finding] = []
    if time is None and days is None:
        findings.append(("", "say when it is in force: 'time' (\"22:00-06:00\") and/or 'days'"))
    start = end = None
    if time is not None:
        start, end = _parse_range(time, findings)
    day_set = None
    if days is not None:
        day_set = _parse_days(days, findings)
    if findings:
        return None, findings
    return Schedule(name, start, end, day_set), findings


def _parse_range(text: str, findings: list[Finding]) -> tuple[int | None, int | None]:
    match = _RANGE.match(text)
    if match is None:
        findings.append(
            ("time", f"expected a local time range like '22:00-06:00' (HH:MM-HH:MM), got {text!r}")
        )
        return None, None
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    start = _minutes(start_h, start_m, "start", text, findings, may_be_24=False)
    end = _minutes(end_h, end_m, "end", text, findings, may_be_24=True)
    if start is None or end is None:
        return None, None
    if start % _DAY_MINUTES == end % _DAY_MINUTES:
        findings.append(
            (
                "time",
                f"{text!r} starts and ends at the same time: a range needs two different times "
                "(for the whole day leave 'time' out)",
            )
        )
        return None, None
    return start, end


def _minutes(
    hour: int, minute: int, which: str, text: str, findings: list[Finding], *, may_be_24: bool
) -> int | None:
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not may_be_24)):
        latest = "24:00" if may_be_24 else "23:59"
        findings.append(
            (
                "time",
                f"{text!r}: the {which} {hour:02d}:{minute:02d} is not a time (00:00-{latest})",
            )
        )
        return None
    return hour * 60 + minute


def _parse_days(days: Sequence[str], findings: list[Finding]) -> frozenset[int] | None:
    if not days:
        findings.append(("days", "empty: list at least one day, or leave 'days' out"))
        return None
    seen: set[int] = set()
    for index, day in enumerate(days):
        if day not in DAY_NAMES:
            findings.append(
                (f"days[{index}]", f"unknown day {day!r} (one of: {', '.join(DAY_NAMES)})")
            )
        elif DAY_NAMES.index(day) in seen:
            findings.append((f"days[{index}]", f"{day} is listed twice"))
        else:
            seen.add(DAY_NAMES.index(day))
    return frozenset(seen)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
