"""Retention (PIPL: kept no longer than needed): what is past its keeping time, and the pass that
anonymises or deletes it.

Per kind, from the school's rules (`RULES__RETENTION_*_YEARS`):

| kind | kept | then |
|---|---|---|
| visits | years after the student left (`Student.left_at`) | free text blanked; date, form, category stay |
| incidents | years after the student left | free text blanked; kind and times stay |
| cases | years after the student left | the care case's and its entries' text blanked |
| receipts | years after the student left | notice receipts and delivery rows deleted |
| audit | years after the entry | deleted |

A student still on the roster (`left_at` None) is never past retention. Each pass records one
`RetentionRun` per kind with how many records it changed (0 when there was nothing left to do).
The audit log is append-only on PostgreSQL (migration 0020): its deletion runs in a transaction
that set `jiafang.audit_purge`, which the trigger lets through for DELETE only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import AuditEntry
from models.privacy.anonymise import (
    blank_cases,
    blank_incidents,
    blank_visits,
    delete_receipts,
)
from models.privacy.tables import RetentionRun
from models.roster.tables import Student
from models.school.rules import SchoolRules

ANONYMISED = "anonymised"
DELETED = "deleted"

#: What the PostgreSQL trigger on `audit_log` asks of a transaction that may delete entries.
AUDIT_PURGE_SQL = "SET LOCAL jiafang.audit_purge = 'on'"


class RetentionKind(StrEnum):
    VISITS = "visits"
    INCIDENTS = "incidents"
    CASES = "cases"
    RECEIPTS = "receipts"
    AUDIT = "audit"


@dataclass(frozen=True)
class Retention:
    kind: RetentionKind
    years: int
    #: ANONYMISED or DELETED.
    action: str


def retentions(rules: SchoolRules) -> list[Retention]:
    """Every kind's keeping time, from the school's rules, in the order the pass runs them."""
    return [
        Retention(RetentionKind.VISITS, rules.retention_visits_years, ANONYMISED),
        Retention(RetentionKind.INCIDENTS, rules.retention_incidents_years, ANONYMISED),
        Retention(RetentionKind.CASES, rules.retention_cases_years, ANONYMISED),
        Retention(RetentionKind.RECEIPTS, rules.retention_receipts_years, DELETED),
        Retention(RetentionKind.AUDIT, rules.retention_audit_years, DELETED),
    ]


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` earlier (29 February falls back to the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def past_retention(left_at: datetime | None, cutoff: datetime) -> bool:
    """Whether a student who left at `left_at` is past a retention whose cutoff is `cutoff`."""
    return left_at is not None and left_at < cutoff


async def students_left_before(
    *, session: AsyncSession, school_id: int, cutoff: datetime
) -> list[int]:
    """The school's students who left the roster before `cutoff`."""
    query = select(col(Student.id)).where(
        col(Student.school_id) == school_id,
        col(Student.left_at).is_not(None),
        col(Student.left_at) < cutoff,
    )
    return [sid for sid in (await session.exec(query)).all() if sid is not None]


async def allow_audit_purge(session: AsyncSession) -> None:
    """Let this transaction delete audit entries (PostgreSQL; elsewhere nothing guards them)."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.exec(text(AUDIT_PURGE_SQL))  # type: ignore[call-overload]


async def purge_audit(*, session: AsyncSession, before: datetime) -> int:
    """Delete the audit entries written before `before`; how many."""
    await allow_audit_purge(session)
    result: Any = await session.exec(delete(AuditEntry).where(col(AuditEntry.at) < before))
    return int(result.rowcount or 0)


_BY_STUDENTS: dict[RetentionKind, Callable[[AsyncSession, Collection[int]], Awaitable[int]]] = {
    RetentionKind.VISITS: blank_visits,
    RetentionKind.INCIDENTS: blank_incidents,
    RetentionKind.CASES: blank_cases,
    RetentionKind.RECEIPTS: delete_receipts,
}


async def apply_retention(
    *, session: AsyncSession, school_id: int, now: datetime, rules: SchoolRules
) -> list[RetentionRun]:
    """One retention pass over the school, in the caller's transaction: every kind past its
    keeping time anonymised or deleted, and one `RetentionRun` per kind recorded."""
    runs: list[RetentionRun] = []
    for retention in retentions(rules):
        cutoff = years_before(now, retention.years)
        if retention.kind is RetentionKind.AUDIT:
            count = await purge_audit(session=session, before=cutoff)
        else:
            students = await students_left_before(
                session=session, school_id=school_id, cutoff=cutoff
            )
            count = await _BY_STUDENTS[retention.kind](session, students)
        run = RetentionRun(
            school_id=school_id,
            ran_at=now,
            kind=retention.kind.value,
            cutoff=cutoff,
            action=retention.action,
            count=count,
        )
        session.add(run)
        runs.append(run)
    await session.flush()
    return runs
