"""The APScheduler 3 set-up that runs every registered job on time, in the school's zone.

`JobScheduler.start()`:

1. catches up: for every job, the latest slot at or before now, if it is within the grace period
   (`SchoolRules.missed_job_grace_hours`) and has not run (or failed), runs once — one run
   however many slots were missed, and whether or not APScheduler notices the misfire itself;
2. starts an `AsyncIOScheduler` in the school's zone with a persistent job store (APScheduler's
   `SQLAlchemyJobStore` on our own database, table `apscheduler_jobs` created by our migration),
   one job per registered job: explicit id = the job's name, `CronTrigger` from its schedule,
   `coalesce`, `max_instances=1`, `misfire_grace_time` = the grace period. A stored job whose
   trigger is unchanged is kept as stored (so APScheduler too sees a slot it missed); a changed
   one is replaced; one no longer registered is removed.

What APScheduler stores and calls is the module-level `fire_job(name, school=prefix)`,
referenced by name (pickle-safe); `school` picks the school's running scheduler when one
process runs every school's bot (`python -m bot run --all-schools`). It finds the slot (the latest at or before now) and runs it through
`scheduler.run.run_job`, whose (job, slot) claim makes sure a slot runs once, even when the
catch-up and APScheduler's own misfire handling both fire it, or two bots share the database.

Two bots of one school on one database share that school's `apscheduler_jobs` rows (APScheduler
does not coordinate schedulers on one store): whichever wakes first fires a slot and moves its
next run on, the other may fire it too or not at all; either way the claim lets it run exactly
once. The store is a convenience that remembers the schedule; the `job_run` claims are what
make it correct.

Bots of different schools (one `bot run` per school) keep apart: each stores its jobs under its
school's name (`daily_digest` as `一小/daily_digest`) and reads, fires and reconciles only
those (`GuardedJobStore(prefix=…)`), so one school's scheduler never moves another's next run on
nor removes its jobs; and each claims its own school's slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import utc_timestamp_to_datetime
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url

from models.db.columns import utcnow
from models.db.engine import Database
from models.db.turns import Turns
from models.db.urls import sync_url
from scheduler.base import Job
from scheduler.run import NoSchool, Outcome, RunConfig, Wake, find_job, find_school, run_job
from scheduler.slots import prune_runs
from scheduler.timing import build_trigger, latest_slot

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: A run this close to its slot is "on time": it runs as of the slot itself, so its `now` (and
#: any key built from it) is the same as `jobs run NAME --now <slot>` would give.
ON_TIME = timedelta(minutes=1)
#: Finished slots older than this are forgotten (at start, then once a day).
KEEP_RUNS = timedelta(days=90)
PRUNE_EVERY = timedelta(days=1)
#: How long `stop()` waits for runs in progress before cancelling them (a cancelled run rolls
#: back; its slot is retried at the next start within the grace period).
STOP_TIMEOUT = 30.0
#: The stored reference of what APScheduler calls.
FIRE_REF = "scheduler.service:fire_job"
#: Job runs at the same time in one process, whatever the number of schools: each run holds a
#: database connection for its transaction (a digest's also draws its chart meanwhile), and a
#: process of every school fires a hundred schools' morning jobs within the same minute; the
#: pool's other connections stay free for the people writing to the bots.
RUNS_AT_ONCE = 4


# -- the job store ------------------------------------------------------------------------------


class _SharedEngines:
    """One synchronous engine per database URL for every school's job store in the process, so
    that a process running a hundred schools' schedulers keeps one small pool, not a hundred
    (each store's own engine kept one idle connection at least); disposed when the last store
    using it shuts down."""

    def __init__(self) -> None:
        self._engines: dict[str, tuple[Engine, int]] = {}

    def take(self, url: str, options: dict[str, Any]) -> Engine:
        engine, users = self._engines.get(url) or (create_engine(url, **options), 0)
        self._engines[url] = (engine, users + 1)
        return engine

    def give_back(self, url: str) -> None:
        engine, users = self._engines[url]
        if users > 1:
            self._engines[url] = (engine, users - 1)
            return
        del self._engines[url]
        engine.dispose()


_engines = _SharedEngines()


class GuardedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """`SQLAlchemyJobStore` that never stops the scheduler over a failed write, and sees only
    the jobs whose id starts with `prefix` (one school's, on a database several schools share).

    Its statements run on the event loop's thread; on SQLite another write may hold the lock.
    APScheduler 3 lets an error in `update_job` or `get_next_run_time` escape its wake-up and
    then never wakes again. Here such an error is logged and the scheduler looks again shortly:
    a stale `next_run_time` only makes it fire a slot again, which the slot claim skips.
    """

    RETRY = timedelta(seconds=30)

    def __init__(
        self, *, url: str, engine_options: dict[str, Any] | None = None, prefix: str = ""
    ) -> None:
        super().__init__(engine=_engines.take(url, engine_options or {}))
        self.url = url
        self.prefix = prefix

    def shutdown(self) -> None:
        _engines.give_back(self.url)

    def _mine(self) -> Any:
        return self.jobs_t.c.id.startswith(self.prefix, autoescape=True)

    def _get_jobs(self, *conditions: Any) -> list[Any]:
        jobs: list[Any] = super()._get_jobs(*conditions, self._mine())
        return jobs

    def remove_all_jobs(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.jobs_t.delete().where(self._mine()))

    def update_job(self, job: Any) -> None:
        try:
            super().update_job(job)
        except Exception as exc:
            log.warning("job store: could not save %s's next run (%s)", job.id, type(exc).__name__)

    def get_next_run_time(self) -> datetime | None:
        query = (
            select(self.jobs_t.c.next_run_time)
            .where(self.jobs_t.c.next_run_time.is_not(None), self._mine())
            .order_by(self.jobs_t.c.next_run_time)
            .limit(1)
        )
        try:
            with self.engine.begin() as connection:
                timestamp = connection.execute(query).scalar()
        except Exception as exc:
            log.warning("job store: could not read the next run (%s)", type(exc).__name__)
            return datetime.now(UTC) + self.RETRY
        return utc_timestamp_to_datetime(timestamp) if timestamp is not None else None


def store_prefix(school_name: str | None) -> str:
    """What a school's stored job ids start with ("" for a run with no school named)."""
    return f"{school_name}/" if school_name else ""


def job_store(database_url: str, *, prefix: str = "") -> BaseJobStore:
    """The persistent store on our database (in memory for an in-memory SQLite database), seeing
    only the jobs stored under `prefix`."""
    url = sync_url(database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return MemoryJobStore()
        # Short waits: these statements block the event loop while they wait for the lock.
        return GuardedJobStore(
            url=url, engine_options={"connect_args": {"timeout": 2.0}}, prefix=prefix
        )
    return GuardedJobStore(url=url, engine_options={"pool_pre_ping": True}, prefix=prefix)


# -- what APScheduler calls ----------------------------------------------------------------------

_turn = Turns(RUNS_AT_ONCE)


#: The running `JobScheduler`s of this process by their store prefix, one per school
#: (APScheduler calls a plain function by reference, with the prefix as `school`).
_active: dict[str, JobScheduler] = {}


async def fire_job(name: str, slot: datetime | None = None, *, school: str = "") -> None:
    """Run job `name` of the school whose stored jobs start with `school` for `slot` (default:
    its latest slot at or before now).

    Module-level and referenced by name, so APScheduler's persistent store can keep it.
    """
    service = _active.get(school)
    if service is None:
        log.warning("job %s fired with no scheduler running; ignored", name)
        return
    await service.fire(name, slot)


# -- the scheduler --------------------------------------------------------------------------------


class JobScheduler:
    """Runs `jobs` on time for one school; see the module doc."""

    def __init__(
        self,
        db: Database,
        config: RunConfig,
        *,
        jobs: Sequence[Job],
        wake: Wake | None = None,
        clock: Clock = utcnow,
        store: BaseJobStore | None = None,
        jitter: int | None = None,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.db = db
        self.config = config
        self.jobs = list(jobs)
        self.wake = wake
        self.clock = clock
        self.grace = timedelta(hours=config.rules.missed_job_grace_hours)
        #: The school's own part of the shared job store (see the module doc).
        self.prefix = store_prefix(config.school_name)
        self.triggers: dict[str, CronTrigger] = {
            job.name: build_trigger(job, config.rules, config.zone) for job in self.jobs
        }
        #: APScheduler fires each job up to this many seconds after its slot (a process of
        #: every school spreads their every-minute jobs over the minute); the slot stays the
        #: trigger's own time. Under a minute, so an every-minute job finds its own slot.
        if jitter is not None and not 0 <= jitter < 60:
            raise ValueError(f"jitter must be 0-59 seconds: {jitter}")
        self.jitter = jitter or None
        self.scheduler = AsyncIOScheduler(
            timezone=config.zone,
            jobstores={
                "default": store if store is not None else job_store(db.url, prefix=self.prefix)
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
        )
        self._running: set[asyncio.Task[Any]] = set()
        self._pruned_at: datetime | None = None
        #: The school's id, found at the first slot (`_school_id`): an id does not change.
        self._school: int | None = None
        #: Called with (job, outcome) after each slot fired: "done", "skipped", "failed" (the
        #: job's transaction rolled back) or "error" (it could not be run), e.g. the metrics.
        self.on_run: Callable[[str, str], None] | None = None

    # -- running a slot ---------------------------------------------------------------------------

    async def fire(self, name: str, slot: datetime | None = None) -> Outcome | None:
        """Run one slot of `name` now; None when there is no slot to run. Never raises."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            now = self.clock()
            await self._prune(now)
            if slot is None:
                slot = latest_slot(self.triggers[name], now, within=self.grace)
                if slot is None:
                    log.info("job %s fired with no slot in the grace period; skipped", name)
                    return None
            as_of = slot if timedelta(0) <= now - slot <= ON_TIME else now
            job = find_job(self.jobs, name)
            async with _turn():
                outcome = await run_job(
                    self.db,
                    self.config,
                    job,
                    slot=slot,
                    now=as_of,
                    wake=self.wake,
                    school_id=await self._school_id(),
                    list_messages=False,
                )
            self._ran(name, outcome.status.value)
            return outcome
        except Exception:
            log.exception("job %s could not be run", name)
            self._ran(name, "error")
            return None
        finally:
            if task is not None:
                self._running.discard(task)

    async def _school_id(self) -> int | None:
        """The school's id, looked up once and kept; None while there is no school, or only
        another one than the school named (`run_job` then looks again and reports it)."""
        if self._school is None:
            with contextlib.suppress(NoSchool):
                found = await find_school(self.db, self.config)
                if found.settled:
                    self._school = found.id
        return self._school

    def _ran(self, name: str, outcome: str) -> None:
        if self.on_run is not None:
            self.on_run(name, outcome)

    async def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        pruned = await prune_runs(self.db, before=now - KEEP_RUNS)
        if pruned:
            log.info("forgot %d finished job slot(s) older than %s", pruned, KEEP_RUNS)

    async def catch_up(self) -> list[Outcome]:
        """Run, once each, the latest slot of every job that has not run within the grace."""
        now = self.clock()
        outcomes: list[Outcome] = []
        for job in self.jobs:
            slot = latest_slot(self.triggers[job.name], now, within=self.grace)
            if slot is None:
                continue
            outcome = await self.fire(job.name, slot)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    # -- starting and stopping ----------------------------------------------------------------

    def _reconcile(self) -> None:
        """Make the stored jobs match the registered ones (see the module doc)."""
        wanted = {self.stored_id(job.name) for job in self.jobs}
        for stored in self.scheduler.get_jobs():
            if stored.id not in wanted and stored.id.startswith(self.prefix):
                log.info("job %s is no longer registered; removed from the store", stored.id)
                self.scheduler.remove_job(stored.id)
        for job in self.jobs:
            trigger = self._fired_by(job.name)
            try:
                stored = self.scheduler.get_job(self.stored_id(job.name))
            except Exception as exc:  # a state pickled by another APScheduler version
                log.warning("job store: %s unreadable (%s); replaced", job.name, type(exc).__name__)
                stored = None
            if stored is not None and self._unchanged(stored, trigger, job.name):
                continue
            self.scheduler.add_job(
                fire_job,
                trigger=trigger,
                args=[job.name],
                kwargs=self._fire_kwargs,
                id=self.stored_id(job.name),
                name=job.name,
                replace_existing=True,
            )

    @property
    def _fire_kwargs(self) -> dict[str, str]:
        return {"school": self.prefix} if self.prefix else {}

    def _fired_by(self, name: str) -> CronTrigger:
        """The trigger APScheduler fires `name` by: its slots', with the jitter."""
        trigger = self.triggers[name]
        if self.jitter is None:
            return trigger
        jittered = copy.copy(trigger)
        jittered.jitter = self.jitter
        return jittered

    def stored_id(self, name: str) -> str:
        """Job `name`'s id in the store: under the school's name."""
        return f"{self.prefix}{name}"

    def _unchanged(self, stored: Any, trigger: CronTrigger, name: str) -> bool:
        current = stored.trigger
        return (
            isinstance(current, CronTrigger)
            and str(current) == str(trigger)
            and str(current.timezone) == str(trigger.timezone)
            and current.jitter == trigger.jitter
            and stored.func_ref == FIRE_REF
            and tuple(stored.args) == (name,)
            and dict(stored.kwargs) == self._fire_kwargs
            and stored.coalesce is True
            and stored.max_instances == 1
            and stored.misfire_grace_time == int(self.grace.total_seconds())
        )

    async def start(self) -> list[Outcome]:
        """Catch up on missed slots, then schedule every job; returns the catch-up's outcomes."""
        if _active.setdefault(self.prefix, self) is not self:
            raise RuntimeError("another JobScheduler of this school is running in this process")
        try:
            await self._prune(self.clock())
            outcomes = await self.catch_up()
            self.scheduler.start(paused=True)
            self._reconcile()
            self.scheduler.resume()
        except BaseException:
            del _active[self.prefix]
            raise
        scheduled = self.scheduler.get_jobs()
        for job in scheduled:
            log.debug("job %s scheduled; next run %s", job.id, job.next_run_time)
        log.info("%d scheduled job(s) running in %s", len(scheduled), self.config.zone.key)
        return outcomes

    async def stop(self) -> None:
        """Stop scheduling; let runs in progress finish (a while), then close the job store."""
        if self.scheduler.running:
            self.scheduler.pause()
        running = [task for task in self._running if task is not asyncio.current_task()]
        if running:
            _done, pending = await asyncio.wait(running, timeout=STOP_TIMEOUT)
            for task in pending:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        if _active.get(self.prefix) is self:
            del _active[self.prefix]


def build_scheduler(
    db: Database,
    config: RunConfig,
    *,
    wake: Wake | None = None,
    clock: Clock = utcnow,
    jobs: Sequence[Job] | None = None,
    jitter: int | None = None,
) -> JobScheduler:
    """A `JobScheduler` for every registered job (or `jobs`)."""
    if jobs is None:
        from scheduler.registry import all_jobs

        jobs = all_jobs()
    return JobScheduler(db, config, jobs=jobs, wake=wake, clock=clock, jitter=jitter)
