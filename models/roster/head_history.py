"""Who became each student's head teacher, and when: recorded by every roster import.

The roster holds only the current head teacher of each class; a new school year's import moves
students to new classes and classes to new heads. "Newly taken over" (暑假期间,对新接班学生遍访一次)
needs to know when that happened, so an import writes a `StudentHead` row for every student whose
head teacher is not the one last recorded. The school's first import records everyone with no
date: whoever heads them then is taken to have done so all along.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.roster.tables import Student, StudentHead
from models.school.tables import SchoolClass


async def record_heads(*, session: AsyncSession, school_id: int, today: date) -> int:
    """Record the head teacher of every active student where it changed; how many changed."""
    current = (
        await session.exec(
            select(Student.id, SchoolClass.head_teacher_id)
            .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
            .where(Student.school_id == school_id, col(Student.active))
        )
    ).all()
    latest = await _latest(session, school_id, None)
    first = not latest  # nothing recorded yet for the school: its first import
    changed = 0
    for student_id, head in current:
        known = latest.get(student_id or 0)
        if known is not None and known[0] == head:
            continue
        session.add(
            StudentHead(
                school_id=school_id,
                student_id=student_id or 0,
                head_teacher_id=head,
                since=None if first else today,
            )
        )
        changed += 1
    return changed


async def head_since(
    *, session: AsyncSession, school_id: int, heads: dict[int, int | None]
) -> dict[int, date | None]:
    """For each student of `heads` (student → current head teacher): since when that head
    teacher has been theirs, as recorded (None: long-standing, or never recorded)."""
    if not heads:
        return {}
    latest = await _latest(session, school_id, list(heads))
    found: dict[int, date | None] = {}
    for student_id, head in heads.items():
        known = latest.get(student_id)
        found[student_id] = known[1] if known is not None and known[0] == head else None
    return found


async def _latest(
    session: AsyncSession, school_id: int, student_ids: list[int] | None
) -> dict[int, tuple[int | None, date | None]]:
    """Each student's last recorded (head teacher, since)."""
    newest = (
        sa_select(func.max(col(StudentHead.id)))
        .where(col(StudentHead.school_id) == school_id)
        .group_by(col(StudentHead.student_id))
    )
    if student_ids is not None:
        newest = newest.where(col(StudentHead.student_id).in_(student_ids))
    rows = (
        await session.exec(
            select(StudentHead).where(col(StudentHead.id).in_(newest.scalar_subquery()))
        )
    ).all()
    return {row.student_id: (row.head_teacher_id, row.since) for row in rows}
