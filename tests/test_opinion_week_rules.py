"""When opinion week falls (the Monday–Sunday week of the month's last school day, sent on its
first school day in the month), whose turn a semester is, when families are reminded, and the
semester rule's figure (models/surveys/opinion_week.py), as tables of cases."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.school.calendar import SchoolCalendar
from models.surveys.opinion_week import (
    below_share,
    coverage_percent,
    halfway,
    opinion_week,
    rotation_start,
)

ZONE = ZoneInfo("Asia/Shanghai")
#: The 2026-27 school year, without China's statutory days (the tables stay the same whatever
#: the holiday data says); one case below uses them.
YEAR = SchoolCalendar(
    semesters=((date(2026, 9, 1), date(2027, 1, 22)), (date(2027, 2, 23), date(2027, 7, 3))),
    breaks=((date(2027, 1, 23), date(2027, 2, 22)), (date(2027, 7, 4), date(2027, 8, 31))),
    use_statutory=False,
)
NO_SEMESTER = SchoolCalendar(use_statutory=False)

D = date


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        # A month ending on a Saturday: the week of Friday the 30th.
        (YEAR, D(2026, 10, 5), (D(2026, 10, 26), D(2026, 11, 1), D(2026, 10, 26), D(2026, 10, 30))),
        # A month ending on a Monday: the week runs on into the next month.
        (YEAR, D(2026, 11, 2), (D(2026, 11, 30), D(2026, 12, 6), D(2026, 11, 30), D(2026, 11, 30))),
        # A month ending on a Thursday.
        (YEAR, D(2026, 12, 31), (D(2026, 12, 28), D(2027, 1, 3), D(2026, 12, 28), D(2026, 12, 31))),
        # The semester ends on Friday 22 January: its last week, not the month's.
        (YEAR, D(2027, 1, 1), (D(2027, 1, 18), D(2027, 1, 24), D(2027, 1, 18), D(2027, 1, 22))),
        # The semester starts on Tuesday 23 February: sent that day, not on the break's Monday.
        (YEAR, D(2027, 2, 1), (D(2027, 2, 22), D(2027, 2, 28), D(2027, 2, 23), D(2027, 2, 26))),
        # June ends on a Wednesday, in the semester's last week.
        (YEAR, D(2027, 6, 1), (D(2027, 6, 28), D(2027, 7, 4), D(2027, 6, 28), D(2027, 6, 30))),
        # No semester on record: every weekday counts.
        (
            NO_SEMESTER,
            D(2026, 8, 3),
            (D(2026, 8, 31), D(2026, 9, 6), D(2026, 8, 31), D(2026, 8, 31)),
        ),
        # The school's own day off on the week's Monday: sent on the Tuesday.
        (
            SchoolCalendar(days_off=frozenset({D(2026, 10, 26)}), use_statutory=False),
            D(2026, 10, 1),
            (D(2026, 10, 26), D(2026, 11, 1), D(2026, 10, 27), D(2026, 10, 30)),
        ),
        # A month whose only school days are in its first week: the week starts the month before.
        (
            SchoolCalendar(semesters=((D(2027, 9, 1), D(2027, 9, 3)),), use_statutory=False),
            D(2027, 9, 20),
            (D(2027, 8, 30), D(2027, 9, 5), D(2027, 9, 1), D(2027, 9, 3)),
        ),
        # China's statutory days: 1 January is a holiday, the week still holds 31 December.
        (
            SchoolCalendar(semesters=((D(2026, 9, 1), D(2027, 1, 22)),)),
            D(2026, 12, 1),
            (D(2026, 12, 28), D(2027, 1, 3), D(2026, 12, 28), D(2026, 12, 31)),
        ),
    ],
)
def test_opinion_week_is_the_week_of_the_months_last_school_day_sent_on_its_first(
    calendar: SchoolCalendar, day: date, expected: tuple[date, date, date, date]
) -> None:
    week = opinion_week(day, calendar)
    assert week is not None
    assert (week.monday, week.sunday, week.first_day, week.last_day) == expected


@pytest.mark.parametrize(
    ("calendar", "day"),
    [
        (YEAR, D(2027, 8, 1)),
        (YEAR, D(2027, 8, 31)),
        # July's school days (1 and 2 July) are in June's opinion week: one week, one survey.
        (YEAR, D(2027, 7, 1)),
    ],
)
def test_a_month_without_a_school_day_or_week_of_its_own_has_no_opinion_week(
    calendar: SchoolCalendar, day: date
) -> None:
    assert opinion_week(day, calendar) is None


def test_the_survey_goes_out_from_the_first_school_day_and_closes_on_sunday_evening() -> None:
    week = opinion_week(D(2027, 2, 1), YEAR)
    assert week is not None
    assert [week.sends_on(d) for d in (D(2027, 2, 22), D(2027, 2, 23), D(2027, 2, 26))] == [
        False,
        True,
        True,
    ]
    assert not week.sends_on(D(2027, 2, 27))
    assert week.deadline(ZONE) == datetime(2027, 2, 28, 20, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("day", "semester_start", "expected"),
    [
        (D(2026, 11, 30), D(2026, 9, 1), D(2026, 9, 1)),
        (D(2027, 3, 29), D(2027, 2, 23), D(2027, 2, 23)),
        # No semester on record: the half-year, September to January, February to August.
        (D(2026, 9, 28), None, D(2026, 9, 1)),
        (D(2026, 12, 28), None, D(2026, 9, 1)),
        (D(2027, 1, 25), None, D(2026, 9, 1)),
        (D(2027, 2, 22), None, D(2027, 2, 1)),
        (D(2027, 8, 30), None, D(2027, 2, 1)),
    ],
)
def test_the_rotation_runs_over_the_semester_or_else_the_half_year(
    day: date, semester_start: date | None, expected: date
) -> None:
    assert rotation_start(day, semester_start) == expected


def test_families_are_reminded_halfway_from_sending_to_the_deadline() -> None:
    sent = datetime(2026, 11, 30, 9, 0, tzinfo=ZONE)
    deadline = datetime(2026, 12, 6, 20, 0, tzinfo=ZONE)
    assert halfway(sent, deadline) == datetime(2026, 12, 3, 14, 30, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("covered", "households", "share", "percent", "below"),
    [
        (36, 300, 30, 12, True),
        (89, 300, 30, 29, True),  # 29.7 % is not 30 %
        (90, 300, 30, 30, False),
        (300, 300, 30, 100, False),
        (5, 17, 30, 29, True),
        (6, 17, 30, 35, False),
        (0, 0, 30, 0, False),  # no family: nothing to ask
    ],
)
def test_the_semester_rule_counts_the_share_of_families_reached(
    covered: int, households: int, share: int, percent: int, below: bool
) -> None:
    assert coverage_percent(covered, households) == percent
    assert below_share(covered, households, share) is below
