"""School days and the sick-absence threshold (pure rules, `models.absences.queries`)."""

from __future__ import annotations

from datetime import date

import pytest

from models.absences.queries import (
    days_missed,
    duty_due_now,
    school_days,
    sick_visit_due,
)
from models.absences.tables import AbsenceKind
from models.school.calendar import SchoolCalendar
from models.school.rules import SchoolRules
from models.school.tables import Term, TermKind

#: Autumn semester to 22 January, winter break to 21 February, spring semester from 23 February.
CALENDAR = SchoolCalendar.from_terms(
    [
        Term(
            school_id=1,
            kind=TermKind.SEMESTER,
            name="秋季学期",
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
        Term(
            school_id=1,
            kind=TermKind.SEMESTER,
            name="春季学期",
            start_date=date(2027, 2, 22),
            end_date=date(2027, 7, 2),
        ),
        # A holiday week inside the semester, entered as a break.
        Term(
            school_id=1,
            kind=TermKind.SUMMER_BREAK,
            name="国庆假期",
            start_date=date(2026, 10, 1),
            end_date=date(2026, 10, 7),
        ),
    ]
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 16), True),  # Monday in the semester
        (date(2026, 11, 14), False),  # Saturday
        (date(2026, 11, 15), False),  # Sunday
        (date(2026, 10, 5), False),  # Monday in the holiday week
        (date(2026, 10, 8), True),  # Thursday after it
        (date(2027, 1, 25), False),  # Monday in the winter break
        (date(2027, 2, 22), True),  # first Monday of the spring semester
        (date(2026, 8, 31), False),  # before the first semester
    ],
)
def test_a_school_day_is_a_weekday_in_a_semester_outside_any_break(
    day: date, expected: bool
) -> None:
    assert CALENDAR.is_school_day(day) is expected


def test_without_any_semester_every_weekday_is_a_school_day() -> None:
    calendar = SchoolCalendar()
    assert calendar.is_school_day(date(2026, 8, 3))
    assert not calendar.is_school_day(date(2026, 8, 1))


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2026, 11, 16), date(2026, 11, 16), 1),
        (date(2026, 11, 12), date(2026, 11, 16), 3),  # Thu, Fri, (weekend), Mon
        (date(2026, 11, 14), date(2026, 11, 15), 0),  # a weekend
        (date(2026, 9, 30), date(2026, 10, 9), 3),  # Wed 30, (holiday week), Thu 8, Fri 9
        (date(2027, 1, 21), date(2027, 2, 23), 4),  # across the winter break
        (date(2026, 11, 17), date(2026, 11, 16), 0),  # reversed
    ],
)
def test_school_days_between_two_dates_count_both_ends(
    first: date, last: date, expected: int
) -> None:
    assert school_days(first, last, CALENDAR) == expected


@pytest.mark.parametrize(
    ("since", "back_on", "today", "expected"),
    [
        (date(2026, 11, 12), None, date(2026, 11, 16), 3),  # still away: today counts
        (date(2026, 11, 12), date(2026, 11, 16), date(2026, 11, 16), 2),  # back today
        (date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 20), 1),  # back long ago
        (date(2026, 11, 14), None, date(2026, 11, 15), 0),  # a weekend only
    ],
)
def test_days_missed_run_to_today_or_to_the_day_before_the_return(
    since: date, back_on: date | None, today: date, expected: int
) -> None:
    assert days_missed(since=since, back_on=back_on, today=today, calendar=CALENDAR) == expected


@pytest.mark.parametrize(
    ("missed", "threshold", "due"),
    [
        # Seed 000: "学生因病缺课两天以上的……须立即家访". 以上 includes the number.
        (1, 2, False),  # the first school day away
        (2, 2, True),  # the second: 两天 is 两天以上
        (3, 2, True),
        (0, 1, False),
        (1, 1, True),
        (2, 3, False),
        (3, 3, True),
    ],
)
def test_a_sick_absence_needs_a_visit_from_the_thresholds_day_on(
    missed: int, threshold: int, due: bool
) -> None:
    rules = SchoolRules(sick_absence_school_days=threshold)
    assert sick_visit_due(missed, rules) is due


@pytest.mark.parametrize(
    ("kind", "missed", "due"),
    [
        (AbsenceKind.UNEXCUSED, 1, True),
        (AbsenceKind.UNEXCUSED, 0, True),
        (AbsenceKind.SICK, 1, False),
        (AbsenceKind.SICK, 3, True),
    ],
)
def test_an_unexcused_absence_needs_a_visit_at_once(
    kind: AbsenceKind, missed: int, due: bool
) -> None:
    assert duty_due_now(kind, missed) is due
