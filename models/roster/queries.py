"""Looking people up: the school, accounts and the persons behind them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import ChannelAccount, PersonKind
from models.roster.tables import Guardian, Staff, StaffRole, Student, StudentGuardian, Teaching
from models.school.tables import Group, GroupCoach, School, SchoolClass


async def current_school(*, session: AsyncSession, name: str | None = None) -> School | None:
    """The school this deployment serves: the named one, else the first one created."""
    query = select(School)
    if name:
        named = (await session.exec(query.where(School.name == name))).first()
        if named is not None:
            return named
    return (await session.exec(query.order_by(col(School.id)))).first()


async def account_for(
    *, session: AsyncSession, school_id: int, channel: str, external_id: str
) -> ChannelAccount | None:
    """The messenger user's account in `school_id` (the same user in another school's bot is
    another account)."""
    query = select(ChannelAccount).where(
        ChannelAccount.school_id == school_id,
        ChannelAccount.channel == channel,
        ChannelAccount.external_id == external_id,
    )
    return (await session.exec(query)).first()


async def person_for(*, session: AsyncSession, account: ChannelAccount) -> Staff | Guardian | None:
    if account.person_kind == PersonKind.STAFF:
        return await session.get(Staff, account.person_id)
    return await session.get(Guardian, account.person_id)


async def accounts_of(
    *, session: AsyncSession, kind: PersonKind, person_ids: list[int]
) -> list[ChannelAccount]:
    if not person_ids:
        return []
    query = select(ChannelAccount).where(
        ChannelAccount.person_kind == kind, col(ChannelAccount.person_id).in_(person_ids)
    )
    return list((await session.exec(query)).all())


def staff_with_role_where(school_id: int, role: StaffRole) -> tuple[ColumnElement[bool], ...]:
    """The conditions on `Staff` of `staff_with_role` (the roles column may also name a role
    that only contains this one's name: check `role_set()` on what they find)."""
    return (
        col(Staff.school_id) == school_id,
        col(Staff.roles).contains(role.value),
        col(Staff.active).is_(True),
    )


async def staff_with_role(*, session: AsyncSession, school_id: int, role: StaffRole) -> list[Staff]:
    query = select(Staff).where(*staff_with_role_where(school_id, role))
    return [s for s in (await session.exec(query)).all() if role in s.role_set()]


@dataclass(frozen=True)
class StaffDuties:
    head_of: list[str]
    teaches: list[tuple[str, str]]  # (class name, subject)
    coaches: list[str]
    roles: frozenset[StaffRole]


async def staff_duties(*, session: AsyncSession, staff: Staff) -> StaffDuties:
    head = await session.exec(
        select(SchoolClass.name).where(SchoolClass.head_teacher_id == staff.id)
    )
    taught = await session.exec(
        select(SchoolClass.name, Teaching.subject)
        .join(Teaching, col(Teaching.class_id) == col(SchoolClass.id))
        .where(Teaching.staff_id == staff.id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number))
    )
    coached = await session.exec(
        select(Group.name)
        .join(GroupCoach, col(GroupCoach.group_id) == col(Group.id))
        .where(GroupCoach.staff_id == staff.id)
    )
    return StaffDuties(
        head_of=list(head.all()),
        teaches=[(name, subject) for name, subject in taught.all()],
        coaches=list(coached.all()),
        roles=staff.role_set(),
    )


async def children_of(
    *, session: AsyncSession, guardian: Guardian
) -> list[tuple[Student, SchoolClass]]:
    query = (
        select(Student, SchoolClass)
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(Student.id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(StudentGuardian.guardian_id == guardian.id, col(Student.active))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.name))
    )
    return [(student, klass) for student, klass in (await session.exec(query)).all()]


async def guardian_by_phone(
    *, session: AsyncSession, school_id: int, phone: str
) -> Guardian | None:
    query = select(Guardian).where(Guardian.school_id == school_id, Guardian.phone == phone)
    return (await session.exec(query)).first()


async def active_staff(*, session: AsyncSession, school_id: int) -> list[Staff]:
    """The school's active staff, by 工号."""
    query = (
        select(Staff)
        .where(Staff.school_id == school_id, col(Staff.active))
        .order_by(col(Staff.staff_no))
    )
    return list((await session.exec(query)).all())


async def school_student_names(*, session: AsyncSession, school_id: int) -> list[str]:
    """The names of the school's active students (each once), in one query."""
    query = (
        select(Student.name)
        .where(col(Student.school_id) == school_id, col(Student.active))
        .distinct()
    )
    return list((await session.exec(query)).all())
