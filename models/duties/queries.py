"""Opening immediate-visit duties (`models.duties.tables.Duty`): once per (teacher, source)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from models.db.columns import insert_ignoring_duplicates, utcnow
from models.duties.tables import Duty, DutyTrigger
from models.roster.tables import Staff, Student
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import SchoolClass
from models.visits.tables import Visit, VisitForm


async def open_duty(
    *,
    session: AsyncSession,
    school_id: int,
    student_id: int,
    teacher_id: int,
    trigger: DutyTrigger,
    source_key: str,
    triggered_at: datetime,
    reason: str = "",
    rules: SchoolRules = DEFAULT_RULES,
    due_at: datetime | None = None,
) -> Duty | None:
    """Create the duty unless this teacher already has one for `source_key`; it is due
    `rules.duty_due_hours` after its trigger unless `due_at` says when.

    Returns the new duty, or None when it existed (the caller then queues nothing new).
    """
    table = Duty.__table__  # type: ignore[attr-defined]
    added = await insert_ignoring_duplicates(
        session,
        table,
        {
            "school_id": school_id,
            "student_id": student_id,
            "teacher_id": teacher_id,
            "trigger": trigger.value,
            "source_key": source_key,
            "reason": reason[:200],
            "triggered_at": triggered_at,
            "due_at": due_at or triggered_at + timedelta(hours=rules.duty_due_hours),
            "done_at": None,
            "visit_id": None,
            "created_at": utcnow(),
        },
        unique=["teacher_id", "source_key"],
    )
    if not added:
        return None
    query = select(Duty).where(Duty.teacher_id == teacher_id, Duty.source_key == source_key)
    return (await session.exec(query)).one()


async def open_duties_of(*, session: AsyncSession, teacher_id: int) -> list[Duty]:
    query = (
        select(Duty)
        .where(Duty.teacher_id == teacher_id, col(Duty.done_at).is_(None))
        .order_by(col(Duty.due_at))
    )
    return list((await session.exec(query)).all())


# -- reading duties with their student, and fulfilling them (absences/flags helper) -------------


@dataclass(frozen=True)
class DutySpec:
    """A duty to open (see `open_duties`)."""

    school_id: int
    student_id: int
    teacher_id: int
    trigger: DutyTrigger
    source_key: str
    triggered_at: datetime
    reason: str = ""


async def open_duties(
    *, session: AsyncSession, specs: Sequence[DutySpec], rules: SchoolRules = DEFAULT_RULES
) -> list[int]:
    """Open several duties in one statement, skipping any (teacher, source) that exists.

    Returns the ids of the duties created now, so only those are announced.
    """
    if not specs:
        return []
    table = Duty.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    created = utcnow()
    rows = [
        {
            "school_id": spec.school_id,
            "student_id": spec.student_id,
            "teacher_id": spec.teacher_id,
            "trigger": spec.trigger.value,
            "source_key": spec.source_key,
            "reason": spec.reason[:200],
            "triggered_at": spec.triggered_at,
            "due_at": spec.triggered_at + timedelta(hours=rules.duty_due_hours),
            "done_at": None,
            "visit_id": None,
            "created_at": created,
        }
        for spec in specs
    ]
    statement = (
        insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["teacher_id", "source_key"])
        .returning(table.c.id)
    )
    result = await session.exec(statement)
    return sorted(int(i) for i in result.scalars().all())


@dataclass(frozen=True)
class DutyRow:
    """A duty with the student, the student's class and the teacher who must visit."""

    duty: Duty
    student: Student
    klass: SchoolClass
    teacher: Staff

    @property
    def student_label(self) -> str:
        return f"{self.klass.name} {self.student.name}"


def _duty_rows() -> Select[Duty, Student, SchoolClass, Staff]:
    return (
        select(Duty, Student, SchoolClass, Staff)
        .join(Student, col(Student.id) == col(Duty.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .join(Staff, col(Staff.id) == col(Duty.teacher_id))
    )


async def _rows(
    session: AsyncSession, query: Select[Duty, Student, SchoolClass, Staff]
) -> list[DutyRow]:
    return [DutyRow(*row) for row in (await session.exec(query)).all()]


async def open_duty_rows(*, session: AsyncSession, teacher_id: int) -> list[DutyRow]:
    """The teacher's open duties, soonest due first (one query)."""
    query = (
        _duty_rows()
        .where(col(Duty.teacher_id) == teacher_id, col(Duty.done_at).is_(None))
        .order_by(col(Duty.due_at), col(Duty.id))
    )
    return await _rows(session, query)


async def duty_rows_by_id(*, session: AsyncSession, ids: Sequence[int]) -> list[DutyRow]:
    """These duties with their student, class and teacher, in id order (one query)."""
    if not ids:
        return []
    query = _duty_rows().where(col(Duty.id).in_(list(ids))).order_by(col(Duty.id))
    return await _rows(session, query)


async def open_duties_for_student(
    *, session: AsyncSession, teacher_id: int, student_id: int
) -> list[Duty]:
    query = (
        select(Duty)
        .where(
            col(Duty.teacher_id) == teacher_id,
            col(Duty.student_id) == student_id,
            col(Duty.done_at).is_(None),
        )
        .order_by(col(Duty.due_at), col(Duty.id))
    )
    return list((await session.exec(query)).all())


async def pending_duty_rows(
    *, session: AsyncSession, school_id: int, now: datetime
) -> list[DutyRow]:
    """Open duties not yet due (those a teacher is still reminded of), one query."""
    query = (
        _duty_rows()
        .where(
            col(Duty.school_id) == school_id,
            col(Duty.done_at).is_(None),
            col(Duty.due_at) > now,
        )
        .order_by(col(Duty.id))
    )
    return await _rows(session, query)


async def overdue_duties(*, session: AsyncSession, school_id: int, now: datetime) -> list[DutyRow]:
    """Duties past due and not done at `now`, most overdue first (one query; the digest uses it)."""
    query = (
        _duty_rows()
        .where(
            col(Duty.school_id) == school_id,
            col(Duty.done_at).is_(None),
            col(Duty.due_at) < now,
        )
        .order_by(col(Duty.due_at), col(Duty.id))
    )
    return await _rows(session, query)


async def fulfil_duties(
    *,
    session: AsyncSession,
    visit: Visit,
    zone: ZoneInfo,
    now: datetime,
    open_duties: Sequence[Duty] | None = None,
) -> list[Duty]:
    """Mark done the open duties this visit fulfils, in the caller's transaction.

    A duty is fulfilled by an in-person visit (上门家访) by its own teacher, for its student, with
    a visit date on or after the trigger's day (in the school's zone). Any category counts.
    `open_duties`: the teacher's open duties for the student, when the caller has read them.
    """
    if visit.form is not VisitForm.HOME or visit.id is None:
        return []
    if open_duties is None:
        open_duties = await open_duties_for_student(
            session=session, teacher_id=visit.teacher_id, student_id=visit.student_id
        )
    fulfilled = [
        duty
        for duty in open_duties
        if duty.triggered_at.astimezone(zone).date() <= visit.visit_date
    ]
    for duty in fulfilled:
        duty.done_at, duty.visit_id = now, visit.id
        session.add(duty)
    if fulfilled:
        await session.flush()
    return fulfilled
