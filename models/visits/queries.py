"""Saving a visit record and counting a teacher's visits against the monthly target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, exists, func, insert
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import audit
from models.quota.rules import DEFAULT_TARGETS, MonthlyTargets, monthly_target
from models.roster.queries import accounts_of, staff_with_role
from models.roster.tables import Staff, StaffRole, Teaching
from models.school.calendar import month_bounds, school_year_start
from models.school.tables import School, SchoolClass
from models.visits.tables import Visit, VisitCreate


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


async def save_visit(
    *,
    session: AsyncSession,
    visit: VisitCreate,
    school_id: int,
    teacher_id: int,
    channel: str,
    now: datetime,
) -> Visit:
    """Insert the visit and its audit entry in the caller's transaction (both or neither)."""
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
        action="visit.create",
        subject=f"visit:{record.id}",
    )
    return record


@dataclass(frozen=True)
class Progress:
    done: int
    target: int


async def visits_in_month(*, session: AsyncSession, teacher_id: int, day: date) -> int:
    """How many visits the teacher logged with a visit date in `day`'s calendar month."""
    first, following = month_bounds(day)
    query = select(func.count()).where(
        col(Visit.teacher_id) == teacher_id,
        col(Visit.visit_date) >= first,
        col(Visit.visit_date) < following,
    )
    return int((await session.exec(query)).one())


def _progress_query() -> Any:
    """Whether the teacher heads a class, whether they teach one, and their visits dated in a
    month: one statement, built once (it runs on every save)."""
    staff_id: Any = bindparam("staff_id")
    heads = exists().where(col(SchoolClass.head_teacher_id) == staff_id)
    teaches = exists().where(col(Teaching.staff_id) == staff_id)
    done = (
        select(func.count())
        .where(
            col(Visit.teacher_id) == staff_id,
            col(Visit.visit_date) >= bindparam("first"),
            col(Visit.visit_date) < bindparam("following"),
        )
        .scalar_subquery()
    )
    return select_rows(heads, teaches, done)


_PROGRESS = _progress_query()


async def monthly_progress(
    *,
    session: AsyncSession,
    staff: Staff,
    day: date,
    targets: MonthlyTargets = DEFAULT_TARGETS,
) -> Progress:
    """Visits this month against the target for the teacher's role (`day` in the school's zone)."""
    first, following = month_bounds(day)
    params = {"staff_id": staff.id or 0, "first": first, "following": following}
    heads, teaches, done = (await session.exec(_PROGRESS, params=params)).one()
    target = monthly_target(
        head_teacher=bool(heads), subject_teacher=bool(teaches), targets=targets
    )
    return Progress(done=int(done), target=target)


async def problem_recipients(*, session: AsyncSession, school_id: int) -> list[ChannelAccount]:
    """Every bound account of every 德育处 admin: where a problem needing the school goes."""
    admins = await staff_with_role(session=session, school_id=school_id, role=StaffRole.ADMIN)
    accounts = await accounts_of(
        session=session, kind=PersonKind.STAFF, person_ids=[a.id for a in admins if a.id]
    )
    return sorted((a for a in accounts if a.school_id == school_id), key=lambda a: a.id or 0)
