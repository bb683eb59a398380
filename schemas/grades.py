"""The four warning grades and their one order: blue < yellow < orange < red (蓝 < 黄 < 橙 < 红).

Everything that compares, sorts or ranks grades takes the order from here: sensor-type and rule
thresholds, the alert state machine, routes' `min_grade`, worst-first listings, the SQL that
orders alerts (built from `WORST_FIRST`) and the Grafana walls. Nowhere else lists the grades in
order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

__all__ = [
    "GRADES_BY_SEVERITY",
    "GRADE_RANK",
    "NO_GRADE",
    "WORST_FIRST",
    "Grade",
    "at_least",
    "grade_rank",
    "worst",
]


class Grade(StrEnum):
    """The four Chinese warning grades, least to most severe (蓝/黄/橙/红)."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def zh(self) -> str:
        """The grade's colour in one character, as Chinese warnings name it: 蓝, 黄, 橙, 红."""
        return _ZH[self]


GRADES_BY_SEVERITY: tuple[Grade, ...] = (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)
WORST_FIRST: tuple[Grade, ...] = tuple(reversed(GRADES_BY_SEVERITY))
GRADE_RANK: Mapping[Grade, int] = {grade: i for i, grade in enumerate(GRADES_BY_SEVERITY)}
NO_GRADE = -1  # the rank of "no grade": below blue, so a graded alert always sorts above it
_ZH: Mapping[Grade, str] = {
    Grade.BLUE: "蓝",
    Grade.YELLOW: "黄",
    Grade.ORANGE: "橙",
    Grade.RED: "红",
}


def grade_rank(grade: Grade | None) -> int:
    """`grade.rank`, or NO_GRADE for None: a sort key and a max key for optional grades."""
    return NO_GRADE if grade is None else GRADE_RANK[grade]


def worst(grades: Iterable[Grade | None]) -> Grade | None:
    """The most severe of `grades`; None when there is none."""
    return max((g for g in grades if g is not None), key=grade_rank, default=None)


def at_least(grade: Grade) -> tuple[Grade, ...]:
    """`grade` and every more severe one, least severe first (a route's `min_grade`)."""
    return GRADES_BY_SEVERITY[GRADE_RANK[grade] :]
