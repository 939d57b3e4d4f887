"""`school_days_after` ends even when no school day lies ahead on record."""

from __future__ import annotations

from datetime import date, timedelta

from models.ledger.rules import LONGEST_DUE_DAYS, school_days_after
from models.school.calendar import SchoolCalendar


def test_with_no_school_day_ahead_the_cut_off_is_a_year_on() -> None:
    ended = SchoolCalendar(semesters=((date(2026, 2, 20), date(2026, 7, 5)),), use_statutory=False)
    start = date(2026, 7, 10)
    assert school_days_after(start, 2, ended) == start + timedelta(days=LONGEST_DUE_DAYS + 1)


def test_two_school_days_after_a_friday_is_wednesday() -> None:
    term = SchoolCalendar(semesters=((date(2026, 9, 1), date(2027, 1, 20)),), use_statutory=False)
    assert school_days_after(date(2026, 11, 13), 2, term) == date(2026, 11, 18)
