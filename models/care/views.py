"""Reading the care room: one case with its names, the open cases of a care worker, a case's
chronology, and the stage alone for whoever referred or asked. Each read is a fixed number of
statements.

None of these checks who asks: the handlers check the permission matrix first (only care staff
and the principal read a case, `Action.CASE_READ`) and audit every read of a case's content. The
stage-only reads (`referred_by_staff`, `requested_by_guardian`) return no content at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.care.rules import contact_due_on
from models.care.tables import CareCase, CareEntry, CareEntryKind, CaseStatus, CaseUrgency
from models.roster.tables import Guardian, Staff, StaffRole, Student
from models.school.tables import SchoolClass

_Worker = aliased(Staff)
_Referrer = aliased(Staff)


def planned_at() -> Any:
    """A correlated subquery: when the case's current plan was made (its latest plan line)."""
    return (
        select(func.max(col(CareEntry.recorded_at)))
        .where(
            col(CareEntry.case_id) == col(CareCase.id),
            col(CareEntry.kind) == CareEntryKind.PLANNED.value,
        )
        .scalar_subquery()
    )


@dataclass(frozen=True)
class CaseRow:
    case: CareCase
    student_name: str
    class_name: str
    worker_name: str
    #: The member of staff who referred or recorded it, or the guardian who asked.
    referrer_name: str
    planned_at: datetime | None

    def next_contact_on(self, zone: ZoneInfo) -> date | None:
        case = self.case
        last = case.last_contact_at
        return contact_due_on(
            last_contact=last.astimezone(zone).date() if last is not None else None,
            planned=self.planned_at.astimezone(zone).date() if self.planned_at else None,
            every_days=case.plan_every_days,
        )


def _rows() -> Any:
    return (
        sa_select(  # type: ignore[call-overload]
            CareCase,
            col(Student.name),
            col(SchoolClass.name),
            _Worker.name,
            _Referrer.name,
            col(Guardian.name),
            planned_at(),
        )
        .join(Student, col(Student.id) == col(CareCase.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .outerjoin(_Worker, col(_Worker.id) == col(CareCase.worker_id))
        .outerjoin(_Referrer, col(_Referrer.id) == col(CareCase.referred_by_staff_id))
        .outerjoin(Guardian, col(Guardian.id) == col(CareCase.referred_by_guardian_id))
    )


def _row(found: Sequence[Any]) -> CaseRow:
    case, student, klass, worker, referrer, guardian, planned = found
    assert isinstance(case, CareCase)
    return CaseRow(
        case,
        str(student or ""),
        str(klass or ""),
        str(worker or ""),
        str(referrer or guardian or ""),
        planned,
    )


async def case_row(session: AsyncSession, *, school_id: int, case_id: int) -> CaseRow | None:
    """The case of this school (a forged or foreign id gives None)."""
    query = _rows().where(col(CareCase.id) == case_id, col(CareCase.school_id) == school_id)
    found = (await session.exec(query)).first()
    return _row(found) if found is not None else None


async def open_cases(
    session: AsyncSession, *, school_id: int, zone: ZoneInfo, worker_id: int | None
) -> list[CaseRow]:
    """The open cases of the school — or, with `worker_id`, those that worker follows and those
    no one has taken yet — the next contact due first, then urgent ones, then the oldest."""
    query = _rows().where(
        col(CareCase.school_id) == school_id,
        col(CareCase.status) != CaseStatus.CLOSED.value,
    )
    if worker_id is not None:
        query = query.where(
            or_(col(CareCase.worker_id) == worker_id, col(CareCase.worker_id).is_(None))
        )
    rows = [_row(r) for r in (await session.exec(query)).all()]

    def order(row: CaseRow) -> tuple[bool, date, bool, datetime]:
        due = row.next_contact_on(zone)
        return (
            due is None,
            due or date.max,
            row.case.urgency is not CaseUrgency.URGENT,
            row.case.opened_at,
        )

    return sorted(rows, key=order)


@dataclass(frozen=True)
class EntryLine:
    entry: CareEntry
    staff_name: str


async def entries_of(session: AsyncSession, case_id: int) -> list[EntryLine]:
    """The case's chronology, in the order things happened (check access before showing it)."""
    query = (
        select(CareEntry, Staff.name)
        .outerjoin(Staff, col(Staff.id) == col(CareEntry.recorded_by))
        .where(col(CareEntry.case_id) == case_id)
        .order_by(col(CareEntry.at), col(CareEntry.id))
    )
    return [EntryLine(entry, str(name or "")) for entry, name in await session.exec(query)]


@dataclass(frozen=True)
class Stage:
    """What a referrer or a guardian may know of a case: whom, when, and its stage."""

    case_id: int
    student_name: str
    class_name: str
    opened_at: datetime
    status: CaseStatus


def _stages() -> Any:
    return (
        sa_select(
            col(CareCase.id),
            col(Student.name),
            col(SchoolClass.name),
            col(CareCase.opened_at),
            col(CareCase.status),
        )
        .join(Student, col(Student.id) == col(CareCase.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .order_by(col(CareCase.opened_at).desc(), col(CareCase.id).desc())
    )


def _stage(row: Sequence[Any]) -> Stage:
    case_id, student, klass, opened, status = row
    return Stage(int(case_id), str(student), str(klass or ""), opened, CaseStatus(status))


async def referred_by_staff(
    session: AsyncSession, *, staff_id: int, case_id: int | None = None, limit: int = 10
) -> list[Stage]:
    """The cases a member of staff referred (or recorded), newest first: the stage only."""
    query = _stages().where(col(CareCase.referred_by_staff_id) == staff_id)
    if case_id is not None:
        query = query.where(col(CareCase.id) == case_id)
    return [_stage(r) for r in (await session.exec(query.limit(limit))).all()]


async def requested_by_guardian(
    session: AsyncSession, *, guardian_id: int, case_id: int | None = None, limit: int = 10
) -> list[Stage]:
    """The cases a guardian asked for, newest first: the stage only."""
    query = _stages().where(col(CareCase.referred_by_guardian_id) == guardian_id)
    if case_id is not None:
        query = query.where(col(CareCase.id) == case_id)
    return [_stage(r) for r in (await session.exec(query.limit(limit))).all()]


async def care_staff_ids(session: AsyncSession, *, school_id: int) -> list[int]:
    """The school's active care-room staff."""
    query = select(col(Staff.id)).where(
        col(Staff.school_id) == school_id,
        col(Staff.active).is_(True),
        col(Staff.roles).contains(StaffRole.CARE.value),
    )
    return [int(i or 0) for i in (await session.exec(query)).all()]


async def principal_ids(session: AsyncSession, *, school_id: int) -> list[int]:
    """The school's active principals."""
    query = select(col(Staff.id)).where(
        col(Staff.school_id) == school_id,
        col(Staff.active).is_(True),
        col(Staff.roles).contains(StaffRole.PRINCIPAL.value),
    )
    return [int(i or 0) for i in (await session.exec(query)).all()]
