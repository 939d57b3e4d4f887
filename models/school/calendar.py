"""The school calendar: school years, semesters and breaks (pure rules)."""

from __future__ import annotations

from datetime import date


def school_year_start(day: date, *, month: int = 9, start_day: int = 1) -> date:
    """The first day of the school year that `day` falls in (default: 1 September)."""
    this_year = date(day.year, month, start_day)
    return this_year if day >= this_year else date(day.year - 1, month, start_day)


def school_year_label(day: date, *, month: int = 9, start_day: int = 1) -> str:
    """`2026-2027学年` for any day from 1 Sep 2026 to 31 Aug 2027."""
    start = school_year_start(day, month=month, start_day=start_day)
    return f"{start.year}-{start.year + 1}学年"


def month_bounds(day: date) -> tuple[date, date]:
    """First day of `day`'s month and first day of the next month (half-open)."""
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following
