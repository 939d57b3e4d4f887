"""What a person already sent to others, read from the rows those messages left (so the flood
limits hold across restarts and several workers): a guardian's questions 有疑问 and own
messages, a head teacher's notices submitted for approval."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import PersonKind
from models.limits.rules import Asked
from models.notices.tables import Notice, NoticeQuestion
from models.parents.tables import ParentMessage


async def questions_asked(
    session: AsyncSession, *, notice_id: int, guardian_id: int
) -> list[Asked]:
    """The guardian's questions about the notice, oldest first."""
    query = (
        select(NoticeQuestion.student_id, NoticeQuestion.text)
        .where(NoticeQuestion.notice_id == notice_id, NoticeQuestion.guardian_id == guardian_id)
        .order_by(col(NoticeQuestion.id))
    )
    return [Asked(student_id, text) for student_id, text in (await session.exec(query)).all()]


async def sent_to_staff_since(
    session: AsyncSession, *, sender: tuple[PersonKind, int], since: datetime
) -> list[datetime]:
    """When the sender reached staff after `since`: a guardian's questions and own messages
    (leaves, messages to the head teacher); a staff member's notices that went to 德育处 for
    approval (an admin's own, approved by themselves, reach nobody on the staff)."""
    kind, person_id = sender
    if kind is PersonKind.GUARDIAN:
        asked = select(NoticeQuestion.asked_at).where(
            NoticeQuestion.guardian_id == person_id, col(NoticeQuestion.asked_at) > since
        )
        wrote = select(ParentMessage.sent_at).where(
            ParentMessage.guardian_id == person_id, col(ParentMessage.sent_at) > since
        )
        return [*(await session.exec(asked)).all(), *(await session.exec(wrote)).all()]
    submitted = select(Notice.submitted_at).where(
        Notice.author_id == person_id,
        col(Notice.submitted_at) > since,
        or_(col(Notice.approved_by).is_(None), col(Notice.approved_by) != person_id),
    )
    return [moment for moment in (await session.exec(submitted)).all() if moment is not None]
