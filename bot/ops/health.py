"""The bot's health as `GET /healthz` answers it, in three statements whatever the data:

1. the database's migration (`alembic_version`), which also proves it reachable and times it;
2. the outbox: how many rows are due and unsent, and since when the oldest has waited;
3. each scheduled job's latest slot (`scheduler.slots.last_runs`).

A bot's health is its school's: where several schools' bots share one database (one `bot run`
per school), each one's `/healthz` counts its own school's outbox rows and shows its own
school's job runs (`school`, the dispatcher's); without a school, every school's.

`down` (HTTP 503): the database cannot be reached within `within` seconds, or it is not at the
migration this code expects (then the outbox and the jobs are not read: their tables may not be
what the code expects). `degraded` (HTTP 200): the oldest due message has waited longer than the
threshold (`HEALTH_OUTBOX_LAG_SECONDS`), or a job's latest slot failed. Otherwise `ok`.

Nothing personal is in the answer: counts, times, job names, and for a failed job the error's
class only (its message could quote data).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.school.tables import School as SchoolRow
from scheduler.slots import last_runs

log = logging.getLogger(__name__)

#: Finds the bot's school (its id; None: the database has none yet).
School = Callable[[], Awaitable[int | None]]

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass(frozen=True)
class OutboxLag:
    #: Rows waiting to be sent whose time has come.
    pending: int
    #: How long the oldest of them has waited (0 when none).
    oldest_due_seconds: float


@dataclass(frozen=True)
class Health:
    status: str
    body: dict[str, Any]

    @property
    def http_status(self) -> int:
        return 503 if self.status == DOWN else 200


async def outbox_lag(
    connection: AsyncConnection, now: datetime, school_id: int | None = None
) -> OutboxLag:
    """One statement on the outbox's status index (`school_id`'s rows; None: every school's)."""
    school = [col(OutboxMessage.school_id) == school_id] if school_id is not None else []
    query = sa_select(func.count(), func.min(col(OutboxMessage.due_at))).where(
        col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.due_at) <= now, *school
    )
    pending, oldest = (await connection.execute(query)).one()
    return _lag(int(pending), oldest, now)


def _lag(pending: int, oldest: datetime | None, now: datetime) -> OutboxLag:
    if oldest is not None and oldest.tzinfo is None:  # SQLite's raw column, read by Core
        oldest = oldest.replace(tzinfo=now.tzinfo)
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxLag(pending, round(waited, 1))


async def read_outbox_lags(
    db: Database, now: datetime, school_id: int | None = None
) -> dict[str, OutboxLag]:
    """`outbox_lag` of each school by name (`school_id`'s alone; None: every school's, with
    nothing due as zero), in one statement."""
    due = and_(
        col(OutboxMessage.school_id) == col(SchoolRow.id),
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        col(OutboxMessage.due_at) <= now,
    )
    query = (
        sa_select(
            col(SchoolRow.name), func.count(col(OutboxMessage.id)), func.min(OutboxMessage.due_at)
        )
        .select_from(SchoolRow)
        .outerjoin(OutboxMessage, due)
        .group_by(col(SchoolRow.id), col(SchoolRow.name))
    )
    if school_id is not None:
        query = query.where(col(SchoolRow.id) == school_id)
    async with db.session() as session:
        rows = (await (await session.connection()).execute(query)).all()
    return {name: _lag(int(pending), oldest, now) for name, pending, oldest in rows}


async def check_health(
    db: Database,
    *,
    now: datetime,
    head: str,
    jobs: Sequence[str],
    lag_threshold: float,
    within: float = 5.0,
    school: School | None = None,
) -> Health:
    """The bot's health as of `now` (of the school `school` finds; see the module doc); never
    raises (an unreachable database is `down`)."""
    try:
        async with asyncio.timeout(within):
            return await _check(
                db, now=now, head=head, jobs=jobs, lag_threshold=lag_threshold, school=school
            )
    except Exception as error:  # refused, timed out, authentication: the class says which
        log.warning("health: the database cannot be reached (%s)", type(error).__name__)
        return Health(
            DOWN,
            {
                "status": DOWN,
                "database": {"reachable": False, "error": type(error).__name__},
                "migrations": {"current": None, "head": head, "ok": False},
                "outbox": None,
                "jobs": None,
            },
        )


async def _check(
    db: Database,
    *,
    now: datetime,
    head: str,
    jobs: Sequence[str],
    lag_threshold: float,
    school: School | None,
) -> Health:
    problems: list[str] = []
    current, latency_ms = await _revision(db)
    database = {"reachable": True, "latency_ms": latency_ms}
    migrations = {"current": current, "head": head, "ok": current == head}
    if current != head:
        problems.append(f"migrations at {current or 'none'}, the code expects {head}")
        body = {"database": database, "migrations": migrations, "outbox": None, "jobs": None}
        return Health(DOWN, {"status": DOWN, "problems": problems, **body})
    school_id = await school() if school is not None else None
    async with db.session() as session:
        lag = await outbox_lag(await session.connection(), now, school_id)
        runs = await last_runs(session, school_id, list(jobs))
    if lag.oldest_due_seconds > lag_threshold:
        problems.append(
            f"the oldest due outbox message has waited {lag.oldest_due_seconds:.0f} s "
            f"(over {lag_threshold:g} s)"
        )
    job_states: dict[str, Any] = {}
    for name in jobs:
        run = runs.get(name)
        if run is None:
            job_states[name] = None
            continue
        state: dict[str, Any] = {
            "slot": run.slot.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
        if run.failed:
            state["outcome"] = "failed"
            state["error"] = run.outcome.split(":", 1)[0][:80]
            problems.append(f"job {name}'s latest slot failed")
        else:
            state["outcome"] = run.outcome if run.finished_at else "running"
        job_states[name] = state
    status = DEGRADED if problems else OK
    body = {
        "status": status,
        "problems": problems,
        "database": database,
        "migrations": migrations,
        "outbox": {"pending": lag.pending, "oldest_due_seconds": lag.oldest_due_seconds},
        "jobs": job_states,
    }
    return Health(status, body)


class _NoVersion(Exception):
    """The database answers but has no migration table (never migrated)."""


async def _revision(db: Database) -> tuple[str | None, float]:
    """The database's migration (None when it has none) and the round trip in milliseconds,
    the connection included; a database that cannot be reached raises."""
    started = time.perf_counter()
    try:
        async with db.session() as session:
            connection = await session.connection()  # unreachable: raises from here
            try:
                result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            except DBAPIError as error:
                raise _NoVersion() from error  # rolled back, not committed
            row = result.first()
    except _NoVersion:
        row = None
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return (str(row[0]) if row is not None else None), latency_ms
