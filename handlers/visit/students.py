"""Finding students for the visit flow, always inside the teacher's scope (`models.scope`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from models.people import Staff, Student
from models.school import SchoolClass
from models.scope import scoped_students

PAGE_SIZE = 8


@dataclass(frozen=True)
class Pupil:
    """A student in scope with the class they are in."""

    student: Student
    klass: SchoolClass

    @property
    def id(self) -> int:
        return self.student.id or 0

    @property
    def label(self) -> str:
        return f"{self.klass.name} {self.student.name}"


def _in_scope(staff: Staff) -> Select[Student, SchoolClass]:
    ids = scoped_students(staff).with_only_columns(col(Student.id))
    return (
        select(Student, SchoolClass)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(col(Student.id).in_(ids))
    )


async def roster(*, session: AsyncSession, staff: Staff) -> list[Pupil]:
    """Every student in scope (one query), in class order."""
    query = _in_scope(staff).order_by(
        col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no)
    )
    return [Pupil(s, k) for s, k in (await session.exec(query)).all()]


async def pupils(*, session: AsyncSession, staff: Staff, ids: Sequence[int]) -> list[Pupil]:
    """These students, if in scope, in the order given."""
    if not ids:
        return []
    query = _in_scope(staff).where(col(Student.id).in_(list(ids)))
    found = {s.id: Pupil(s, k) for s, k in (await session.exec(query)).all()}
    return [found[i] for i in ids if i in found]


async def search(*, session: AsyncSession, staff: Staff, text: str, limit: int) -> list[Pupil]:
    """Students in scope whose name contains `text`, up to `limit`."""
    query = (
        _in_scope(staff)
        .where(col(Student.name).contains(text, autoescape=True))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.name))
        .limit(limit)
    )
    return [Pupil(s, k) for s, k in (await session.exec(query)).all()]


@dataclass(frozen=True)
class Page:
    pupils: list[Pupil]
    #: 0-based, clamped to the pages that exist.
    number: int
    count: int


async def class_page(*, session: AsyncSession, staff: Staff, class_id: int, page: int) -> Page:
    """One page of a class's students in scope (a page past the end shows the last one)."""
    query = _in_scope(staff).where(col(Student.class_id) == class_id)
    everyone = [
        Pupil(s, k) for s, k in (await session.exec(query.order_by(col(Student.student_no)))).all()
    ]
    pages = max(1, -(-len(everyone) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return Page(everyone[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages)
