"""Audit log: who read or changed what (no message contents, no phone numbers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import AwareDateTime, utcnow


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
