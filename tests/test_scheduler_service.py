"""The APScheduler set-up: each job scheduled in the school's zone, kept in a persistent store,
and a slot missed while the bot was down run once when it comes back (within the grace)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from models.db.columns import utcnow
from models.db.engine import Database
from models.jobs.tables import APSCHEDULER_JOBS
from scheduler.base import Job, JobContext
from scheduler.run import RunStatus, run_job
from scheduler.service import FIRE_REF, RUNS_AT_ONCE, GuardedJobStore, JobScheduler, fire_job
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.scheduler import RecordingJob, config, job_runs, local, outbox_count
from tests.helpers.statements import counting_statements

Make = Callable[..., JobScheduler]


@pytest.fixture
async def make(db: Database) -> AsyncIterator[Make]:
    """Builds schedulers on the test database and stops every one at the end."""
    made: list[JobScheduler] = []

    def build(
        *jobs: RecordingJob, clock: Any = utcnow, memory: bool = False, **rules: Any
    ) -> JobScheduler:
        service = JobScheduler(
            db,
            config(**rules),
            jobs=[j.job for j in jobs],
            clock=clock,
            store=MemoryJobStore() if memory else None,
        )
        made.append(service)
        return service

    await seed_school(db)
    yield build
    for service in made:
        await service.stop()


async def test_every_job_is_scheduled_by_name_in_the_schools_zone(make: Make) -> None:
    digest = RecordingJob("daily_digest", {"hour": 7, "minute": 30})
    nudge = RecordingJob("weekly_nudge", {"day_of_week": "mon", "hour": 8, "minute": 0})
    service = make(digest, nudge, clock=FakeClock(local("2026-11-16 03:00")))
    await service.start()
    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    assert set(jobs) == {"daily_digest", "weekly_nudge"}
    trigger = jobs["weekly_nudge"].trigger
    assert isinstance(trigger, CronTrigger)
    assert str(trigger) == "cron[day_of_week='mon', hour='8', minute='0']"
    assert str(trigger.timezone) == "Asia/Shanghai"
    assert jobs["daily_digest"].next_run_time.utcoffset() == timedelta(hours=8)
    assert jobs["daily_digest"].next_run_time.strftime("%H:%M") == "07:30"
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 6 * 3600)
        assert job.func_ref == FIRE_REF
        assert job.args == (job.id,)


async def test_the_grace_period_comes_from_the_rules(make: Make) -> None:
    service = make(RecordingJob(), missed_job_grace_hours=2)
    await service.start()
    [job] = service.scheduler.get_jobs()
    assert job.misfire_grace_time == 2 * 3600


async def test_the_jobs_are_kept_in_the_database(make: Make, db: Database) -> None:
    service = make(RecordingJob("daily_digest"))
    await service.start()
    async with db.session() as session:
        ids = (await session.exec(select(APSCHEDULER_JOBS.c.id))).all()
    assert list(ids) == ["daily_digest"]


async def test_a_restart_keeps_a_stored_job_whose_schedule_did_not_change(
    make: Make,
) -> None:
    first = make(RecordingJob("daily_digest"))
    await first.start()
    stored = first.scheduler.get_job("daily_digest").next_run_time
    await first.stop()
    second = make(RecordingJob("daily_digest"))
    await second.start()
    assert second.scheduler.get_job("daily_digest").next_run_time == stored


async def test_a_restart_replaces_a_changed_job_and_drops_an_unregistered_one(
    make: Make,
) -> None:
    first = make(RecordingJob("daily_digest"), RecordingJob("retired", {"minute": "*/5"}))
    await first.start()
    await first.stop()
    second = make(RecordingJob("daily_digest", {"hour": 8, "minute": 0}))
    await second.start()
    jobs = second.scheduler.get_jobs()
    assert [job.id for job in jobs] == ["daily_digest"]
    assert str(jobs[0].trigger) == "cron[hour='8', minute='0']"


async def test_the_scheduler_fires_a_job_through_its_stored_reference(
    make: Make, db: Database
) -> None:
    every_second = RecordingJob("tick", {"second": "*"})
    service = make(every_second)
    await service.start()
    for _ in range(60):  # a few seconds at most
        if every_second.runs:
            break
        await asyncio.sleep(0.1)
    await service.stop()
    assert every_second.runs, "APScheduler did not call the job within 6 s"
    assert (await job_runs(db, "tick"))[0].outcome == "queued 1"


async def test_fire_job_without_a_running_scheduler_runs_nothing_and_says_so(
    make: Make, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Built but never started: APScheduler's stored reference finds no scheduler to run it.
    digest = RecordingJob("daily_digest")
    make(digest, clock=FakeClock(local("2026-11-16 07:30")), memory=True)
    with caplog.at_level(logging.WARNING, logger="scheduler.service"):
        await fire_job("daily_digest")
    assert digest.runs == []
    assert await job_runs(db, "daily_digest") == []
    assert await outbox_count(db) == 0
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "job daily_digest fired with no scheduler running; ignored")
    ]


# -- catching up after downtime ---------------------------------------------------------------


async def test_a_slot_missed_while_down_runs_once_at_start(make: Make, db: Database) -> None:
    # Down from Monday 07:00 to 09:00: the 07:30 digest runs once when the bot is back.
    digest = RecordingJob()
    service = make(digest, clock=FakeClock(local("2026-11-16 09:00")), memory=True)
    outcomes = await service.start()
    assert [(o.status, o.slot) for o in outcomes] == [(RunStatus.DONE, local("2026-11-16 07:30"))]
    [jc] = digest.runs
    assert jc.now == local("2026-11-16 09:00")
    assert await outbox_count(db) == 1


async def test_after_three_days_down_only_the_latest_slot_runs_once(
    make: Make, db: Database
) -> None:
    digest = RecordingJob()
    friday = local("2026-11-13 07:30")
    await run_job(db, config(), digest.job, slot=friday, now=friday)
    service = make(digest, clock=FakeClock(local("2026-11-16 09:00")), memory=True)
    await service.start()
    slots = [run.slot for run in await job_runs(db, digest.name)]
    assert slots == [friday, local("2026-11-16 07:30")]
    assert len(digest.runs) == 2


async def test_a_job_every_ten_minutes_catches_up_only_its_latest_slot(
    make: Make, db: Database
) -> None:
    check = RecordingJob("ack_check", {"minute": "*/10"})
    service = make(check, clock=FakeClock(local("2026-11-16 09:47")), memory=True)
    await service.start()
    assert [run.slot for run in await job_runs(db, "ack_check")] == [local("2026-11-16 09:40")]


async def test_a_slot_missed_by_more_than_the_grace_is_not_run(make: Make, db: Database) -> None:
    digest = RecordingJob()
    service = make(digest, clock=FakeClock(local("2026-11-16 14:00")), memory=True)
    assert await service.start() == []
    assert digest.runs == []


async def test_a_second_start_does_not_run_the_slot_again(make: Make, db: Database) -> None:
    digest = RecordingJob()
    clock = FakeClock(local("2026-11-16 09:00"))
    first = make(digest, clock=clock, memory=True)
    await first.start()
    await first.stop()
    clock.advance(minutes=10)
    second = make(digest, clock=clock, memory=True)
    [outcome] = await second.start()
    assert outcome.status is RunStatus.SKIPPED
    assert len(digest.runs) == 1
    assert await outbox_count(db) == 1


async def test_a_slot_that_failed_is_retried_at_the_next_start(make: Make, db: Database) -> None:
    digest = RecordingJob(fail=True)
    clock = FakeClock(local("2026-11-16 09:00"))
    first = make(digest, clock=clock, memory=True)
    [failed] = await first.start()
    await first.stop()
    assert failed.status is RunStatus.FAILED
    digest.fail = False
    clock.advance(minutes=10)
    second = make(digest, clock=clock, memory=True)
    [retried] = await second.start()
    assert (retried.status, retried.slot) == (RunStatus.DONE, local("2026-11-16 07:30"))
    assert await outbox_count(db) == 1


async def test_apschedulers_own_misfire_run_after_the_catch_up_sends_nothing_twice(
    make: Make, db: Database
) -> None:
    digest = RecordingJob()
    clock = FakeClock(local("2026-11-16 09:00"))
    service = make(digest, clock=clock, memory=True)
    await service.start()
    clock.advance(seconds=1)
    outcome = await service.fire(digest.name)  # what APScheduler calls on a misfire
    assert outcome is not None and outcome.status is RunStatus.SKIPPED
    assert len(digest.runs) == 1
    assert await outbox_count(db) == 1


async def test_a_run_on_time_is_run_as_of_its_slot(make: Make) -> None:
    digest = RecordingJob()
    clock = FakeClock(local("2026-11-16 06:00"))
    service = make(digest, clock=clock, memory=True)
    await service.start()
    clock.now = local("2026-11-16 07:30") + timedelta(milliseconds=40)
    await service.fire(digest.name)
    [jc] = digest.runs
    assert jc.now == jc.slot == local("2026-11-16 07:30")


async def test_two_schedulers_of_one_school_in_one_process_are_refused(make: Make) -> None:
    await make(RecordingJob(), memory=True).start()
    with pytest.raises(RuntimeError):
        await make(RecordingJob(), memory=True).start()


async def test_two_schools_schedulers_in_one_process_each_fire_their_own_jobs(
    db: Database,
) -> None:
    # One process running every school's bot: the same job, stored under each school's name,
    # fires through the stored reference into that school's scheduler and claims its slots.
    first, second = await seed_school(db), await seed_school(db, name="第二小学")
    ticks = {first.school.name: RecordingJob("tick", {"second": "*"})}
    ticks[second.school.name] = RecordingJob("tick", {"second": "*"})
    services = [
        JobScheduler(db, replace(config(), school_name=name), jobs=[tick.job])
        for name, tick in ticks.items()
    ]
    try:
        for service in services:
            await service.start()
        stored = {job.id: job.kwargs for s in services for job in s.scheduler.get_jobs()}
        assert stored == {f"{name}/tick": {"school": f"{name}/"} for name in ticks}
        for _ in range(60):  # a few seconds at most
            if all(tick.runs for tick in ticks.values()):
                break
            await asyncio.sleep(0.1)
    finally:
        for service in services:
            await service.stop()
    assert all(tick.runs for tick in ticks.values()), "a school's job did not fire within 6 s"
    schools = {run.school_id for run in await job_runs(db, "tick")}
    assert schools == {first.school.id, second.school.id}


async def test_with_a_jitter_jobs_fire_later_but_claim_their_own_slot(
    make: Make, db: Database
) -> None:
    # A process of every school spreads their jobs over the minute: APScheduler fires up to
    # `jitter` seconds late, and the run still belongs to the slot on the minute.
    every_minute = RecordingJob("tick", {"minute": "*"})
    clock = FakeClock(local("2026-11-16 09:00:37"))
    service = JobScheduler(db, config(), jobs=[every_minute.job], clock=clock, jitter=50)
    try:
        await service.start()
        [stored] = service.scheduler.get_jobs()
        assert stored.trigger.jitter == 50
        assert str(stored.trigger) == str(service.triggers["tick"])  # the same schedule
        await service.fire("tick")
    finally:
        await service.stop()
    assert [run.slot for run in await job_runs(db, "tick")] == [local("2026-11-16 09:00")]
    [jc] = every_minute.runs
    assert jc.now == local("2026-11-16 09:00")  # on time: as of its slot
    # Started again without the jitter (one school's own process): the stored job is replaced.
    plain = make(every_minute, clock=clock)
    await plain.start()
    assert plain.scheduler.get_jobs()[0].trigger.jitter is None
    with pytest.raises(ValueError, match="jitter"):
        JobScheduler(db, config(), jobs=[every_minute.job], jitter=60)


async def test_at_most_four_job_runs_at_once_in_a_process(make: Make, db: Database) -> None:
    # A hundred schools' morning jobs fire within the same minute; each run holds a database
    # connection, so the others wait their turn and the pool keeps room for people's messages.
    running, most = 0, 0

    async def body(jc: JobContext) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        return 0

    jobs = [Job(f"job{n}", body, lambda rules: {"hour": 7, "minute": 30}) for n in range(7)]
    service = JobScheduler(db, config(), jobs=jobs, store=MemoryJobStore())
    slot = local("2026-11-16 07:30")
    outcomes = await asyncio.gather(*(service.fire(job.name, slot) for job in jobs))
    assert [o.status for o in outcomes if o is not None] == [RunStatus.DONE] * 7
    assert RUNS_AT_ONCE == 4
    # SQLite's transactions take turns on their own (one writer); PostgreSQL's run side by side.
    assert most == (RUNS_AT_ONCE if db.url.startswith("postgresql") else 1)


async def test_a_slot_with_nothing_to_send_takes_three_statements_in_two_transactions(
    make: Make, db: Database
) -> None:
    # The first slot prunes old runs and finds the school; every later one claims its slot
    # (committed first, so another process skips it), then reads the school, runs the body and
    # records the end in one transaction. A hundred schools' mornings are mostly such slots.
    quiet = RecordingJob(chats=())
    service = make(quiet, memory=True)
    first = await service.fire(quiet.name, local("2026-11-16 07:30"))
    with counting_statements(db) as (statements, transactions):
        second = await service.fire(quiet.name, local("2026-11-17 07:30"))
    assert first is not None and second is not None
    assert (first.status, second.status) == (RunStatus.DONE, RunStatus.DONE)
    heads = [statement.lstrip().split(None, 1)[0].upper() for statement in statements]
    assert heads == ["INSERT", "SELECT", "UPDATE"]
    assert len(transactions) == 2
    assert len(quiet.runs) == 2


async def test_a_scheduled_run_counts_what_it_queued_and_wakes_the_worker(db: Database) -> None:
    await seed_school(db)
    woken: list[bool] = []
    digest = RecordingJob(chats=("42", "43"))
    service = JobScheduler(
        db, config(), jobs=[digest.job], store=MemoryJobStore(), wake=lambda: woken.append(True)
    )
    outcome = await service.fire(digest.name, local("2026-11-16 07:30"))
    assert outcome is not None
    # The scheduler needs the count only; `jobs run` lists the rows (tests/test_scheduler.py).
    assert (outcome.status, outcome.queued, outcome.messages) == (RunStatus.DONE, 2, ())
    assert woken == [True]
    assert await outbox_count(db) == 2


async def test_a_scheduler_started_before_its_school_exists_runs_once_it_is_there(
    db: Database,
) -> None:
    digest = RecordingJob()
    service = JobScheduler(db, config(), jobs=[digest.job], store=MemoryJobStore())
    before = await service.fire(digest.name, local("2026-11-16 07:30"))
    assert before is not None and before.status is RunStatus.FAILED
    assert "数据库里还没有学校" in before.detail
    ts = await seed_school(db)
    after = await service.fire(digest.name, local("2026-11-17 07:30"))
    assert after is not None and after.status is RunStatus.DONE
    assert [run.school_id for run in await job_runs(db, digest.name)] == [ts.school.id]


async def test_a_scheduler_whose_school_is_added_later_claims_for_it_from_then_on(
    db: Database,
) -> None:
    # Named 第二小学 while only the first school is in the database, the scheduler runs for the
    # first (as the dispatcher finds it); once 第二小学 is imported, its slots are its own.
    first = await seed_school(db)
    digest = RecordingJob()
    named = replace(config(), school_name="第二小学")
    service = JobScheduler(db, named, jobs=[digest.job], store=MemoryJobStore())
    await service.fire(digest.name, local("2026-11-16 07:30"))
    second = await seed_school(db, name="第二小学")
    await service.fire(digest.name, local("2026-11-17 07:30"))
    await service.fire(digest.name, local("2026-11-18 07:30"))
    schools = [run.school_id for run in await job_runs(db, digest.name)]
    assert schools == [first.school.id, second.school.id, second.school.id]


def test_the_schools_job_stores_share_one_engine_until_the_last_shuts_down(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    stores = [GuardedJobStore(url=url, prefix=f"{n}/") for n in range(3)]
    assert len({id(store.engine) for store in stores}) == 1
    engine = stores[0].engine
    stores[0].shutdown()
    stores[1].shutdown()
    fourth = GuardedJobStore(url=url)
    assert fourth.engine is engine  # still in use by the third
    for store in (stores[2], fourth):
        store.shutdown()
    fresh = GuardedJobStore(url=url)  # the last one disposed it: a new engine
    assert fresh.engine is not engine
    fresh.shutdown()


async def test_finished_slots_older_than_ninety_days_are_forgotten_at_start(
    make: Make, db: Database
) -> None:
    digest = RecordingJob()
    old, recent = local("2026-08-01 07:30"), local("2026-11-01 07:30")
    for slot in (old, recent):
        await run_job(db, config(), digest.job, slot=slot, now=slot)
    await make(digest, clock=FakeClock(local("2026-11-16 03:00")), memory=True).start()
    assert [run.slot for run in await job_runs(db, digest.name)] == [recent]


def test_a_job_store_that_cannot_write_does_not_stop_the_scheduler(tmp_path: Path) -> None:
    store = GuardedJobStore(url=f"sqlite:///{tmp_path}/missing/dir/jobs.db")
    job = MagicMock(id="daily_digest")
    store.update_job(job)  # logged, not raised
    before = datetime.now(UTC)
    retry = store.get_next_run_time()
    assert retry is not None and before < retry <= before + GuardedJobStore.RETRY + timedelta(
        seconds=1
    )
