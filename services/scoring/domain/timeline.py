"""Periods as dates, and the assignment in force for a period (REGULATION.md §0, §1.2)."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from datetime import date

from contracts import events as ev
from contracts.envelope import period_year
from services.scoring.domain.state import Fact

_MONTHS = {"": (1, 12), "Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12), "S1": (1, 6), "S2": (7, 12)}


@functools.lru_cache(maxsize=4096)
def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of a period ("2025", "2025-Q3", "2025-S1")."""
    year = period_year(period)
    first, last = _MONTHS[period[5:]]
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def period_year_of(period: str) -> str:
    """The annual period a periodic one belongs to ("2025-Q3" -> "2025")."""
    return period[:4]


def assignment_in_force(
    assignments: Sequence[Fact[ev.EmployeeAssigned]], period: str
) -> Fact[ev.EmployeeAssigned] | None:
    """The position the employee held at the end of `period`: the assignment effective latest on or before
    the period's last day (ties: the later in fold order); failing that, the last assignment recorded."""
    if not assignments:
        return None
    end = period_bounds(period)[1]
    effective = [f for f in assignments if f.payload.effective_from.date() <= end]
    if not effective:
        return assignments[-1]
    return max(effective, key=lambda f: (f.payload.effective_from, f.position))
