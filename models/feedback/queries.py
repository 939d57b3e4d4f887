"""Storing and finding parents' feedback; each suggestion, complaint or other note is also an item
in the problem ledger, written in the same transaction (praise needs no follow-up)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import AuditEntry
from models.feedback.tables import FEEDBACK_TEXT_LIMIT, Feedback, FeedbackAbout, FeedbackKind
from models.ledger.queries import record_item
from models.ledger.tables import LedgerEvent, LedgerEventKind, LedgerItem, LedgerSource
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
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


# -- what a parent may give feedback about --------------------------------------------------------


@dataclass(frozen=True)
class ClassChoice:
    class_id: int
    name: str


@dataclass(frozen=True)
class TeacherChoice:
    staff_id: int
    name: str
    #: The children's classes they head.
    head_of: tuple[str, ...] = ()
    #: The children's classes they teach, with the subject ("" when the roster has none).
    teaches: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Targets:
    """The classes of a guardian's children, and their teachers (head and subject teachers)."""

    classes: tuple[ClassChoice, ...]
    teachers: tuple[TeacherChoice, ...]

    def class_named(self, class_id: int | None) -> ClassChoice | None:
        return next((c for c in self.classes if c.class_id == class_id), None)

    def teacher_named(self, staff_id: int | None) -> TeacherChoice | None:
        return next((t for t in self.teachers if t.staff_id == staff_id), None)


async def targets_of_guardian(session: AsyncSession, *, guardian_id: int) -> Targets:
    """What the guardian may write about: their active children's classes (by grade and number)
    and those classes' active head teachers, then subject teachers. Three statements."""
    classes_query = (
        select(SchoolClass)
        .join(Student, col(Student.class_id) == col(SchoolClass.id))
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(Student.id))
        .where(StudentGuardian.guardian_id == guardian_id, col(Student.active).is_(True))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number))
    )
    classes = list({k.id: k for k in (await session.exec(classes_query)).all()}.values())
    head_of: dict[int, list[str]] = {}
    teaches: dict[int, list[tuple[str, str]]] = {}
    for klass in classes:
        if klass.head_teacher_id is not None:
            head_of.setdefault(klass.head_teacher_id, []).append(klass.name)
    teaching_query = (
        select(Teaching.staff_id, Teaching.subject, SchoolClass.name)
        .join(SchoolClass, col(SchoolClass.id) == col(Teaching.class_id))
        .where(col(Teaching.class_id).in_([k.id for k in classes]))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Teaching.staff_id))
    )
    for staff_id, subject, class_name in (await session.exec(teaching_query)).all():
        teaches.setdefault(staff_id, []).append((class_name, subject))
    order = list(dict.fromkeys([*head_of, *teaches]))
    staff_query = select(Staff).where(col(Staff.id).in_(order), col(Staff.active))
    staff = {s.id: s for s in (await session.exec(staff_query)).all()}
    teachers = tuple(
        TeacherChoice(
            staff_id,
            staff[staff_id].name,
            tuple(head_of.get(staff_id, ())),
            tuple(teaches.get(staff_id, ())),
        )
        for staff_id in order
        if staff_id in staff
    )
    return Targets(tuple(ClassChoice(k.id or 0, k.name) for k in classes), teachers)


# -- what the flood limits read ---------------------------------------------------------------


async def named_feedback_since(
    session: AsyncSession, *, guardian_id: int, since: datetime
) -> list[datetime]:
    """When the guardian's named feedback was written after `since`."""
    query = select(Feedback.created_at).where(
        Feedback.guardian_id == guardian_id, col(Feedback.created_at) > since
    )
    return list((await session.exec(query)).all())


async def anonymous_feedback_since(
    session: AsyncSession, *, school_id: int, since: datetime
) -> list[datetime]:
    """When the school's anonymous feedback (anybody's: it has no author) came after `since`."""
    query = select(Feedback.created_at).where(
        Feedback.school_id == school_id,
        col(Feedback.anonymous).is_(True),
        col(Feedback.created_at) > since,
    )
    return list((await session.exec(query)).all())


#: The audit log's action for a 反馈编号 looked up and not found.
UNKNOWN_CODE = "feedback.unknown_code"


async def record_unknown_code(session: AsyncSession, *, guardian_id: int, now: datetime) -> None:
    """A code the guardian tried that matched nothing (the code itself is not kept)."""
    session.add(AuditEntry(at=now, actor=f"guardian:{guardian_id}", action=UNKNOWN_CODE))
    await session.flush()


async def unknown_codes_since(session: AsyncSession, *, guardian_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        AuditEntry.actor == f"guardian:{guardian_id}",
        AuditEntry.action == UNKNOWN_CODE,
        col(AuditEntry.at) >= since,
    )
    return int((await session.exec(query)).one())


# -- what became of it --------------------------------------------------------------------------


async def item_of(session: AsyncSession, feedback: Feedback) -> LedgerItem | None:
    if feedback.ledger_item_id is None:
        return None
    return await session.get(LedgerItem, feedback.ledger_item_id)


async def last_event(
    session: AsyncSession, *, item_id: int, kind: LedgerEventKind
) -> LedgerEvent | None:
    """The item's latest event of `kind` (the closing note of a closed item)."""
    query = (
        select(LedgerEvent)
        .where(LedgerEvent.item_id == item_id, LedgerEvent.kind == kind)
        .order_by(col(LedgerEvent.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def events_so_far(session: AsyncSession, *, item_id: int, kind: LedgerEventKind) -> int:
    """How many events of `kind` the item has had."""
    query = select(func.count()).where(LedgerEvent.item_id == item_id, LedgerEvent.kind == kind)
    return int((await session.exec(query)).one())
