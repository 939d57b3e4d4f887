"""When opinion week 民意访问周 falls, whose turn a semester is, when a survey's families are
reminded, and the semester rule's figure (pure rules).

Opinion week (DOMAIN.md: the last week of every month) is the Monday–Sunday week that holds the
month's last school day (`SchoolCalendar.is_school_day`): the last week of the month with school
days in it. Its survey goes out on the first school day of that week that is in the month, and
families answer until the week's Sunday at 20:00 (before quiet hours, a whole weekend after the
school days). A month without a school day (a summer break, a winter break with no school day
around it) has no opinion week. When the month ends early in a week, the week runs on into the
next month (November 2026 ends on a Monday: its opinion week is 30 November – 6 December). A
month whose school days all fall in the week that was the month before's opinion week (a
semester ending on Friday 2 July, June ending on a Wednesday) has none of its own: one week, one
survey.

The rotation runs over a semester (no family asked twice in one): from the first day of the
semester on record, or, for a school with no semester on record, from 1 September (September to
January) or 1 February (February to August).

A sent survey reminds the families that have not submitted once, halfway between its sending and
its deadline (the notices' receipts are chased the same way).

The semester rule (seed 000 §二.6: 每学期随机选择不少于30%的学生家长): by the semester's midpoint
its surveys must have reached at least `survey_min_share` % of the school's families. Counted
over all its semester and other surveys together (a school may ask grades in turn), each family
once; opinion weeks do not count, being a rotation of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.school.calendar import SchoolCalendar, month_bounds

#: An opinion week's survey closes on the week's Sunday at this time (local).
DEADLINE_TIME = time(20, 0)
#: For a school with no semester on record: the months its first semester starts and its second.
FIRST_HALF_MONTH = 9
SECOND_HALF_MONTH = 2


@dataclass(frozen=True)
class OpinionWeek:
    monday: date
    sunday: date
    #: The first school day of the week in the month: the day the survey goes out.
    first_day: date
    #: The month's last school day (in this week): the last day the survey may still go out.
    last_day: date

    def deadline(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.sunday, DEADLINE_TIME, tzinfo=zone)

    def sends_on(self, day: date) -> bool:
        """Whether the survey may go out on `day`: from the first school day of the week to the
        month's last school day (a run missed on the first day catches up)."""
        return self.first_day <= day <= self.last_day


def opinion_week(day: date, calendar: SchoolCalendar) -> OpinionWeek | None:
    """The opinion week of `day`'s month; None for a month without a school day, or whose
    school days are all in the month before's opinion week."""
    first, following = month_bounds(day)
    last = following - timedelta(days=1)
    while not calendar.is_school_day(last):
        if last == first:
            return None
        last -= timedelta(days=1)
    monday = last - timedelta(days=last.weekday())
    if monday < first and _any_school_day(monday, first - timedelta(days=1), calendar):
        return None
    start = max(monday, first)
    while not calendar.is_school_day(start):
        start += timedelta(days=1)
    return OpinionWeek(
        monday=monday, sunday=monday + timedelta(days=6), first_day=start, last_day=last
    )


def _any_school_day(first: date, last: date, calendar: SchoolCalendar) -> bool:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return any(calendar.is_school_day(day) for day in days)


def rotation_start(day: date, semester_start: date | None) -> date:
    """The first day of the rotation `day` is in: its semester's, or the calendar half-year's
    when the school has no semester on record."""
    if semester_start is not None:
        return semester_start
    if day.month >= FIRST_HALF_MONTH:
        return date(day.year, FIRST_HALF_MONTH, 1)
    if day.month >= SECOND_HALF_MONTH:
        return date(day.year, SECOND_HALF_MONTH, 1)
    return date(day.year - 1, FIRST_HALF_MONTH, 1)


def halfway(sent_at: datetime, deadline: datetime) -> datetime:
    """When a survey's families that have not submitted are reminded."""
    return sent_at + (deadline - sent_at) / 2


def coverage_percent(covered: int, households: int) -> int:
    """The share of the families reached, in whole percent rounded down (29.7 % is not 30 %)."""
    return covered * 100 // households if households else 0


def below_share(covered: int, households: int, share: int) -> bool:
    """Whether `covered` of `households` families is less than `share` %: the semester rule is
    not met (a school with no family has nothing to ask)."""
    return households > 0 and covered * 100 < share * households
