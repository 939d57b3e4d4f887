"""The school calendar: school years, semesters and breaks, school days (pure rules)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from holidays.countries.china import China
from holidays.version import __version__ as holidays_version

from models.school.tables import CalendarDay, CalendarDayKind, Term, TermKind


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


def has_semester_in_year(
    terms: Iterable[Term], day: date, *, month: int = 9, start_day: int = 1
) -> bool:
    """Whether a semester is on record in `day`'s school year: the school has a calendar."""
    start = school_year_start(day, month=month, start_day=start_day)
    end = start.replace(year=start.year + 1)
    return any(
        t.kind is TermKind.SEMESTER and t.start_date < end and t.end_date >= start for t in terms
    )


# -- school days ------------------------------------------------------------------------------

Span = tuple[date, date]

#: The statutory holiday data's version (pinned in pyproject.toml; tests check its data).
STATUTORY_SOURCE = f"holidays {holidays_version}"


@dataclass(frozen=True)
class Statutory:
    """China's public holidays and their 调休 working days, for some years."""

    off: frozenset[date]
    working_weekends: frozenset[date]
    #: Years for which the data has 调休 working days (the State Council's published plan); a
    #: year without them is the library's estimate of the fixed holidays only.
    published: frozenset[int]


@functools.lru_cache(maxsize=16)
def statutory(years: tuple[int, ...]) -> Statutory:
    """From the `holidays` library (its data is the State Council's annual notices)."""
    china = China(years=years)  # type: ignore[no-untyped-call]
    working = frozenset(china.weekend_workdays)
    return Statutory(
        off=frozenset(china),
        working_weekends=working,
        published=frozenset(day.year for day in working),
    )


@dataclass(frozen=True)
class SchoolCalendar:
    """The school's semesters and breaks (inclusive date spans), its own days off and make-up
    school days (校历), and China's statutory holidays and 调休 working days.

    A school day is a day inside a semester that is a weekday or a make-up day, and not a day
    off. The school's own days come first: its file overrides the statutory ones (a school may
    give a holiday back or keep a 调休 day off). A school with no semester on record counts
    every such day outside a break, so the rule works before its calendar is imported.
    """

    semesters: tuple[Span, ...] = ()
    breaks: tuple[Span, ...] = ()
    days_off: frozenset[date] = frozenset()
    make_up_days: frozenset[date] = frozenset()
    #: Whether China's statutory holidays and 调休 days count (tables of cases may leave them out).
    use_statutory: bool = True

    @classmethod
    def from_terms(
        cls,
        terms: Iterable[Term],
        days: Iterable[CalendarDay] = (),
        *,
        with_statutory: bool = True,
    ) -> SchoolCalendar:
        semesters: list[Span] = []
        breaks: list[Span] = []
        for term in terms:
            span = (term.start_date, term.end_date)
            (semesters if term.kind is TermKind.SEMESTER else breaks).append(span)
        marked = list(days)
        return cls(
            tuple(sorted(semesters)),
            tuple(sorted(breaks)),
            frozenset(d.day for d in marked if d.kind is CalendarDayKind.OFF),
            frozenset(d.day for d in marked if d.kind is CalendarDayKind.SCHOOL_DAY),
            with_statutory,
        )

    def in_semester(self, day: date) -> bool:
        if any(start <= day <= end for start, end in self.breaks):
            return False
        if not self.semesters:
            return True
        return any(start <= day <= end for start, end in self.semesters)

    def is_school_day(self, day: date) -> bool:
        if not self.in_semester(day) or day in self.days_off:
            return False
        if day in self.make_up_days:
            return True
        if self.use_statutory:
            law = statutory((day.year,))
            if day in law.working_weekends:
                return True
            if day in law.off:
                return False
        return day.weekday() < 5


#: The `holidays` library's language for each of the bot's.
_HOLIDAY_LANGUAGES = {"zh": "zh_CN", "en": "en_US"}


@functools.lru_cache(maxsize=16)
def statutory_names(years: tuple[int, ...], language: str) -> dict[date, str]:
    """The statutory days off of `years`, each with its name in `language` ("zh" or "en")."""
    china = China(  # type: ignore[no-untyped-call]
        years=years, language=_HOLIDAY_LANGUAGES.get(language, "zh_CN")
    )
    return {day: str(name) for day, name in china.items()}
