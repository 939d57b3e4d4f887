"""Notices: submitting, approving, returning, publishing, confirming (`models.notices.tables` tables).

Every function runs inside the caller's transaction (one per update or job). Status changes are
guarded UPDATEs (`… WHERE id = ? AND status = ?`), so two admins pressing 批准 at once, or the
publishing job running in two processes, change a notice once. Nothing reaches parents unless
the notice was approved: `publish_notice` only moves an `approved` notice with an approver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.accounts.tables import ChannelAccount, PersonKind
from models.db.columns import utcnow
from models.notices.tables import (
    AttachmentKind,
    AudienceKind,
    Notice,
    NoticeAttachment,
    NoticeCounter,
    NoticeDelivery,
    NoticeKind,
    NoticeQuestion,
    NoticeReceipt,
    NoticeStatus,
)
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.tables import Guardian, Student, StudentGuardian
from models.school.tables import SchoolClass

#: Longest title and body. The body fits one Telegram message (4,096) with the header and the
#: children's names, so the message carrying 确认收到 is one message that can be edited to show
#: the confirmation; longer texts go out as an attached document.
TITLE_LIMIT = 60
BODY_LIMIT = 3000
#: Bots cannot fetch files above 20 MB from Telegram; the school gets a clear refusal instead.
FILE_SIZE_LIMIT = 20 * 1024 * 1024
MAX_ATTACHMENTS = 5
#: Outbox `kind` of the notice messages to guardians.
OUTBOX_KIND = "notice"


def outbox_key(notice_id: int, guardian_id: int, channel: str) -> str:
    return f"notice:{notice_id}:guardian:{guardian_id}:{channel}"


class NoticeError(Exception):
    """A notice cannot be changed that way."""


class NotApproved(NoticeError):
    """Publishing a notice nobody approved: never happens silently."""


# -- what the compose flow submits --------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentSpec:
    kind: AttachmentKind
    channel: str
    file_ref: str
    filename: str = ""
    size: int | None = None


@dataclass(frozen=True)
class NoticeSpec:
    kind: NoticeKind
    title: str
    body: str
    audience_kind: AudienceKind
    audience_ids: tuple[int, ...]
    receipt_required: bool
    receipt_deadline: datetime | None
    #: None: as soon as approved.
    publish_at: datetime | None
    display_until: date
    attachments: tuple[AttachmentSpec, ...] = ()


# -- audiences ----------------------------------------------------------------------------------


def audience_query(
    *, school_id: int, kind: AudienceKind, ids: Sequence[int]
) -> SelectOfScalar[Student]:
    """A SELECT of the active students an audience names (re-resolved at publication)."""
    query = select(Student).where(col(Student.school_id) == school_id, col(Student.active))
    wanted = list(ids)
    if kind is AudienceKind.SCHOOL:
        return query
    if kind is AudienceKind.GRADES:
        classes = select(col(SchoolClass.id)).where(
            col(SchoolClass.school_id) == school_id, col(SchoolClass.grade).in_(wanted)
        )
        return query.where(col(Student.class_id).in_(classes))
    if kind is AudienceKind.CLASSES:
        return query.where(col(Student.class_id).in_(wanted))
    return query.where(col(Student.id).in_(wanted))


async def audience_students(
    *, session: AsyncSession, school_id: int, kind: AudienceKind, ids: Sequence[int]
) -> list[tuple[Student, SchoolClass]]:
    """The audience's students with their classes, in class order (one query)."""
    students = audience_query(school_id=school_id, kind=kind, ids=ids).subquery()
    query = (
        select(Student, SchoolClass)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(col(Student.id).in_(select(students.c.id)))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    return [(s, k) for s, k in (await session.exec(query)).all()]


async def audience_size(
    *, session: AsyncSession, school_id: int, kind: AudienceKind, ids: Sequence[int]
) -> int:
    return len(await audience_students(session=session, school_id=school_id, kind=kind, ids=ids))


# -- submitting, approving, returning -------------------------------------------------------------


async def allocate_serial(*, session: AsyncSession, school_id: int, year: int) -> int:
    """The next 文号 serial for the school and year: one atomic upsert on the counter row, so
    two approvals at once get two numbers (PostgreSQL locks the row; SQLite has one writer)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table: Table = NoticeCounter.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(school_id=school_id, year=year, last=1)
        .on_conflict_do_update(
            index_elements=["school_id", "year"], set_={"last": table.c["last"] + 1}
        )
        .returning(table.c["last"])
    )
    result = await session.exec(statement)
    return int(result.scalar_one())


async def submit_notice(
    *,
    session: AsyncSession,
    school_id: int,
    author_id: int,
    spec: NoticeSpec,
    now: datetime,
    zone: ZoneInfo,
    self_approved: bool,
) -> Notice:
    """Write the notice (and its attachments) as pending, or approved by its author (an admin)."""
    notice = Notice(
        school_id=school_id,
        kind=spec.kind,
        title=spec.title,
        body=spec.body,
        author_id=author_id,
        audience_kind=spec.audience_kind,
        audience_ids=list(spec.audience_ids),
        receipt_required=spec.receipt_required,
        receipt_deadline=spec.receipt_deadline if spec.receipt_required else None,
        publish_at=spec.publish_at,
        display_until=spec.display_until,
        status=NoticeStatus.PENDING,
        created_at=now,
        submitted_at=now,
    )
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    for position, attachment in enumerate(spec.attachments, start=1):
        session.add(
            NoticeAttachment(
                notice_id=notice.id,
                position=position,
                kind=attachment.kind,
                channel=attachment.channel,
                file_ref=attachment.file_ref,
                filename=attachment.filename[:100],
                size=attachment.size,
            )
        )
    if self_approved:
        await _approve(session, notice, author_id, now, zone)
    await session.flush()
    return notice


async def _approve(
    session: AsyncSession, notice: Notice, approver_id: int, now: datetime, zone: ZoneInfo
) -> None:
    year = now.astimezone(zone).year
    notice.year = year
    notice.serial = await allocate_serial(session=session, school_id=notice.school_id, year=year)
    notice.status = NoticeStatus.APPROVED
    notice.approved_at = now
    notice.approved_by = approver_id
    session.add(notice)


async def _move(
    session: AsyncSession, notice_id: int, expected: NoticeStatus, values: dict[str, Any]
) -> bool:
    """Change a notice only if it is still in `expected` status; True if this call did it."""
    table: Table = Notice.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c["id"] == notice_id, table.c["status"] == expected.value)
        .values(**values)
    )
    result = await session.exec(statement)
    return bool(getattr(result, "rowcount", 0))


async def approve_notice(
    *, session: AsyncSession, notice_id: int, approver_id: int, now: datetime, zone: ZoneInfo
) -> Notice | None:
    """批准: a pending notice becomes approved and gets its 文号; None if it was not pending
    (another admin was quicker, or it was returned)."""
    year = now.astimezone(zone).year
    moved = await _move(
        session,
        notice_id,
        NoticeStatus.PENDING,
        {
            "status": NoticeStatus.APPROVED.value,
            "approved_at": now,
            "approved_by": approver_id,
            "year": year,
        },
    )
    if not moved:
        return None
    notice = await _reread(session, notice_id)
    assert notice is not None
    notice.serial = await allocate_serial(session=session, school_id=notice.school_id, year=year)
    session.add(notice)
    await session.flush()
    return notice


async def return_notice(
    *, session: AsyncSession, notice_id: int, by: int, reason: str, now: datetime
) -> Notice | None:
    """退回 with a reason: only a pending notice; None if it was no longer pending."""
    moved = await _move(
        session,
        notice_id,
        NoticeStatus.PENDING,
        {
            "status": NoticeStatus.RETURNED.value,
            "returned_at": now,
            "returned_by": by,
            "return_reason": reason[:200],
        },
    )
    return await _reread(session, notice_id) if moved else None


async def _reread(session: AsyncSession, notice_id: int) -> Notice | None:
    notice = await session.get(Notice, notice_id)
    if notice is not None:
        await session.refresh(notice)
    return notice


async def get_notice(*, session: AsyncSession, school_id: int, notice_id: int) -> Notice | None:
    """The notice if it belongs to the school (ids in callback data can be forged)."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.school_id != school_id:
        return None
    return notice


async def attachments_of(*, session: AsyncSession, notice_id: int) -> list[NoticeAttachment]:
    query = (
        select(NoticeAttachment)
        .where(NoticeAttachment.notice_id == notice_id)
        .order_by(col(NoticeAttachment.position))
    )
    return list((await session.exec(query)).all())


# -- publishing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    """A student of the audience, as one guardian's message names them."""

    student: Student
    klass: SchoolClass
    #: The guardian's relation to the child as in the roster (母亲, 爷爷 …).
    relation: str


@dataclass
class Family:
    """One guardian and their children in the audience (one message names them all)."""

    guardian: Guardian
    children: list[Child] = field(default_factory=list)
    accounts: list[ChannelAccount] = field(default_factory=list)


#: Builds the outbox payload (a serialised Reply) for one guardian's account.
Render = Callable[[Notice, Family, ChannelAccount], dict[str, Any]]


@dataclass
class Publication:
    notice: Notice
    students: int = 0
    #: Guardians with at least one bound account, and those with none.
    reachable: int = 0
    unreachable: int = 0
    #: Outbox rows written.
    queued: int = 0


async def due_for_publication(
    *, session: AsyncSession, school_id: int, now: datetime
) -> list[Notice]:
    """Approved notices whose publish time has come (or that go out at approval)."""
    query = (
        select(Notice)
        .where(
            Notice.school_id == school_id,
            Notice.status == NoticeStatus.APPROVED,
            col(Notice.approved_by).is_not(None),
            or_(col(Notice.publish_at).is_(None), col(Notice.publish_at) <= now),
        )
        .order_by(col(Notice.id))
    )
    return list((await session.exec(query)).all())


async def families_of(
    *, session: AsyncSession, pupils: Sequence[tuple[Student, SchoolClass]]
) -> list[Family]:
    """Guardians of these students, each with their children among them and bound accounts
    (two queries), in the order of the first child named."""
    by_id = {s.id: (s, k) for s, k in pupils}
    if not by_id:
        return []
    links = await session.exec(
        select(StudentGuardian, Guardian)
        .join(Guardian, col(Guardian.id) == col(StudentGuardian.guardian_id))
        .where(col(StudentGuardian.student_id).in_(list(by_id)))
        .order_by(col(StudentGuardian.position), col(Guardian.id))
    )
    families: dict[int, Family] = {}
    for link, guardian in links.all():
        assert guardian.id is not None
        family = families.setdefault(guardian.id, Family(guardian))
        student, klass = by_id[link.student_id]
        family.children.append(Child(student, klass, link.relation))
    order = {sid: index for index, sid in enumerate(by_id)}
    for family in families.values():
        family.children.sort(key=lambda c: order[c.student.id])
    accounts = await session.exec(
        select(ChannelAccount)
        .where(
            ChannelAccount.person_kind == PersonKind.GUARDIAN,
            col(ChannelAccount.person_id).in_(list(families)),
        )
        .order_by(col(ChannelAccount.id))
    )
    for account in accounts.all():
        family = families[account.person_id]
        if all(a.channel != account.channel for a in family.accounts):
            family.accounts.append(account)
    return sorted(families.values(), key=lambda f: order[f.children[0].student.id])


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def _insert_many(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], *, unique: list[str]
) -> None:
    """Many rows in one executemany, skipping any whose unique key exists."""
    if not rows:
        return
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=unique)
    connection = await session.connection()
    await connection.execute(statement, rows)


