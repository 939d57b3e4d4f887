"""A published notice as guardians meet it: their children's receipts 回执, confirming, their
notices, and their questions with the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.notices.publishing import Child
from models.notices.tables import (
    Notice,
    NoticeKind,
    NoticeQuestion,
    NoticeReceipt,
    NoticeStatus,
    ReceiptAnswer,
)
from models.roster.tables import Student, StudentGuardian
from models.school.tables import SchoolClass


@dataclass(frozen=True)
class ChildReceipt:
    """One of a guardian's children in a published notice, and whether the family confirmed."""

    child: Child
    confirmed_at: datetime | None
    confirmed_by: int | None
    #: A meeting's notice: the family's answer (`ReceiptAnswer` value), "" otherwise.
    answer: str = ""


async def receipts_of_guardian(
    *, session: AsyncSession, notice_id: int, guardian_id: int
) -> list[ChildReceipt]:
    """The guardian's children in the notice's audience (empty: not their notice)."""
    query = (
        select(NoticeReceipt, Student, SchoolClass, StudentGuardian)
        .join(Student, col(Student.id) == col(NoticeReceipt.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(NoticeReceipt.student_id))
        .where(NoticeReceipt.notice_id == notice_id, StudentGuardian.guardian_id == guardian_id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    return [
        ChildReceipt(Child(s, k, link.relation), r.confirmed_at, r.confirmed_by, r.answer)
        for r, s, k, link in (await session.exec(query)).all()
    ]


@dataclass(frozen=True)
class Confirmation:
    notice: Notice
    children: list[ChildReceipt]
    #: Receipts this press recorded or changed (0: pressed again, or the other guardian was
    #: first with the same answer).
    recorded: int

    @property
    def confirmed_at(self) -> datetime | None:
        """When the last of these children was confirmed (None if one is still open)."""
        times = [c.confirmed_at for c in self.children]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)


async def confirm_receipt(
    *,
    session: AsyncSession,
    notice_id: int,
    guardian_id: int,
    channel: str,
    now: datetime,
    answer: ReceiptAnswer | None = None,
) -> Confirmation | None:
    """确认收到: record the receipt of each of the guardian's children in the notice that is
    not confirmed yet (by either guardian). None when the guardian has no child in it (a forged
    press) or the notice was never published.

    A meeting's notice is answered instead (`answer`: 确认参加 or 不能参加; required for a
    meeting's notice, refused for any other): an open receipt is recorded with the answer, and
    an answered one takes the new answer if it differs (the family changed its mind; its
    `confirmed_at` stays the first). The same answer again changes nothing."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED):
        return None
    if (answer is not None) != (notice.kind is NoticeKind.MEETING):
        return None
    children = await receipts_of_guardian(
        session=session, notice_id=notice_id, guardian_id=guardian_id
    )
    if not children:
        return None
    value = answer.value if answer is not None else ""
    open_ids = [c.child.student.id for c in children if c.confirmed_at is None]
    changed_ids = [
        c.child.student.id
        for c in children
        if c.confirmed_at is not None and answer is not None and c.answer != value
    ]
    recorded = 0
    table: Table = NoticeReceipt.__table__  # type: ignore[attr-defined]
    if open_ids:
        result = await session.exec(
            update(table)
            .where(
                table.c["notice_id"] == notice_id,
                table.c["student_id"].in_(open_ids),
                table.c["confirmed_at"].is_(None),
            )
            .values(confirmed_at=now, confirmed_by=guardian_id, channel=channel, answer=value)
        )
        recorded = int(getattr(result, "rowcount", 0) or 0)
    if changed_ids:
        result = await session.exec(
            update(table)
            .where(
                table.c["notice_id"] == notice_id,
                table.c["student_id"].in_(changed_ids),
                table.c["answer"] != value,
            )
            .values(answer=value)
        )
        recorded += int(getattr(result, "rowcount", 0) or 0)
    if recorded:
        children = await receipts_of_guardian(
            session=session, notice_id=notice_id, guardian_id=guardian_id
        )
    return Confirmation(notice, children, recorded)


@dataclass(frozen=True)
class GuardianNotice:
    notice: Notice
    children: list[ChildReceipt]


async def notices_of_guardian(
    *, session: AsyncSession, guardian_id: int, limit: int = 20
) -> list[GuardianNotice]:
    """The guardian's current (published, not archived) notices, newest first, each with their
    children in it and what was confirmed (one query)."""
    current = select(col(Notice.id)).where(Notice.status == NoticeStatus.PUBLISHED)
    query = (
        select(NoticeReceipt, Student, SchoolClass, StudentGuardian)
        .join(Student, col(Student.id) == col(NoticeReceipt.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(NoticeReceipt.student_id))
        .where(
            StudentGuardian.guardian_id == guardian_id,
            col(NoticeReceipt.notice_id).in_(current),
        )
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    children: dict[int, list[ChildReceipt]] = {}
    for receipt, student, klass, link in (await session.exec(query)).all():
        children.setdefault(receipt.notice_id, []).append(
            ChildReceipt(
                Child(student, klass, link.relation),
                receipt.confirmed_at,
                receipt.confirmed_by,
                receipt.answer,
            )
        )
    if not children:
        return []
    notices = await session.exec(
        select(Notice)
        .where(col(Notice.id).in_(list(children)))
        .order_by(col(Notice.published_at).desc(), col(Notice.id).desc())
        .limit(limit)
    )
    return [GuardianNotice(n, children[n.id or 0]) for n in notices.all()]


async def record_question(
    *,
    session: AsyncSession,
    notice_id: int,
    guardian_id: int,
    child: Child,
    text: str,
    channel: str,
    now: datetime,
) -> NoticeQuestion:
    """有疑问: the question, addressed to the head teacher of the child's class."""
    question = NoticeQuestion(
        notice_id=notice_id,
        guardian_id=guardian_id,
        student_id=child.student.id or 0,
        head_teacher_id=child.klass.head_teacher_id,
        text=text[:500],
        channel=channel,
        asked_at=now,
    )
    session.add(question)
    await session.flush()
    return question


async def answer_question(
    *, session: AsyncSession, question_id: int, staff_id: int, text: str, now: datetime
) -> NoticeQuestion | None:
    """回复家长: record the teacher's answer once; None if it was already answered."""
    table: Table = NoticeQuestion.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        update(table)
        .where(table.c["id"] == question_id, table.c["answered_at"].is_(None))
        .values(answer=text[:500], answered_at=now, answered_by=staff_id)
    )
    if not getattr(result, "rowcount", 0):
        return None
    question = await session.get(NoticeQuestion, question_id)
    if question is not None:
        await session.refresh(question)
    return question
