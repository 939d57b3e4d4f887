"""Running one slot of one job: claim it, run the body in one transaction, record the outcome.

Used alike by the scheduler (on time, and for a slot missed while the bot was down) and by
`python -m bot jobs run NAME --now …`. A slot already run is skipped; a body that raises leaves
nothing behind (its transaction rolls back) and marks the slot failed, so it may run again.

A slot that runs takes two transactions and three statements of its own: the claim (committed
first, so that another process sees it), then the school read, the body and the slot's end
together. The school is found by the caller once (`find_school`; the scheduler keeps its id),
and the rows the body queued are read back only for a caller that lists them (`jobs run`).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.engine import Database
from models.errors import JiafangError
from models.outbox.tables import OutboxMessage
from models.roster.queries import current_school
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import Job, JobContext
from scheduler.slots import Claim, claim_slot, fail_slot, finish_slot, process_owner


class SchoolSettings(Protocol):
    """What a run reads from the bot's settings (the scheduler does not import `bot`)."""

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def rules(self) -> SchoolRules: ...

    @property
    def school_name(self) -> str | None: ...


log = logging.getLogger(__name__)

#: Called after a run queued messages: wakes the delivery worker.
Wake = Callable[[], None]


class UnknownJob(JiafangError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        listed = "、".join(known) if known else "（还没有登记任何定时任务）"
        super().__init__(f"没有名为“{name}”的定时任务。可用的任务：{listed}")


class NoSchool(JiafangError):
    def __init__(self) -> None:
        super().__init__("数据库里还没有学校：请先导入花名册（python -m bot roster import …）。")


class ClaimLost(RuntimeError):
    """The slot was taken over while this run was still going (it stalled too long)."""


def find_job(jobs: Sequence[Job], name: str) -> Job:
    for job in jobs:
        if job.name == name:
            return job
    raise UnknownJob(name, [job.name for job in jobs])


@dataclass(frozen=True)
class RunConfig:
    """What every run needs besides the database: the school's zone, rules and name."""

    zone: ZoneInfo
    rules: SchoolRules = DEFAULT_RULES
    #: The school to run for (None: the first one), as the dispatcher finds it.
    school_name: str | None = None
    owner: str = field(default_factory=process_owner)

    @classmethod
    def from_settings(cls, settings: SchoolSettings) -> RunConfig:
        return cls(zone=settings.zone, rules=settings.rules, school_name=settings.school_name)


class RunStatus(StrEnum):
    DONE = "done"
    #: Another run has the slot: it ran already, or is running now.
    SKIPPED = "skipped"
    #: The body raised; nothing was saved and the slot may run again.
    FAILED = "failed"


@dataclass(frozen=True)
class Queued:
    """One outbox row a run added (for `jobs run` to print)."""

    key: str
    kind: str
    channel: str
    due_at: datetime


@dataclass(frozen=True)
class Outcome:
    job: str
    slot: datetime
    status: RunStatus
    #: What the body said it queued (0 unless DONE).
    queued: int = 0
    #: SKIPPED: how the earlier run ended; FAILED: the error's class and first line.
    detail: str = ""
    messages: tuple[Queued, ...] = ()
    #: SKIPPED: when the other run claimed the slot.
    claimed_at: datetime | None = None


def _error_line(exc: BaseException) -> str:
    """The error's class and first line (SQL errors carry parameters on later lines)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:300] if first else type(exc).__name__


async def _last_outbox_id(session: AsyncSession) -> int:
    return (await session.exec(select(func.max(col(OutboxMessage.id))))).one() or 0


async def _added_since(session: AsyncSession, school_id: int, last_id: int) -> tuple[Queued, ...]:
    """What the job queued: the school's rows after `last_id` (another school's job may be
    queueing its own meanwhile)."""
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.school_id) == school_id, col(OutboxMessage.id) > last_id)
        .order_by(col(OutboxMessage.id))
    )
    return tuple(
        Queued(row.key, row.kind, row.channel, row.due_at)
        for row in (await session.exec(query)).all()
    )


@dataclass(frozen=True)
class FoundSchool:
    """The school a run is for, as `find_school` found it."""

    id: int
    #: Whether it is the school `config` names (or the first one, when it names none): then
    #: the same is found on every later look, and its id may be kept. A school found only as
    #: the first one, because the named one is not in the database yet, may not be.
    settled: bool


async def find_school(db: Database, config: RunConfig) -> FoundSchool:
    """The school `config` runs for, as the dispatcher finds it; `NoSchool` when the database
    has none. A slot is claimed for it: another school's bot runs its own."""
    async with db.session() as session:
        school = await current_school(session=session, name=config.school_name)
    if school is None or school.id is None:
        raise NoSchool()
    return FoundSchool(school.id, not config.school_name or school.name == config.school_name)


