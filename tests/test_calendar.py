"""The school calendar: school years, and school days over the school's 校历 and China's
statutory holidays (pure rules)."""

from __future__ import annotations

from datetime import date

import pytest
from holidays.version import __version__ as holidays_version

from models.absences.queries import school_days
from models.school.calendar import (
    SchoolCalendar,
    month_bounds,
    school_year_label,
    school_year_start,
    statutory,
)
from models.school.tables import CalendarDay, CalendarDayKind, Term, TermKind


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 9, 1), date(2026, 9, 1)),
        (date(2026, 8, 31), date(2025, 9, 1)),
        (date(2026, 11, 16), date(2026, 9, 1)),
        (date(2027, 2, 28), date(2026, 9, 1)),
        (date(2027, 1, 1), date(2026, 9, 1)),
    ],
)
def test_school_year_starts_on_the_first_of_september(day: date, start: date) -> None:
    assert school_year_start(day) == start


def test_school_year_start_is_configurable() -> None:
    assert school_year_start(date(2026, 8, 20), month=8, start_day=15) == date(2026, 8, 15)
    assert school_year_start(date(2026, 8, 14), month=8, start_day=15) == date(2025, 8, 15)


def test_school_year_label_names_both_years() -> None:
    assert school_year_label(date(2027, 3, 1)) == "2026-2027学年"


@pytest.mark.parametrize(
    ("day", "bounds"),
    [
        (date(2026, 11, 16), (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2027, 2, 1), (date(2027, 2, 1), date(2027, 3, 1))),
    ],
)
def test_month_bounds_are_half_open(day: date, bounds: tuple[date, date]) -> None:
    assert month_bounds(day) == bounds


# -- school days: the school's calendar over China's statutory holidays ------------------------

SCHOOL = SchoolCalendar.from_terms(
    [
        Term(
            school_id=1,
            kind=TermKind.SEMESTER,
            name="第一学期",
            start_date=date(2026, 9, 1),
            end_date=date(2027, 1, 22),
        ),
        Term(
            school_id=1,
            kind=TermKind.WINTER_BREAK,
            name="寒假",
            start_date=date(2027, 1, 23),
            end_date=date(2027, 2, 21),
        ),
    ],
    [
        CalendarDay(school_id=1, day=date(2026, 11, 20), kind=CalendarDayKind.OFF, name="运动会"),
        CalendarDay(
            school_id=1, day=date(2026, 10, 11), kind=CalendarDayKind.SCHOOL_DAY, name="补课"
        ),
        CalendarDay(
            school_id=1, day=date(2026, 10, 7), kind=CalendarDayKind.SCHOOL_DAY, name="提前开学"
        ),
        CalendarDay(school_id=1, day=date(2026, 10, 10), kind=CalendarDayKind.OFF, name="秋游补休"),
    ],
)


@pytest.mark.parametrize(
    ("day", "school_day", "why"),
    [
        (date(2026, 11, 16), True, "a Monday in the semester"),
        (date(2026, 11, 21), False, "a Saturday"),
        (date(2026, 10, 1), False, "国庆节, a Thursday (statutory)"),
        (date(2026, 9, 25), False, "中秋节, a Friday (statutory)"),
        (date(2026, 9, 20), True, "a Sunday worked for 国庆 (statutory 调休)"),
        (date(2026, 11, 20), False, "the school's own day off, a Friday"),
        (date(2026, 10, 11), True, "the school's make-up Sunday"),
        (date(2026, 10, 7), True, "the school's file overrides a statutory day off"),
        (date(2026, 10, 10), False, "the school's file overrides a statutory 调休 Saturday"),
        (date(2027, 1, 1), False, "元旦 (statutory)"),
        (date(2027, 1, 25), False, "a Monday of the winter break"),
        (date(2026, 8, 31), False, "before the semester"),
    ],
)
def test_school_days_follow_the_school_then_the_statutory_calendar(
    day: date, school_day: bool, why: str
) -> None:
    assert SCHOOL.is_school_day(day) is school_day, why


def test_absence_across_a_weekend_and_a_statutory_make_up_saturday() -> None:
    """Friday 9 October to Monday 12 October 2026: Saturday 10 October is a 调休 working day
    (statutory); Sunday 11 October is not, unless the school says so."""
    plain = SchoolCalendar.from_terms(
        [
            Term(
                school_id=1,
                kind=TermKind.SEMESTER,
                name="第一学期",
                start_date=date(2026, 9, 1),
                end_date=date(2027, 1, 22),
            )
        ]
    )
    assert school_days(date(2026, 10, 9), date(2026, 10, 12), plain) == 3
    assert school_days(date(2026, 10, 1), date(2026, 10, 8), plain) == 1  # 8 Oct only


def test_the_pinned_holiday_library_has_this_school_years_published_plan() -> None:
    """The State Council's notice for 2026: 国庆·中秋 1–7 October, with 20 September and 10
    October worked. The library is pinned; a new release must still say so."""
    assert holidays_version == "0.109"
    law = statutory((2026, 2027))
    assert {date(2026, 10, d) for d in (1, 2, 3, 5, 6, 7)} <= law.off
    assert date(2026, 9, 25) in law.off
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= law.working_weekends
    assert date(2027, 1, 1) in law.off
    assert date(2027, 2, 6) in law.off  # 春节
    # 2027's 调休 plan is not in this release: `calendar show` tells the school to list them.
    assert 2026 in law.published and 2027 not in law.published
