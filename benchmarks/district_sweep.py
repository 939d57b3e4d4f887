"""The morning sweep of a district: every school's scheduled jobs of one school-day morning, run
as each school's scheduler runs them, timed and their SQL statements counted school by school.

What runs: for every school `bot.schools.configured_schools` finds (each with its own rules and
zone, `RunConfig.from_settings(runtime)`), a `JobScheduler` over every registered job
(`scheduler.registry.all_jobs`) fires each slot of the morning through `JobScheduler.fire`, with
its clock at the slot, as APScheduler would: the slot is claimed in `job_run`, the job runs in
one transaction and its messages are queued in the outbox (nothing is delivered: the rows queued
are the result). The morning is every slot from `MORNING_START` to `MORNING_END`, local time;
a job that fires several times in it (every minute, every five or ten minutes, hourly) runs
once, at its first slot from `BUSIEST` on, the time most of the daily jobs share.

Schools run one after another in one process, each school's slots in the order of their times
(the registry's order within a time), or up to `concurrency` schools at once on the event loop:
the deployment where one process runs every school's bot does this work on one event loop;
today's deployment of one process per school fires the same slots at the same moments in
separate processes. Statements and the charts' time are counted for each school through the
task that sweeps it (a context variable), so they hold when schools overlap too.

A run's slots are fresh: `clear_morning` deletes the `job_run` and `outbox` rows before each run,
so every run does the same morning's work (what the jobs write besides, such as the ledger items
of overdue duties, is written by the first run and found by the next).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from sqlalchemy import delete, event, func
from sqlmodel import col, select

import scheduler.jobs.digest as digest_job
import scheduler.jobs.district as district_job
from bot.schools import SchoolRuntime, configured_schools
from bot.settings import Settings
from handlers.chart_process import close_children
from models.db.engine import Database
from models.jobs.tables import JobRun
from models.outbox.tables import OutboxMessage
from models.roster.tables import Student
from scheduler.base import Job
from scheduler.registry import all_jobs
from scheduler.run import RunConfig, RunStatus
from scheduler.service import JobScheduler

#: The repository, where `sweep_in_workers`'s processes start.
ROOT = str(Path(__file__).resolve().parent.parent)
#: The morning, local time: the sick-absence check (06:30) through the opinion week (09:00).
MORNING_START = clock_time(6, 0)
MORNING_END = clock_time(9, 0)
#: A job that fires several times in the morning runs once, at its first slot from here on.
BUSIEST = clock_time(8, 0)


def morning_slots(scheduler: JobScheduler, day: date) -> list[tuple[datetime, Job]]:
    """The slots `scheduler`'s school runs on the morning of `day`, in the order they fire."""
    zone = scheduler.config.zone
    start = datetime.combine(day, MORNING_START, tzinfo=zone)
    end = datetime.combine(day, MORNING_END, tzinfo=zone)
    busiest = datetime.combine(day, BUSIEST, tzinfo=zone)
    slots: list[tuple[datetime, int, Job]] = []
    for order, job in enumerate(scheduler.jobs):
        trigger = scheduler.triggers[job.name]
        fires: list[datetime] = []
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire <= end:
            fires.append(fire)
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if len(fires) > 1:
            fires = [next(f for f in fires if f >= busiest)]
        slots += [(f, order, job) for f in fires]
    return [(slot, job) for slot, _, job in sorted(slots, key=lambda s: (s[0], s[1]))]


@dataclass
class ChartClock:
    """The seconds a school spent drawing and storing its charts (the school digest's and the
    district digest's)."""

    seconds: float = 0.0
    drawn: int = 0


