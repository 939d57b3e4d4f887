"""Publishing an approved notice: its families, one receipt row per child and one outbox row per
account, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import ChannelAccount, PersonKind
from models.db.columns import utcnow
from models.notices.queries import (
    OUTBOX_KIND,
    NotApproved,
    audience_students,
    move_if_status,
    outbox_key,
)
from models.notices.tables import (
    Notice,
    NoticeDelivery,
    NoticeReceipt,
    NoticeStatus,
)
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.tables import Guardian, Student, StudentGuardian
from models.school.tables import SchoolClass


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
    moved = await move_if_status(
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
                    "school_id": account.school_id,
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
        unique=["school_id", "key"],
    )
    publication.queued = len(outbox)
    return publication
