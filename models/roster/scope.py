"""Whose records a staff member may touch (least privilege, DOMAIN.md "People and roles").

A head teacher: every student of their class. A subject teacher: the students of the classes they
teach. A coach: the members of their teams and groups. 德育处 admins and the principal: the whole
school. Care-room staff get no visit scope from that role alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, bindparam, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.db.unchanged_reads import KeptReads
from models.roster.tables import Staff, StaffRole, Student, Teaching
from models.school.tables import Group, GroupCoach, GroupMember, SchoolClass

WHOLE_SCHOOL_ROLES = frozenset({StaffRole.ADMIN, StaffRole.PRINCIPAL})


#: The roster reads the student picker keeps across updates (`models.db.unchanged_reads`): the
#: tables scopes and class pages read. Updates never write them (the update session refuses).
ROSTER_READS = KeptReads.of(
    "roster",
    (
        str(table.__tablename__)
        for table in (Student, SchoolClass, Teaching, Group, GroupMember, GroupCoach)
    ),
)


def holds_records() -> ColumnElement[bool]:
    """A member of staff who may be given children's records to act on (a ledger item's owner, a
    campaign's households): anyone but a 区域管理员, who sees the district's counts only."""
    return ~col(Staff.roles).contains(StaffRole.DISTRICT.value)


def has_whole_school_scope(staff: Staff) -> bool:
    return bool(staff.role_set() & WHOLE_SCHOOL_ROLES)


def _scope_statements() -> tuple[SelectOfScalar[Student], SelectOfScalar[Student]]:
    """Built once, with the school and staff member as parameters: building this SELECT costs
    more than running it, and every step of a flow asks for it."""
    school = bindparam("scope_school_id", type_=Integer)
    staff = bindparam("scope_staff_id", type_=Integer)
    active = select(Student).where(col(Student.school_id) == school, col(Student.active).is_(True))
    head_of = select(col(SchoolClass.id)).where(col(SchoolClass.head_teacher_id) == staff)
    taught = select(col(Teaching.class_id)).where(col(Teaching.staff_id) == staff)
    coached = (
        select(col(GroupMember.student_id))
        .join(GroupCoach, col(GroupCoach.group_id) == col(GroupMember.group_id))
        .where(col(GroupCoach.staff_id) == staff)
    )
    scoped = active.where(
        or_(
            col(Student.class_id).in_(head_of),
            col(Student.class_id).in_(taught),
            col(Student.id).in_(coached),
        )
    )
    return active, scoped


_WHOLE_SCHOOL, _SCOPED = _scope_statements()


@dataclass(frozen=True)
class Scope:
    """Students someone may choose from: a SELECT of students and the values of its parameters."""

    students: SelectOfScalar[Student]
    params: Mapping[str, Any] = field(default_factory=dict)
    #: `students` is built once, so statements made from it can be kept and reused too.
    fixed: bool = False


def scope_of(staff: Staff) -> Scope:
    """The active students in `staff`'s scope."""
    if has_whole_school_scope(staff):
        return whole_school_scope(staff.school_id)
    return Scope(
        _SCOPED, {"scope_school_id": staff.school_id, "scope_staff_id": staff.id}, fixed=True
    )


def whole_school_scope(school_id: int) -> Scope:
    """Every active student of the school."""
    return Scope(_WHOLE_SCHOOL, {"scope_school_id": school_id}, fixed=True)


def scoped_students(staff: Staff) -> SelectOfScalar[Student]:
    """A SELECT of the active students in `staff`'s scope (add ordering and filters to it)."""
    scope = scope_of(staff)
    return scope.students.params(**scope.params)


async def student_in_scope(
    *, session: AsyncSession, staff: Staff, student_id: int
) -> Student | None:
    """The student if `staff` may log a visit for them, else None (forged ids end here)."""
    result = await session.exec(scoped_students(staff).where(col(Student.id) == student_id))
    return result.first()


async def classes_in_scope(*, session: AsyncSession, staff: Staff) -> list[SchoolClass]:
    """Classes with at least one student in scope; the head teacher's own class first."""
    class_ids = scoped_students(staff).with_only_columns(col(Student.class_id)).distinct()
    result = await session.exec(select(SchoolClass).where(col(SchoolClass.id).in_(class_ids)))
    classes = list(result.all())
    classes.sort(key=lambda c: (c.head_teacher_id != staff.id, c.grade, c.number))
    return classes
