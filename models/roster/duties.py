"""What a staff member does with students, as the roster says: heads a class, teaches one, coaches
a team or group. Roles held beyond teaching (德育处, 校长, 关爱室) are `Staff.role_set()`."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.roster.tables import Staff, Teaching
from models.school.tables import GroupCoach, SchoolClass


class Duty(StrEnum):
    HEAD = "head"  # 班主任
    TEACHES = "teaches"  # 任课教师
    COACHES = "coaches"  # 体育·艺术·科技教师 of a team or group


async def staff_duties(*, session: AsyncSession, staff: Staff) -> frozenset[Duty]:
    """The duties `staff` holds (one query)."""
    heads = exists().where(
        col(SchoolClass.head_teacher_id) == staff.id,
        col(SchoolClass.school_id) == staff.school_id,
    )
    teaches = exists().where(col(Teaching.staff_id) == staff.id)
    coaches = exists().where(col(GroupCoach.staff_id) == staff.id)
    row = (await session.exec(select(heads, teaches, coaches))).one()
    held = zip((Duty.HEAD, Duty.TEACHES, Duty.COACHES), row, strict=True)
    return frozenset(duty for duty, yes in held if yes)