#: The school being swept in this task: its statements and its charts' time.
_SEEN: ContextVar[list[str] | None] = ContextVar("sweep_statements", default=None)
_CHARTS: ContextVar[ChartClock | None] = ContextVar("sweep_charts", default=None)
#: Transaction control is not counted (as `benchmarks.digest.counting_statements`).
_NOT_COUNTED = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@contextmanager
def counting_by_school(database: Database) -> Iterator[None]:
    """Count every SQL statement for the school swept in the task that runs it (SQLAlchemy
    runs a statement in a greenlet that carries the awaiting task's context)."""

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen = _SEEN.get()
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if seen is not None and head not in _NOT_COUNTED:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def timing_charts() -> Iterator[None]:
    """Wrap the two jobs' chart functions to add their time to the swept school's
    `ChartClock` (put back on leaving)."""
    originals: list[tuple[Any, str, Any]] = [
        (module, name, getattr(module, name))
        for module, name in ((digest_job, "chart_attachment"), (district_job, "district_chart"))
    ]

    def timed(draw: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await draw(*args, **kwargs)
            finally:
                clock = _CHARTS.get()
                if clock is not None:
                    clock.seconds += time.perf_counter() - started
                    clock.drawn += 1

        return wrapper

    for module, name, original in originals:
        setattr(module, name, timed(original))
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


@dataclass(frozen=True)
class SchoolSweep:
    """One school's morning."""

    school_id: int
    name: str
    #: Active students on the school's roster (0: the bureau's own entry).
    students: int
    seconds: float
    statements: int
    slots: int
    #: Outbox rows the school's jobs queued, by job (only jobs that queued).
    queued: dict[str, int]
    chart_seconds: float
    charts: int
    #: Seconds by job (the whole slot: claim, run, commit).
    job_seconds: dict[str, float]
    #: Statements by job (the whole slot).
    job_statements: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.queued.values())


@dataclass(frozen=True)
class SweepRun:
    schools: list[SchoolSweep]
    seconds: float
    #: Outbox rows in the database after the run, by school (what the jobs' counts claim).
    outbox: dict[int, int]
    #: Schools swept at once in a process (1: one after another).
    concurrency: int = 1
    #: Processes firing every school's slots (the first to claim a slot runs it).
    workers: int = 1

    @property
    def chart_seconds(self) -> float:
        return sum(s.chart_seconds for s in self.schools)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.schools)


async def clear_morning(database: Database) -> None:
    """Forget every slot run and every message queued, so the next run's slots are fresh."""
    async with database.session() as session:
        await session.exec(delete(JobRun))
        await session.exec(delete(OutboxMessage))


async def _outbox_by_school(database: Database) -> dict[int, int]:
    query = select(col(OutboxMessage.school_id), func.count()).group_by(
        col(OutboxMessage.school_id)
    )
    async with database.session() as session:
        return {school: count for school, count in (await session.exec(query)).all()}


async def _students_by_school(database: Database) -> dict[int, int]:
    query = (
        select(col(Student.school_id), func.count())
        .where(col(Student.active).is_(True))
        .group_by(col(Student.school_id))
    )
    async with database.session() as session:
        return {school: count for school, count in (await session.exec(query)).all()}


def _scheduler(database: Database, runtime: SchoolRuntime, jobs: list[Job]) -> JobScheduler:
    """The school's scheduler as `bot run` builds it, its store in memory (the sweep fires the
    slots itself) and its clock set by `sweep_school`."""
    return JobScheduler(
        database, RunConfig.from_settings(runtime), jobs=jobs, store=MemoryJobStore()
    )


@dataclass
class _Clock:
    at: datetime = field(default_factory=lambda: datetime.now().astimezone())

    def __call__(self) -> datetime:
        return self.at


async def sweep_school(
    database: Database,
    runtime: SchoolRuntime,
    scheduler: JobScheduler,
    slots: list[tuple[datetime, Job]],
    students: int,
    *,
    shared: bool = False,
) -> SchoolSweep:
    """Fire each of the school's morning `slots` through its scheduler; raises if one fails,
    or is skipped unless the slots are `shared` with other processes (one of them claims it)."""
    clock = _Clock()
    scheduler.clock = clock
    charts, seen = ChartClock(), list[str]()
    counting, drawing = _SEEN.set(seen), _CHARTS.set(charts)
    queued: dict[str, int] = {}
    job_seconds: dict[str, float] = {}
    job_statements: dict[str, int] = {}
    started = time.perf_counter()
    try:
        for slot, job in slots:
            clock.at = slot
            fired, before = time.perf_counter(), len(seen)
            outcome = await scheduler.fire(job.name, slot)
            job_seconds[job.name] = job_seconds.get(job.name, 0.0) + time.perf_counter() - fired
            job_statements[job.name] = job_statements.get(job.name, 0) + len(seen) - before
            if shared and outcome is not None and outcome.status is RunStatus.SKIPPED:
                continue
            if outcome is None or outcome.status is not RunStatus.DONE:
                detail = outcome.detail if outcome is not None else "not run"
                raise RuntimeError(f"{scheduler.config.school_name} {job.name}: {detail}")
            if outcome.queued:
                queued[job.name] = queued.get(job.name, 0) + outcome.queued
    finally:
        _SEEN.reset(counting)
        _CHARTS.reset(drawing)
    seconds = time.perf_counter() - started
    return SchoolSweep(
        school_id=runtime.school_id,
        name=runtime.name,
        students=students,
        seconds=seconds,
        statements=len(seen),
        slots=len(slots),
        queued=queued,
        chart_seconds=charts.seconds,
        charts=charts.drawn,
        job_seconds=job_seconds,
        job_statements=job_statements,
    )


