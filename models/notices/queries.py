"""Notices: the compose flow's spec, audiences, submitting, approving, returning, reading.

Publishing is in `models.notices.publishing`; what guardians do with a notice (confirm, ask) in
`models.notices.receipts`.

Every function runs inside the caller's transaction (one per update or job). Status changes are
guarded UPDATEs (`… WHERE id = ? AND status = ?`), so two admins pressing 批准 at once, or the
publishing job running in two processes, change a notice once. Nothing reaches parents unless
the notice was approved: `publish_notice` only moves an `approved` notice with an approver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.notices.tables import (
    AttachmentKind,
    AudienceKind,
    Notice,
    NoticeAttachment,
    NoticeCounter,
    NoticeKind,
    NoticeStatus,
)
from models.roster.tables import Student
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


async def move_if_status(
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
    moved = await move_if_status(
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
    moved = await move_if_status(
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
