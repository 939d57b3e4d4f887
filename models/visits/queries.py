"""Saving a visit record and counting a teacher's visits against the monthly target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import audit
from models.ledger.queries import NewItem, record_items
from models.ledger.tables import LedgerSource
from models.roster.queries import staff_with_role_where
from models.roster.tables import Staff, StaffRole
from models.school.calendar import school_year_start
from models.school.tables import School
from models.visits.tables import Visit, VisitCreate, VisitForm


class DateProblem(StrEnum):
    """Why a visit date cannot be recorded."""

    FUTURE = "future"
    BEFORE_SCHOOL_YEAR = "before_school_year"


def visit_date_problem(day: date, *, today: date, school: School) -> DateProblem | None:
    """A visit is logged after it happened, within the current school year (DOMAIN.md)."""
    if day > today:
        return DateProblem.FUTURE
    if day < school_year_first_day(today=today, school=school):
        return DateProblem.BEFORE_SCHOOL_YEAR
    return None


def school_year_first_day(*, today: date, school: School) -> date:
    """The first day of the school year `today` is in, by the school's own calendar."""
    return school_year_start(today, month=school.year_start_month, start_day=school.year_start_day)


_VISITS = Visit.__table__  # type: ignore[attr-defined]
#: One INSERT through the session, no unit-of-work flush (a save is the dearest step).
_INSERT_VISIT = insert(_VISITS).returning(_VISITS.c.id)


async def recorded_like(
    *, session: AsyncSession, school_id: int, student_id: int, visit_date: date, form: VisitForm
) -> list[str]:
    """Who recorded a visit to the student on that day in that form (by anyone), oldest
    first: the visit about to be saved would count twice (empty: it would not)."""
    query = (
        sa_select(col(Staff.name))
        .select_from(Visit)
        .join(Staff, col(Staff.id) == col(Visit.teacher_id))
        .where(
            col(Visit.school_id) == school_id,
            col(Visit.student_id) == student_id,
            col(Visit.visit_date) == visit_date,
            col(Visit.form) == form,
        )
        .order_by(col(Visit.id))
    )
    rows = (await (await session.connection()).execute(query)).all()
    return list(dict.fromkeys(name for (name,) in rows))


async def save_visit(
    *,
    session: AsyncSession,
    visit: VisitCreate,
    school_id: int,
    teacher_id: int,
    channel: str,
    now: datetime,
    repeat: bool = False,
) -> Visit:
    """Insert the visit, its audit entry and, for a problem 需要学校处理, its item in the problem
    ledger, in the caller's transaction (all or nothing).

    `repeat`: the teacher confirmed it as another visit besides one already recorded for the
    same student, day and form (`recorded_like`); the audit log says so."""
    record = Visit.model_validate(
        visit,
        update={
            "school_id": school_id,
            "teacher_id": teacher_id,
            "channel": channel,
            "created_at": now,
        },
    )
    inserted = await session.exec(_INSERT_VISIT, params=record.model_dump(exclude={"id"}))
    record.id = inserted.scalar_one()
    # No content in the audit log: who created which record is enough.
    await audit(
        session=session,
        actor=f"staff:{teacher_id}",
        action="visit.create_repeat" if repeat else "visit.create",
        subject=f"visit:{record.id}",
        student_id=record.student_id,
    )
    if record.needs_school:
        item = NewItem(
            school_id=school_id,
            source=LedgerSource.VISIT,
            source_id=record.id,
            student_id=record.student_id,
            description=record.problems,
            recorded_by=teacher_id,
        )
        await record_items(session, [item], now=now)  # the item is not read back
    return record


@dataclass(frozen=True)
class PastVisit:
    visit_date: date
    form: VisitForm
    teacher_name: str


@dataclass(frozen=True)
class VisitHistory:
    """What a teacher reads before a visit: the last one, and what was agreed or found."""

    last: PastVisit | None
    #: The latest agreed measures, and the latest problem found ("" for none).
    measures: str
    problem: str


#: Visits read back at most for a student's history (the latest first).
HISTORY_LIMIT = 20


async def visit_history(*, session: AsyncSession, student_id: int, since: date) -> VisitHistory:
    """The student's visits dated from `since` (by any teacher), latest first, in one query."""
    rows = (
        await (await session.connection()).execute(
            _HISTORY, {"student_id": student_id, "since": since}
        )
    ).all()
    if not rows:
        return VisitHistory(None, "", "")
    day, form, teacher, _, _ = rows[0]
    return VisitHistory(
        PastVisit(day, VisitForm(form), teacher),
        measures=next((m for *_, m, _ in rows if m), ""),
        problem=next((p for *_, p in rows if p), ""),
    )


#: The columns a history needs, latest first (no ORM objects: it runs as a question is asked).
_HISTORY: Any = (
    sa_select(
        col(Visit.visit_date),
        col(Visit.form),
        col(Staff.name),
        col(Visit.measures),
        col(Visit.problems),
    )
    .join(Staff, col(Staff.id) == col(Visit.teacher_id))
    .where(
        col(Visit.student_id) == bindparam("student_id"),
        col(Visit.visit_date) >= bindparam("since"),
    )
    .order_by(col(Visit.visit_date).desc(), col(Visit.id).desc())
    .limit(HISTORY_LIMIT)
)


async def late_filings(
    *, session: AsyncSession, school_id: int, since: datetime, days: int
) -> list[tuple[str, int]]:
    """Per teacher, the visits filed from `since` more than `days` days after they took
    place: (name, count), most first."""
    late = func.count(col(Visit.id))
    query = (
        select(Staff.name, late)
        .join(Staff, col(Staff.id) == col(Visit.teacher_id))
        .where(
            Visit.school_id == school_id,
            col(Visit.created_at) >= since,
            col(Visit.filed_days_late) > days,
        )
        .group_by(col(Staff.id), col(Staff.name))
        .order_by(late.desc(), col(Staff.name))
    )
    return [(name, int(count)) for name, count in (await session.exec(query)).all()]


async def problem_recipients(*, session: AsyncSession, school_id: int) -> list[ChannelAccount]:
    """Every bound account of every 德育处 admin: where a problem needing the school goes (one
    statement)."""
    query = (
        select(ChannelAccount, Staff)
        .join(Staff, col(Staff.id) == col(ChannelAccount.person_id))
        .where(
            ChannelAccount.person_kind == PersonKind.STAFF,
            ChannelAccount.school_id == school_id,
            *staff_with_role_where(school_id, StaffRole.ADMIN),
        )
        .order_by(col(ChannelAccount.id))
    )
    rows = (await session.exec(query)).all()
    return [account for account, staff in rows if StaffRole.ADMIN in staff.role_set()]