async def run_sweep(
    database: Database, day: date, *, concurrency: int = 1, workers: int = 1
) -> SweepRun:
    """One morning of every school, after clearing the slots and the outbox: schools one after
    another, or up to `concurrency` at once on this event loop; or in `workers` processes
    (`sweep_in_workers`)."""
    await clear_morning(database)
    if workers > 1:
        swept, seconds = await sweep_in_workers(database.url, day, concurrency, workers)
    else:
        swept, seconds = await _sweep_here(database, day, concurrency=concurrency)
    outbox = await _outbox_by_school(database)
    return SweepRun(swept, seconds, outbox, max(1, concurrency), max(1, workers))


async def _sweep_here(
    database: Database,
    day: date,
    *,
    concurrency: int = 1,
    shared: bool = False,
    ready: Callable[[], Awaitable[None]] | None = None,
) -> tuple[list[SchoolSweep], float]:
    """Every school's morning in this process; the seconds from the start (after `ready`,
    awaited once the schedulers and their slots are built) to the last school's end."""
    settings = Settings(database_url=database.url, _env_file=None)
    runtimes = await configured_schools(database, settings)
    jobs = all_jobs()
    schedulers = [(runtime, _scheduler(database, runtime, jobs)) for runtime in runtimes]
    # (the morning's slots are the benchmark's plan, listed before the clock starts: a
    # scheduler finds only its next slot, as it fires)
    plans = [
        (runtime, scheduler, morning_slots(scheduler, day)) for runtime, scheduler in schedulers
    ]
    students = await _students_by_school(database)
    room = asyncio.Semaphore(max(1, concurrency))

    async def sweep(
        runtime: SchoolRuntime, scheduler: JobScheduler, slots: list[tuple[datetime, Job]]
    ) -> SchoolSweep:
        async with room:
            return await sweep_school(
                database,
                runtime,
                scheduler,
                slots,
                students.get(runtime.school_id, 0),
                shared=shared,
            )

    if ready is not None:
        await ready()
    with counting_by_school(database), timing_charts():
        started = time.perf_counter()
        swept = list(await asyncio.gather(*(sweep(*plan) for plan in plans)))
        seconds = time.perf_counter() - started
    return swept, seconds


async def sweep_in_workers(
    url: str, day: date, concurrency: int, workers: int
) -> tuple[list[SchoolSweep], float]:
    """The morning in `workers` processes on the same database, as `bot run --all-schools
    --workers N` runs it: each process fires every school's slots in the same order and the
    first to claim a slot runs it, the others skip it. The seconds run from the moment every
    process is ready (its schedulers built, its slots listed) to the last one's end; each
    school's figures are the processes' summed (the time, the longest)."""
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.district_sweep",
            url,
            day.isoformat(),
            str(concurrency),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,  # (`-m` puts the repository on the child's path)
        )
        for _ in range(workers)
    ]
    for child in children:
        assert child.stdout is not None
        if (await child.stdout.readline()).strip() != b"ready":
            raise RuntimeError("a sweeping process did not start")
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    answers = await asyncio.gather(*(child.communicate() for child in children))
    seconds = time.perf_counter() - started
    if any(child.returncode for child in children):
        raise RuntimeError("a sweeping process failed")
    merged: dict[int, SchoolSweep] = {}
    for out, _ in answers:
        for school in (SchoolSweep(**row) for row in json.loads(out)):
            merged[school.school_id] = _merged(merged.get(school.school_id), school)
    return list(merged.values()), seconds


def _merged(one: SchoolSweep | None, other: SchoolSweep) -> SchoolSweep:
    if one is None:
        return other

    def add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {key: a.get(key, 0) + b.get(key, 0) for key in {**a, **b}}

    return replace(
        one,
        seconds=max(one.seconds, other.seconds),
        statements=one.statements + other.statements,
        queued=add(one.queued, other.queued),
        chart_seconds=one.chart_seconds + other.chart_seconds,
        charts=one.charts + other.charts,
        job_seconds=add(one.job_seconds, other.job_seconds),
        job_statements=add(one.job_statements, other.job_statements),
    )


