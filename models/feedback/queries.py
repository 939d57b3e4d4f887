"""Storing and finding parents' feedback; each suggestion, complaint or other note is also an item
in the problem ledger, written in the same transaction (praise needs no follow-up)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.feedback.tables import FEEDBACK_TEXT_LIMIT, Feedback, FeedbackAbout, FeedbackKind
from models.ledger.queries import record_item
from models.ledger.tables import LedgerItem, LedgerSource
from models.roster.tables import Guardian, Student, StudentGuardian
from models.school.tables import SchoolClass

#: 反馈编号's letters: no 0/O, 1/I/L, easy to read aloud and type on a phone.
_CODE_LETTERS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 8


def new_code() -> str:
    """A random reference code (8 of 31 letters: about 2^40, not guessable by trying)."""
    return "".join(secrets.choice(_CODE_LETTERS) for _ in range(_CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as a parent may type it (lower case, spaces, a dash) in its stored form."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass(frozen=True)
class NewFeedback:
    school_id: int
    kind: FeedbackKind
    about: FeedbackAbout
    text: str
    #: The author; ignored (not stored) when `anonymous`.
    guardian_id: int
    anonymous: bool
    about_class_id: int | None = None
    about_staff_id: int | None = None
    photo_channel: str = ""
    photo_ref: str = ""


async def submit_feedback(
    session: AsyncSession, new: NewFeedback, *, now: datetime
) -> tuple[Feedback, LedgerItem | None]:
    """Store the feedback and, unless it is praise, its ledger item (all or nothing).

    Anonymous feedback stores no guardian and no channel account: the ledger item's
    `recorded_by` is None and its text is the parent's text alone.
    """
    text = new.text.strip()
    if not text or len(text) > FEEDBACK_TEXT_LIMIT:
        raise ValueError("feedback text empty or too long")
    feedback = Feedback(
        school_id=new.school_id,
        code=new_code(),
        kind=new.kind,
        about=new.about,
        about_class_id=new.about_class_id if new.about is FeedbackAbout.CLASS else None,
        about_staff_id=new.about_staff_id if new.about is FeedbackAbout.TEACHER else None,
        text=text,
        photo_channel=new.photo_channel if new.photo_ref else "",
        photo_ref=new.photo_ref,
        anonymous=new.anonymous,
        guardian_id=None if new.anonymous else new.guardian_id,
        created_at=now,
    )
    session.add(feedback)
    await session.flush()
    if new.kind is FeedbackKind.PRAISE:
        return feedback, None
    item = await record_item(
        session,
        school_id=new.school_id,
        source=LedgerSource.FEEDBACK,
        source_id=feedback.id,
        student_id=None,
        class_id=feedback.about_class_id,
        description=text,
        recorded_by=None,
        now=now,
    )
    feedback.ledger_item_id = item.id
    session.add(feedback)
    await session.flush()
    return feedback, item


async def feedback_by_code(session: AsyncSession, *, school_id: int, code: str) -> Feedback | None:
    query = select(Feedback).where(
        Feedback.school_id == school_id, Feedback.code == normalise_code(code)
    )
    return (await session.exec(query)).first()


async def feedback_of_guardian(
    session: AsyncSession, *, guardian_id: int, limit: int = 10
) -> list[Feedback]:
    """A guardian's own named feedback, newest first."""
    query = (
        select(Feedback)
        .where(Feedback.guardian_id == guardian_id)
        .order_by(col(Feedback.created_at).desc(), col(Feedback.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def feedback_of_item(session: AsyncSession, item: LedgerItem) -> Feedback | None:
    if item.source is not LedgerSource.FEEDBACK or item.source_id is None:
        return None
    return await session.get(Feedback, item.source_id)


@dataclass(frozen=True)
class Author:
    """What staff may know of a named feedback's author: the name and the children (class and
    name), never the phone or the account."""

    name: str
    children: tuple[str, ...]
    #: The first child (by id): the family a 当面解释 visit goes to.
    first_child_id: int | None


async def author_of(session: AsyncSession, feedback: Feedback) -> Author | None:
    """None for anonymous feedback, always."""
    if feedback.anonymous or feedback.guardian_id is None:
        return None
    guardian = await session.get(Guardian, feedback.guardian_id)
    if guardian is None:
        return None
    query = (
        select(Student.id, Student.name, SchoolClass.name)
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(Student.id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(StudentGuardian.guardian_id == guardian.id, col(Student.active).is_(True))
        .order_by(col(Student.id))
    )
    rows = list((await session.exec(query)).all())
    return Author(
        guardian.name,
        tuple(f"{klass}{name}" for _, name, klass in rows),
        rows[0][0] if rows else None,
    )
