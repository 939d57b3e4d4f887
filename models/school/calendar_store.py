"""The school calendar in the database: a school year's terms and marked days, written whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.school.calendar import SchoolCalendar, has_semester_in_year
from models.school.calendar_sheet import CalendarPlan
from models.school.tables import CalendarDay, Term


@dataclass(frozen=True)
class StoredCalendar:
    """A school's terms and marked days, as stored."""

    terms: tuple[Term, ...]
    days: tuple[CalendarDay, ...]

    @property
    def rules(self) -> SchoolCalendar:
        return SchoolCalendar.from_terms(self.terms, self.days)

    def covers(self, day: date) -> bool:
        """Whether a semester is on record in `day`'s school year (the school has a calendar)."""
        return has_semester_in_year(self.terms, day)


async def stored_calendar(*, session: AsyncSession, school_id: int) -> StoredCalendar:
    terms = await session.exec(
        select(Term).where(Term.school_id == school_id).order_by(col(Term.start_date))
    )
    days = await session.exec(
        select(CalendarDay).where(CalendarDay.school_id == school_id).order_by(col(CalendarDay.day))
    )
    return StoredCalendar(tuple(terms.all()), tuple(days.all()))


async def replace_calendar(
    *, session: AsyncSession, school_id: int, plan: CalendarPlan, actor: str
) -> None:
    """Put `plan` in place of whatever the school had in its school year (in the session's
    transaction: all of it or nothing)."""
    await session.exec(
        delete(Term).where(
            col(Term.school_id) == school_id,
            col(Term.start_date) <= plan.last,
            col(Term.end_date) >= plan.first,
        )
    )
    await session.exec(
        delete(CalendarDay).where(
            col(CalendarDay.school_id) == school_id,
            col(CalendarDay.day) >= plan.first,
            col(CalendarDay.day) <= plan.last,
        )
    )
    for term in plan.terms:
        session.add(
            Term(
                school_id=school_id,
                kind=term.kind,
                name=term.name,
                start_date=term.start,
                end_date=term.end,
            )
        )
    for marked in plan.days:
        session.add(
            CalendarDay(school_id=school_id, day=marked.day, kind=marked.kind, name=marked.name)
        )
    await audit(
        session=session,
        actor=actor,
        action="calendar.import",
        subject=f"school:{school_id}",
        detail=f"{plan.year_name}: {len(plan.terms)} terms, {len(plan.days)} days",
    )
