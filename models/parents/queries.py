"""A parent's own messages: their children, the notices awaiting their receipt, recording a
message for the head teacher, and the head teacher's decision on a leave and answer."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Table, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.notices.publishing import Child
from models.notices.receipts import GuardianNotice, notices_of_guardian
from models.parents.tables import MESSAGE_LIMIT, LeaveDecision, ParentMessage, ParentMessageKind
from models.roster.tables import Student, StudentGuardian
from models.school.tables import SchoolClass


async def children_with_relation(*, session: AsyncSession, guardian_id: int) -> list[Child]:
    """The guardian's children on the roster (active), each with their class and the relation."""
    query = (
        select(Student, SchoolClass, StudentGuardian)
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(Student.id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(StudentGuardian.guardian_id == guardian_id, col(Student.active))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    return [Child(s, k, link.relation) for s, k, link in (await session.exec(query)).all()]


async def awaiting_receipt(
    *, session: AsyncSession, guardian_id: int, now: datetime
) -> list[GuardianNotice]:
    """The guardian's current notices that ask for a receipt and that no guardian of theirs
    confirmed yet for every child, the most recently published first."""
    current = await notices_of_guardian(session=session, guardian_id=guardian_id)
    return [
        n
        for n in current
        if n.notice.receipt_required
        and (n.notice.published_at is None or n.notice.published_at <= now)
        and any(c.confirmed_at is None for c in n.children)
    ]


async def record_message(
    *,
    session: AsyncSession,
    school_id: int,
    guardian_id: int,
    child: Child,
    kind: ParentMessageKind,
    text: str,
    channel: str,
    now: datetime,
    leave_from: date | None = None,
) -> ParentMessage:
    """The message, addressed to the head teacher of the child's class."""
    message = ParentMessage(
        school_id=school_id,
        guardian_id=guardian_id,
        student_id=child.student.id or 0,
        kind=kind,
        head_teacher_id=child.klass.head_teacher_id,
        text=text[:MESSAGE_LIMIT],
        channel=channel,
        sent_at=now,
        leave_from=leave_from,
    )
    session.add(message)
    await session.flush()
    return message


async def sent_before(
    *, session: AsyncSession, guardian_id: int, student_id: int, text: str, since: datetime
) -> bool:
    """Whether the guardian sent this very text about this child after `since`."""
    query = select(ParentMessage.id).where(
        ParentMessage.guardian_id == guardian_id,
        ParentMessage.student_id == student_id,
        ParentMessage.text == text[:MESSAGE_LIMIT],
        col(ParentMessage.sent_at) > since,
    )
    return (await session.exec(query.limit(1))).first() is not None


async def get_message(
    *, session: AsyncSession, school_id: int, message_id: int
) -> ParentMessage | None:
    message = await session.get(ParentMessage, message_id)
    return message if message is not None and message.school_id == school_id else None


async def decide_leave(
    *,
    session: AsyncSession,
    message_id: int,
    decision: LeaveDecision,
    staff_id: int,
    now: datetime,
    absence_id: int | None = None,
) -> bool:
    """Record 确认为病假 / 不是病假 once; False if the leave was already decided."""
    table: Table = ParentMessage.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        update(table)
        .where(
            table.c["id"] == message_id,
            table.c["kind"] == ParentMessageKind.SICK_LEAVE.value,
            table.c["decided_at"].is_(None),
        )
        .values(decision=decision.value, decided_at=now, decided_by=staff_id, absence_id=absence_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def answer_message(
    *, session: AsyncSession, message_id: int, staff_id: int, text: str, now: datetime
) -> bool:
    """回复家长: record the teacher's answer once; False if it was already answered."""
    table: Table = ParentMessage.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        update(table)
        .where(table.c["id"] == message_id, table.c["answered_at"].is_(None))
        .values(answer=text[:MESSAGE_LIMIT], answered_at=now, answered_by=staff_id)
    )
    return bool(getattr(result, "rowcount", 0))