async def school_of(db: Database, config: RunConfig) -> int:
    """The id of the school `config` runs for (`find_school`)."""
    return (await find_school(db, config)).id


async def _run_claimed(
    db: Database, config: RunConfig, job: Job, claim: Claim, *, now: datetime, listed: bool
) -> tuple[int, tuple[Queued, ...]]:
    async with db.session() as session:
        school = await session.get(School, claim.school_id)
        if school is None:
            raise NoSchool()
        before = await _last_outbox_id(session) if listed else 0
        context = JobContext(
            session=session,
            now=now,
            school=school,
            zone=config.zone,
            rules=config.rules,
            slot=claim.slot,
        )
        queued = await job.func(context)
        messages = await _added_since(session, claim.school_id, before) if listed else ()
        if not await finish_slot(session, claim, now=now, outcome=f"queued {queued}"):
            raise ClaimLost(f"{job.name} {claim.slot.isoformat()}")
    return queued, messages


async def run_job(
    db: Database,
    config: RunConfig,
    job: Job,
    *,
    slot: datetime,
    now: datetime,
    wake: Wake | None = None,
    claim_as: str | None = None,
    school_id: int | None = None,
    list_messages: bool = True,
) -> Outcome:
    """Run `job` for `slot` (as of `now`) unless that slot is taken; see the module doc.
    `claim_as` records the run under another name (a rehearsal), leaving the job's own slot
    free for its real run. The slot is the school's own: `school_id` when the caller found it
    already, else `find_school`'s; with no school in the database the run fails, claiming
    nothing. `list_messages=False` leaves `Outcome.messages` empty, saving the two reads that
    list them (the count is `Outcome.queued`)."""
    if school_id is None:
        try:
            school_id = await school_of(db, config)
        except NoSchool as exc:
            return Outcome(job.name, slot, RunStatus.FAILED, detail=str(exc))
    claim = await claim_slot(db, school_id, claim_as or job.name, slot, now=now, owner=config.owner)
    if not isinstance(claim, Claim):
        log.debug("job %s slot %s already claimed; skipped", job.name, slot.isoformat())
        return Outcome(
            job.name,
            slot,
            RunStatus.SKIPPED,
            detail=claim.outcome if claim.finished_at else "running",
            claimed_at=claim.claimed_at,
        )
    try:
        queued, messages = await _run_claimed(db, config, job, claim, now=now, listed=list_messages)
    except ClaimLost:
        log.warning("job %s slot %s: claim taken over mid-run; rolled back", job.name, slot)
        return Outcome(job.name, slot, RunStatus.SKIPPED, detail="taken over")
    except Exception as exc:
        detail = _error_line(exc)
        # The class and where it failed, never the message: it may quote names from the data.
        log.error(
            "job %s slot %s failed (%s); nothing was queued, the slot may run again\n%s",
            job.name,
            slot.isoformat(),
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
        )
        await fail_slot(db, claim, now=now, outcome=detail)
        return Outcome(job.name, slot, RunStatus.FAILED, detail=detail)
    # Jobs that run every minute mostly find nothing to do: only a run that queued is news.
    log.log(
        logging.INFO if queued else logging.DEBUG,
        "job %s slot %s done: queued %d",
        job.name,
        slot.isoformat(),
        queued,
    )
    if (queued or messages) and wake is not None:
        wake()
    return Outcome(job.name, slot, RunStatus.DONE, queued=queued, messages=messages)