async def publish_notice(
    *, session: AsyncSession, notice_id: int, now: datetime, due_at: datetime, render: Render
) -> Publication | None:
    """Publish an approved notice, all in the caller's transaction: receipts per student,
    deliveries per (guardian, channel), one outbox row per (notice, guardian, channel).

    None when the notice was already published (the guarded move failed); `NotApproved` when it
    was never approved — nothing is written then.
    """
    notice = await session.get(Notice, notice_id)
    if notice is None:
        return None
    if notice.status is not NoticeStatus.APPROVED or notice.approved_by is None:
        if notice.status in (NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED):
            return None
        raise NotApproved(f"notice {notice_id} is {notice.status.value}, not approved")
    moved = await _move(
        session,
        notice_id,
        NoticeStatus.APPROVED,
        {"status": NoticeStatus.PUBLISHED.value, "published_at": now},
    )
    if not moved:
        return None
    await session.refresh(notice)
    pupils = await audience_students(
        session=session,
        school_id=notice.school_id,
        kind=notice.audience_kind,
        ids=notice.audience_ids,
    )
    families = await families_of(session=session, pupils=pupils)
    publication = Publication(notice=notice, students=len(pupils))
    await _insert_many(
        session,
        NoticeReceipt.__table__,  # type: ignore[attr-defined]
        [
            {
                "notice_id": notice_id,
                "student_id": s.id,
                "class_id": k.id,
                "confirmed_at": None,
                "confirmed_by": None,
                "channel": "",
            }
            for s, k in pupils
        ],
        unique=["notice_id", "student_id"],
    )
    deliveries: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    created = utcnow()
    for family in families:
        assert family.guardian.id is not None
        student_ids = [c.student.id for c in family.children]
        if not family.accounts:
            publication.unreachable += 1
            deliveries.append(
                {
                    "notice_id": notice_id,
                    "guardian_id": family.guardian.id,
                    "channel": "",
                    "chat_id": "",
                    "outbox_key": "",
                    "student_ids": student_ids,
                    "created_at": now,
                }
            )
            continue
        publication.reachable += 1
        for account in family.accounts:
            key = outbox_key(notice_id, family.guardian.id, account.channel)
            deliveries.append(
                {
                    "notice_id": notice_id,
                    "guardian_id": family.guardian.id,
                    "channel": account.channel,
                    "chat_id": account.chat_id,
                    "outbox_key": key,
                    "student_ids": student_ids,
                    "created_at": now,
                }
            )
            outbox.append(
                {
                    "key": key,
                    "kind": OUTBOX_KIND,
                    "channel": account.channel,
                    "chat_id": account.chat_id,
                    "payload": render(notice, family, account),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "due_at": due_at,
                    "created_at": created,
                    "error": "",
                }
            )
    await _insert_many(
        session,
        NoticeDelivery.__table__,  # type: ignore[attr-defined]
        deliveries,
        unique=["notice_id", "guardian_id", "channel"],
    )
    await _insert_many(
        session,
        OutboxMessage.__table__,  # type: ignore[attr-defined]
        outbox,
        unique=["key"],
    )
    publication.queued = len(outbox)
    return publication


