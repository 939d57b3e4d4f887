"""Claiming a job's slot (`models.jobs.tables.JobRun`), so that a slot runs in one process only.

A claim is a (school, job, slot) row inserted in a transaction of its own and committed before the job
runs; the unique constraint lets one inserter win, on SQLite and PostgreSQL alike. Each school's
bot claims its own slots: the same job at the same time runs once for every school. The row then
says how the run ended:

* finished, not failed — done; never run again;
* finished and failed  — the job's transaction was rolled back (nothing was queued); the slot
  may be claimed again (the next start within the grace period, or `jobs run`);
* not finished         — running now, or its process died mid-run (nothing was committed);
  after `STALE_AFTER` it may be claimed again.

Re-claiming is one guarded UPDATE (`… WHERE <still re-claimable>`), so of two processes only
one wins. The claim's `(owner, claimed_at)` is its token: a run that finds its claim taken over
(it stalled past `STALE_AFTER`) rolls back instead of committing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import insert_ignoring_duplicates
from models.db.engine import Database
from models.jobs.tables import JobRun

#: An unfinished claim older than this belongs to a process that died mid-run.
STALE_AFTER = timedelta(hours=1)


def process_owner() -> str:
    """Who claims: host and process id, for operators reading `job_run`."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass(frozen=True)
class Claim:
    school_id: int
    job: str
    slot: datetime
    owner: str
    claimed_at: datetime


@dataclass(frozen=True)
class Taken:
    """The slot was not claimed: someone ran it, or is running it."""

    claimed_at: datetime
    finished_at: datetime | None
    outcome: str


def _reclaimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        col(JobRun.failed).is_(True),
        and_(col(JobRun.finished_at).is_(None), col(JobRun.claimed_at) < now - STALE_AFTER),
    )


def _this(school_id: int, job: str, slot: datetime) -> tuple[ColumnElement[bool], ...]:
    return col(JobRun.school_id) == school_id, col(JobRun.job) == job, col(JobRun.slot) == slot


async def claim_slot(
    db: Database, school_id: int, job: str, slot: datetime, *, now: datetime, owner: str
) -> Claim | Taken:
    """Claim (school, job, slot) and commit; a `Taken` if it is done, running, or claimed by
    another process of the same school."""
    values = {
        "school_id": school_id,
        "job": job,
        "slot": slot,
        "owner": owner,
        "claimed_at": now,
        "finished_at": None,
        "failed": False,
        "outcome": "",
    }
    async with db.session() as session:
        table = JobRun.__table__  # type: ignore[attr-defined]
        unique = ["school_id", "job", "slot"]
        if await insert_ignoring_duplicates(session, table, values, unique=unique):
            return Claim(school_id, job, slot, owner, now)
        retaken = (
            update(JobRun)
            .where(*_this(school_id, job, slot), _reclaimable(now))
            .values(owner=owner, claimed_at=now, finished_at=None, failed=False, outcome="")
        )
        if (await session.exec(retaken)).rowcount == 1:
            return Claim(school_id, job, slot, owner, now)
        row = (await session.exec(select(JobRun).where(*_this(school_id, job, slot)))).one()
        return Taken(row.claimed_at, row.finished_at, row.outcome)


def _held(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    return (
        *_this(claim.school_id, claim.job, claim.slot),
        col(JobRun.owner) == claim.owner,
        col(JobRun.claimed_at) == claim.claimed_at,
    )


async def finish_slot(session: AsyncSession, claim: Claim, *, now: datetime, outcome: str) -> bool:
    """Record success inside the job's own transaction; False if the claim was taken over."""
    statement = (
        update(JobRun)
        .where(*_held(claim))
        .values(finished_at=now, failed=False, outcome=outcome[:500])
    )
    return (await session.exec(statement)).rowcount == 1


async def fail_slot(db: Database, claim: Claim, *, now: datetime, outcome: str) -> None:
    """Record that the run failed (its transaction rolled back): the slot may run again."""
    statement = (
        update(JobRun)
        .where(*_held(claim))
        .values(finished_at=now, failed=True, outcome=outcome[:500])
    )
    async with db.session() as session:
        await session.exec(statement)


async def last_runs(
    session: AsyncSession, school_id: int | None, jobs: list[str]
) -> dict[str, JobRun]:
    """Each job's most recent slot that was claimed for `school_id` (None: for any school; two
    queries, whatever the history)."""
    if not jobs:
        return {}
    school = [col(JobRun.school_id) == school_id] if school_id is not None else []
    latest = (
        select(col(JobRun.job), func.max(col(JobRun.slot)).label("slot"))
        .where(*school, col(JobRun.job).in_(jobs))
        .group_by(col(JobRun.job))
        .subquery()
    )
    query = (
        select(JobRun)
        .join(latest, and_(col(JobRun.job) == latest.c.job, col(JobRun.slot) == latest.c.slot))
        .where(*school)
        .order_by(col(JobRun.id))
    )
    return {row.job: row for row in (await session.exec(query)).all()}


async def prune_runs(db: Database, *, before: datetime) -> int:
    """Forget finished slots older than `before`, of every school (a job every minute adds half
    a million a year); unfinished and failed ones stay for operators to see."""
    statement = delete(JobRun).where(
        col(JobRun.slot) < before,
        col(JobRun.finished_at).is_not(None),
        col(JobRun.failed).is_(False),
    )
    async with db.session() as session:
        return (await session.exec(statement)).rowcount
