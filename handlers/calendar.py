"""`/calendar` (or 校历): the school year's calendar, as staff and the console's `calendar show`
see it: semesters with their school days, breaks, the school's own days off and make-up days,
and the statutory holidays that fall in a semester.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pydantic import BaseModel

from handlers.context import Context
from handlers.flow import Flow, is_staff
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Reply, Transition
from models.absences.queries import school_days
from models.school.calendar import (
    STATUTORY_SOURCE,
    SchoolCalendar,
    school_year_label,
    school_year_start,
    statutory,
    statutory_names,
)
from models.school.calendar_store import StoredCalendar, stored_calendar
from models.school.tables import CalendarDayKind, TermKind

#: What a school without a calendar is told, and how to give it one.
NO_CALENDAR = N_(
    "本校还没有导入{year}的校历：学期、寒暑假和放假日都按默认推算，寒暑假指标不会生效，"
    "上学日也可能算错。请学校管理员导入校历：python -m bot calendar import 校历.xlsx"
)
TERM_NAMES = {
    TermKind.WINTER_BREAK: N_("寒假"),
    TermKind.SUMMER_BREAK: N_("暑假"),
}


def no_calendar_text(t: Translator, day: date) -> str:
    return t._(NO_CALENDAR).format(year=school_year_label(day))


def _span(t: Translator, first: date, last: date) -> str:
    if first == last:
        return first.isoformat()
    return t._("{first} 至 {last}").format(first=first.isoformat(), last=last.isoformat())


def _runs(days: Iterable[tuple[date, str]]) -> list[tuple[date, date, str]]:
    """Consecutive days with the same name, as (first, last, name)."""
    runs: list[tuple[date, date, str]] = []
    for day, name in sorted(days):
        if runs and runs[-1][2] == name and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day, name)
        else:
            runs.append((day, day, name))
    return runs


def calendar_text(t: Translator, stored: StoredCalendar, today: date, language: str) -> str:
    """The school year of `today`, in lines; or what to do when it has no calendar."""
    if not stored.covers(today):
        return no_calendar_text(t, today)
    start = school_year_start(today)
    end = start.replace(year=start.year + 1) - timedelta(days=1)
    rules: SchoolCalendar = stored.rules
    lines = [t._("{year}校历").format(year=school_year_label(today))]
    terms = [term for term in stored.terms if term.start_date <= end and term.end_date >= start]
    for term in terms:
        span = _span(t, term.start_date, term.end_date)
        if term.kind is TermKind.SEMESTER:
            count = school_days(term.start_date, term.end_date, rules)
            lines.append(
                t._("{name} {span}（上学日 {count} 天）").format(
                    name=term.name, span=span, count=count
                )
            )
        else:
            lines.append(t._("{name} {span}").format(name=term.name, span=span))
    marked = [d for d in stored.days if start <= d.day <= end]
    for kind, title in (
        (CalendarDayKind.OFF, N_("学校放假")),
        (CalendarDayKind.SCHOOL_DAY, N_("调休上课")),
    ):
        runs = _runs((d.day, d.name) for d in marked if d.kind is kind)
        if runs:
            listed = t._("；").join(f"{_span(t, a, b)} {name}" for a, b, name in runs)
            lines.append(t._("{title}：{days}").format(title=t._(title), days=listed))
    years = tuple(range(start.year, end.year + 1))
    names = statutory_names(years, language)
    in_semester = [
        (day, name) for day, name in names.items() if start <= day <= end and rules.in_semester(day)
    ]
    if in_semester:
        listed = t._("；").join(f"{_span(t, a, b)} {name}" for a, b, name in _runs(in_semester))
        lines.append(t._("学期内的法定节假日：{days}").format(days=listed))
    law = statutory(years)
    working = sorted(
        day
        for day in law.working_weekends
        if start <= day <= end and rules.in_semester(day) and day not in rules.days_off
    )
    if working:
        listed = t._("；").join(day.isoformat() for day in working)
        lines.append(t._("法定调休上课日：{days}").format(days=listed))
    published = law.published
    for year in years:
        if year not in published:
            lines.append(
                t._(
                    "{year} 年的法定调休安排尚未收录（{source}）：放假和调休上课的日期"
                    "请写进校历再导入。"
                ).format(year=year, source=STATUTORY_SOURCE)
            )
    return "\n".join(lines)


class CalendarDraft(BaseModel):
    """`/calendar` answers at once: nothing to keep between messages."""


async def start(inbound: Inbound, draft: CalendarDraft, ctx: Context, args: str) -> Transition:
    stored = await stored_calendar(session=ctx.session, school_id=ctx.school.id or 0)
    language = ctx.account.language if ctx.account is not None else "zh"
    return Transition.end(Reply(calendar_text(ctx.t, stored, ctx.today, language)))


CALENDAR_FLOW = Flow(
    name="calendar",
    draft_type=CalendarDraft,
    steps={},
    start=start,
    commands=("calendar", "校历"),
    allowed=is_staff,
    describe=N_("查看本学年校历：学期、寒暑假、放假和调休"),
    read_only=True,
)