# -- receipts and questions (guardians) ------------------------------------------------------------


@dataclass(frozen=True)
class ChildReceipt:
    """One of a guardian's children in a published notice, and whether the family confirmed."""

    child: Child
    confirmed_at: datetime | None
    confirmed_by: int | None


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
        ChildReceipt(Child(s, k, link.relation), r.confirmed_at, r.confirmed_by)
        for r, s, k, link in (await session.exec(query)).all()
    ]


@dataclass(frozen=True)
class Confirmation:
    notice: Notice
    children: list[ChildReceipt]
    #: Receipts this press recorded (0: pressed again, or the other guardian was first).
    recorded: int

    @property
    def confirmed_at(self) -> datetime | None:
        """When the last of these children was confirmed (None if one is still open)."""
        times = [c.confirmed_at for c in self.children]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)


async def confirm_receipt(
    *, session: AsyncSession, notice_id: int, guardian_id: int, channel: str, now: datetime
) -> Confirmation | None:
    """确认收到: record the receipt of each of the guardian's children in the notice that is
    not confirmed yet (by either guardian). None when the guardian has no child in it (a forged
    press) or the notice was never published."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED):
        return None
    children = await receipts_of_guardian(
        session=session, notice_id=notice_id, guardian_id=guardian_id
    )
    if not children:
        return None
    open_ids = [c.child.student.id for c in children if c.confirmed_at is None]
    recorded = 0
    if open_ids:
        table: Table = NoticeReceipt.__table__  # type: ignore[attr-defined]
        result = await session.exec(
            update(table)
            .where(
                table.c["notice_id"] == notice_id,
                table.c["student_id"].in_(open_ids),
                table.c["confirmed_at"].is_(None),
            )
            .values(confirmed_at=now, confirmed_by=guardian_id, channel=channel)
        )
        recorded = int(getattr(result, "rowcount", 0) or 0)
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
                Child(student, klass, link.relation), receipt.confirmed_at, receipt.confirmed_by
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
