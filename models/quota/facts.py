"""What the quota standings are built from: visit counts per teacher and per student, and the
classes' rosters, each read in one query (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, and_, case, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.quota.rules import (
    MonthSpan,
)
from models.roster.tables import Student
from models.school.tables import SchoolClass, Term
from models.visits.tables import Visit, VisitCategory


@dataclass
class StudentFacts:
    year: int = 0
    key: int = 0
    month: int = 0
    on_break: int = 0


@dataclass
class TeacherFacts:
    month: int = 0
    families: int = 0
    on_break: int = 0


@dataclass
class RosterEntry:
    id: int
    name: str
    student_no: str
    class_id: int
    tags: list[str]


def _between(first: date, last: date) -> Any:
    return and_(col(Visit.visit_date) >= first, col(Visit.visit_date) <= last)


def _month_condition(span: MonthSpan) -> Any:
    """Visits dated on the month's term days up to `span.day`."""
    runs = [(r.first, min(r.last, span.day)) for r in span.ranges if r.first <= span.day]
    if not runs:
        return false()
    return or_(*(_between(first, last) for first, last in runs))


def _break_condition(term: Term | None, day: date) -> Any:
    """Visits dated in the break up to `day`."""
    return false() if term is None else _between(term.start_date, min(term.end_date, day))


def _counted(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def _rows(
    session: AsyncSession, query: Select[*tuple[Any, ...]]
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Run a many-column Core SELECT in the session's transaction."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


# -- the queries --------------------------------------------------------------------------------


async def read_teacher_facts(
    session: AsyncSession,
    school_id: int,
    span: MonthSpan,
    term_break: Term | None,
    lower: date,
    staff_ids: list[int] | None,
) -> dict[int, TeacherFacts]:
    in_month = _month_condition(span)
    query = (
        sa_select(
            col(Visit.teacher_id),
            _counted(in_month),
            func.count(func.distinct(case((in_month, Visit.student_id)))),
            _counted(_break_condition(term_break, span.day)),
        )
        .where(col(Visit.school_id) == school_id, col(Visit.visit_date) >= lower)
        .group_by(col(Visit.teacher_id))
    )
    if staff_ids is not None:
        query = query.where(col(Visit.teacher_id).in_(staff_ids))
    rows = await _rows(session, query)
    return {
        int(teacher): TeacherFacts(int(month or 0), int(families or 0), int(on_break or 0))
        for teacher, month, families, on_break in rows
    }


async def read_class_rosters(session: AsyncSession, class_ids: list[int]) -> list[RosterEntry]:
    if not class_ids:
        return []
    query = (
        sa_select(
            col(Student.id),
            col(Student.name),
            col(Student.student_no),
            col(Student.class_id),
            col(Student.tags),
        )
        .where(col(Student.class_id).in_(class_ids), col(Student.active))
        .order_by(col(Student.student_no))
    )
    return [
        RosterEntry(int(sid or 0), name, number, class_id, [t for t in tags.split(",") if t])
        for sid, name, number, class_id, tags in await _rows(session, query)
    ]


async def read_student_facts(
    session: AsyncSession,
    school_id: int,
    span: MonthSpan,
    term_break: Term | None,
    year_start: date,
    lower: date,
    class_ids: list[int],
) -> dict[int, StudentFacts]:
    if not class_ids:
        return {}
    this_year = _between(year_start, span.day)
    query = (
        sa_select(
            col(Visit.student_id),
            _counted(this_year),
            _counted(and_(this_year, col(Visit.category) == VisitCategory.KEY)),
            _counted(_month_condition(span)),
            _counted(_break_condition(term_break, span.day)),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .where(
            col(Visit.school_id) == school_id,
            col(Visit.visit_date) >= lower,
            col(Student.class_id).in_(class_ids),
        )
        .group_by(col(Visit.student_id))
    )
    rows = await _rows(session, query)
    return {
        int(student): StudentFacts(int(year or 0), int(key or 0), int(month or 0), int(br or 0))
        for student, year, key, month, br in rows
    }


async def read_visited_by_head_before(
    session: AsyncSession, school_id: int, before: date, class_ids: list[int]
) -> set[int]:
    """Students whom their class's head teacher visited before `before` (any year)."""
    if not class_ids:
        return set()
    query = (
        select(Visit.student_id)
        .join(Student, col(Student.id) == col(Visit.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            Visit.school_id == school_id,
            col(Visit.visit_date) < before,
            col(Visit.teacher_id) == col(SchoolClass.head_teacher_id),
            col(Student.class_id).in_(class_ids),
        )
        .distinct()
    )
    return {int(s) for s in (await session.exec(query)).all()}
