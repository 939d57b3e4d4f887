"""Audit log: who read or changed what (no message contents, no phone numbers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import AwareDateTime, utcnow

#: A student's special-type tags 特殊类型 shown to someone (a card, a list, an export).
TAGS_READ = "tags.read"
#: A student's special-type tags changed (an approved proposal, a roster import).
TAGS_CHANGE = "tags.change"
#: Rows per INSERT when many entries are written at once (far below every driver's limit on
#: bound values: 6 columns × 1,000 rows).
BATCH_ROWS = 1000


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    actor: str = Field(max_length=64)  # "staff:7", "guardian:3", "cli"
    action: str = Field(max_length=32)  # "visit.create", "export.visits", "account.bind"
    subject: str = Field(default="", max_length=64)  # "visit:42", "student:9"
    detail: str = Field(default="", max_length=500)
    #: The student the read or change concerned (a case, their tags, their data), if one.
    student_id: int | None = Field(default=None, index=True)


_INSERT = insert(AuditEntry.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Entry:
    """One entry to write with others in a single statement (`audit_all`)."""

    actor: str
    action: str
    subject: str = ""
    detail: str = ""
    student_id: int | None = None


async def audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    subject: str = "",
    detail: str = "",
    student_id: int | None = None,
) -> None:
    """Record one entry in the caller's transaction (one INSERT, no unit-of-work flush).

    Entries are never updated or deleted by the bot; on PostgreSQL a trigger refuses it (only
    the retention job, past the audit's retention period, may delete — migration 0020)."""
    entry = AuditEntry(
        actor=actor, action=action, subject=subject, detail=detail, student_id=student_id
    )
    await session.exec(_INSERT, params=entry.model_dump(exclude={"id"}))


async def audit_all(session: AsyncSession, entries: Sequence[Entry]) -> None:
    """Record many entries in the caller's transaction: one multi-row INSERT (one more per
    `BATCH_ROWS`), never a statement per entry; nothing at all for no entries."""
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "detail": e.detail[:500],
            "student_id": e.student_id,
        }
        for e in entries
    ]
    for start in range(0, len(rows), BATCH_ROWS):
        await session.exec(_INSERT.values(rows[start : start + BATCH_ROWS]))


def student_entries(
    actor: str, action: str, student_ids: Iterable[int], *, detail: str = ""
) -> list[Entry]:
    """One entry per distinct student (`student:ID`), in id order."""
    return [
        Entry(actor, action, subject=f"student:{sid}", detail=detail, student_id=sid)
        for sid in sorted(set(student_ids))
    ]


async def tags_read(
    session: AsyncSession, *, actor: str, student_ids: Iterable[int], detail: str = ""
) -> None:
    """The tags of these students were shown to `actor` (one statement for all of them)."""
    await audit_all(session, student_entries(actor, TAGS_READ, student_ids, detail=detail))
