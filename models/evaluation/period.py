"""The period a teachers' evaluation covers: a semester 学期 or a school year 学年 (pure).

- *A semester* runs from its first day to the last day of the break that follows it (the winter
  break after the first semester, the summer break after the second: the earliest break starting
  after the semester's end and before the next semester), so its break quota is part of it.
  Without such a break it ends with the semester.
- *A school year* runs from `School.year_start_*` to the day before the next year starts, with
  its semesters and breaks.
- Chosen by the semester's name or a date in it (its start date, say), or by default the
  semester today falls in; in a break, the semester just before it (the evaluation is usually
  made once a semester ends). With `year`, the school year of that semester (or of today).
- *So far*: a period still running is evaluated as of today (`as_of_day`): the months and the
  break in progress count against the share of their days already past (`models.quota.rules`'
  pace), months not yet begun are left out.

Refusals are `PeriodRefused` (a msgid with params, like `CampaignRefused`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.quota.rules import BREAK_KINDS, MonthSpan, month_span, semesters
from models.school.calendar import month_bounds, school_year_label, school_year_start
from models.school.tables import Term
from models.text import N_


class PeriodRefused(Exception):
    """No such period. `message` is a msgid: `t._(refused.message).format(**refused.params)`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Period:
    #: `2026秋季学期` or `2026-2027学年`.
    label: str
    first: date
    #: Inclusive.
    last: date
    #: The semesters whose term days make the months (one for a semester period).
    semesters: tuple[Term, ...]
    #: The breaks inside the period.
    breaks: tuple[Term, ...]
    #: The first day of the school year the period belongs to (遍访, key visits are yearly).
    year_start: date
    #: The semester's id; None for a school year.
    term_id: int | None = None

    @property
    def is_year(self) -> bool:
        return self.term_id is None

    def as_of_day(self, today: date) -> date:
        """The last day counted: today while the period runs, else its last day."""
        return min(today, self.last)

    def finished(self, today: date) -> bool:
        return today > self.last

    def as_of(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The moment the figures are judged at: now, or the end of the period's last day."""
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return min(now, end)

    def months(self, today: date) -> list[MonthSpan]:
        """The calendar months with term days in the period's semesters, begun by `today`
        (each over its term days; a running month's span stops at `today`)."""
        if not self.semesters:
            firsts = _month_firsts(self.first, self.last)
            terms: Sequence[Term] = ()
        else:
            firsts = _month_firsts(
                min(t.start_date for t in self.semesters), max(t.end_date for t in self.semesters)
            )
            terms = self.semesters
        found: list[MonthSpan] = []
        for first in firsts:
            if first > self.as_of_day(today):
                break
            _, following = month_bounds(first)
            running = first <= today < following and not self.finished(today)
            span = month_span(today if running else first, terms)
            if span.term_days > 0:
                found.append(span)
        return found


def _month_firsts(first: date, last: date) -> list[date]:
    found: list[date] = []
    day = first.replace(day=1)
    while day <= last:
        found.append(day)
        day = month_bounds(day)[1]
    return found


def month_running(span: MonthSpan, period: Period, today: date) -> bool:
    """Whether the month is still in progress on `today` (its target is the pace so far)."""
    return not period.finished(today) and span.first <= today <= span.last


def break_share(term: Term, today: date) -> tuple[int, int]:
    """(days past, days) of a break on `today`: all of them once it is over."""
    days = (term.end_date - term.start_date).days + 1
    if today > term.end_date:
        return days, days
    return max(0, (today - term.start_date).days), days


def _names(known: Iterable[Term]) -> str:
    return "、".join(f"{t.name}（{t.start_date.isoformat()}）" for t in known)


def _following_break(term: Term, terms: Sequence[Term]) -> Term | None:
    later = [t.start_date for t in semesters(terms) if t.start_date > term.end_date]
    until = min(later) if later else date.max
    breaks = sorted(
        (t for t in terms if t.kind in BREAK_KINDS and term.end_date < t.start_date < until),
        key=lambda t: t.start_date,
    )
    return breaks[0] if breaks else None


def _semester_named(known: list[Term], wanted: str) -> Term:
    named = [t for t in known if t.name == wanted]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise PeriodRefused(
            N_("校历中有 {count} 个学期名为“{name}”，请写它的开始日期，例如 {day}。"),
            count=len(named),
            name=wanted,
            day=named[-1].start_date.isoformat(),
        )
    try:
        day = date.fromisoformat(wanted)
    except ValueError:
        raise PeriodRefused(
            N_("校历中没有名为“{name}”的学期。校历中的学期：{known}。"),
            name=wanted[:40],
            known=_names(known),
        ) from None
    found = next((t for t in known if t.start_date <= day <= t.end_date), None)
    if found is None:
        raise PeriodRefused(
            N_("{day} 不在任何学期内。校历中的学期：{known}。"),
            day=day.isoformat(),
            known=_names(known),
        )
    return found


def semester_period(term: Term, terms: Sequence[Term], *, month: int, start_day: int) -> Period:
    following = _following_break(term, terms)
    return Period(
        label=term.name,
        first=term.start_date,
        last=following.end_date if following is not None else term.end_date,
        semesters=(term,),
        breaks=(following,) if following is not None else (),
        year_start=school_year_start(term.start_date, month=month, start_day=start_day),
        term_id=term.id,
    )


def year_period(day: date, terms: Sequence[Term], *, month: int, start_day: int) -> Period:
    start = school_year_start(day, month=month, start_day=start_day)
    end = start.replace(year=start.year + 1) - timedelta(days=1)
    inside = [t for t in terms if start <= t.start_date <= end]
    return Period(
        label=school_year_label(day, month=month, start_day=start_day),
        first=start,
        last=end,
        semesters=tuple(semesters(inside)),
        breaks=tuple(
            sorted((t for t in inside if t.kind in BREAK_KINDS), key=lambda t: t.start_date)
        ),
        year_start=start,
    )


def choose_period(
    terms: Sequence[Term],
    wanted: str | None,
    today: date,
    *,
    year: bool = False,
    month: int = 9,
    start_day: int = 1,
) -> Period:
    """The period `wanted` names (a semester's name or a date in it; empty: today's), the
    school year around it with `year`. Refused (`PeriodRefused`) when the calendar has no such
    semester; a school year needs no calendar (its months are then whole months)."""
    known = semesters(terms)
    text = (wanted or "").strip()
    if year and not text:
        return year_period(today, terms, month=month, start_day=start_day)
    if not known:
        raise PeriodRefused(
            N_("校历中还没有学期。请先导入校历（python -m bot calendar import 校历.xlsx）。")
        )
    if text:
        term = _semester_named(known, text)
    else:
        begun = [t for t in known if t.start_date <= today]
        if not begun:
            raise PeriodRefused(
                N_("今天（{day}）之前还没有开始的学期。校历中的学期：{known}。"),
                day=today.isoformat(),
                known=_names(known),
            )
        term = max(begun, key=lambda t: t.start_date)
    if year:
        return year_period(term.start_date, terms, month=month, start_day=start_day)
    return semester_period(term, terms, month=month, start_day=start_day)