async def _worker(url: str, day: date, concurrency: int) -> None:
    """A sweeping process of `sweep_in_workers`: "ready" on stdout, then "go" on stdin; the
    schools' figures on stdout as JSON at the end."""

    async def ready() -> None:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    database = Database(url)
    try:
        swept, _ = await _sweep_here(
            database, day, concurrency=concurrency, shared=True, ready=ready
        )
    finally:
        await close_children()
        await database.dispose()
    print(json.dumps([asdict(school) for school in swept]), flush=True)


if __name__ == "__main__":  # `sweep_in_workers`'s processes
    asyncio.run(_worker(sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3])))


@dataclass(frozen=True)
class Sweep:
    """Several runs of the same morning."""

    day: date
    runs: list[SweepRun]

    @property
    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def first(self) -> SweepRun:
        return self.runs[0]

    @property
    def consistent(self) -> bool:
        """Every run queued what its jobs said, and the same as the first run."""
        shape = [s.queued for s in self.first.schools]
        return all(
            [s.queued for s in run.schools] == shape
            and all(run.outbox.get(s.school_id, 0) == s.rows for s in run.schools)
            for run in self.runs
        )

    def _median_run(self) -> SweepRun:
        ordered = sorted(self.runs, key=lambda run: run.seconds)
        return ordered[(len(ordered) - 1) // 2]

    def render(self, target: float) -> list[str]:
        run = self._median_run()
        schools = [s for s in run.schools if s.students]
        others = [s for s in run.schools if not s.students]
        counted = [s.statements for r in self.runs for s in r.schools if s.students]
        sizes = sorted({s.students for s in schools})
        by_job: dict[str, float] = {}
        queued: dict[str, int] = {}
        for school in run.schools:
            for job, seconds in school.job_seconds.items():
                by_job[job] = by_job.get(job, 0.0) + seconds
            for job, rows in school.queued.items():
                queued[job] = queued.get(job, 0) + rows
        slowest = sorted(by_job.items(), key=lambda item: -item[1])[:6]
        verdict = "met" if self.median < target else "NOT met"
        per_school = self.median / max(1, len(run.schools))
        return [
            f"morning sweep of {self.day.isoformat()} (each school's slots {MORNING_START:%H:%M}"
            f"–{MORNING_END:%H:%M}, a job firing more often once at {BUSIEST:%H:%M}; "
            + (
                "schools one after another"
                if run.concurrency == 1
                else f"up to {run.concurrency} schools at once on an event loop"
            )
            + (
                " in one process"
                if run.workers == 1
                else f" in each of {run.workers} processes, each firing every school's slots"
                " (the first to claim a slot runs it)"
            )
            + f"): {len(schools)} schools and {len(others)} entry without students, "
            f"{run.schools[0].slots if run.schools else 0} slots each",
            f"  median {self.median:.1f} s of {len(self.runs)} runs "
            f"({', '.join(f'{r.seconds:.1f}' for r in self.runs)} s), {per_school:.2f} s per "
            f"school; the charts {run.chart_seconds:.1f} s of the median run "
            f"({sum(s.charts for s in run.schools)} drawn) (target < {target:g} s: {verdict})",
            f"  statements per school: {min(counted, default=0)}–{max(counted, default=0)} "
            f"over {len(schools)} schools of {'/'.join(f'{n:,}' for n in sizes)} students and "
            f"{len(self.runs)} runs"
            + (f"; without students {sorted({s.statements for s in others})}" if others else ""),
            f"  rows queued: {run.rows:,} ("
            + ", ".join(f"{job} {rows:,}" for job, rows in sorted(queued.items()))
            + ")"
            + ("; every run the same, equal to the outbox" if self.consistent else "; RUNS DIFFER"),
            "  slowest jobs (all schools, median run): "
            + ", ".join(f"{job} {seconds:.1f} s" for job, seconds in slowest),
        ]


async def time_sweep(
    database: Database, day: date, repeat: int, concurrency: int = 1, workers: int = 1
) -> Sweep:
    return Sweep(
        day,
        [
            await run_sweep(database, day, concurrency=concurrency, workers=workers)
            for _ in range(max(1, repeat))
        ],
    )
