"""Running one slot of a job: once per slot, nothing half-saved, retried after a failure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.delivery.worker import DeliveryWorker
from models.db.engine import Database
from models.jobs.tables import JobRun
from models.outbox.tables import OutboxMessage, OutboxStatus
from scheduler.run import RunStatus, run_job
from scheduler.slots import STALE_AFTER, Claim, claim_slot, finish_slot
from tests.helpers.clock import FakeClock
from tests.helpers.delivery import RecordingChannel
from tests.helpers.factories import seed_school
from tests.helpers.outbox import school_for_rows
from tests.helpers.scheduler import (
    RecordingJob,
    config,
    job_runs,
    local,
    outbox_count,
)

SLOT = local("2026-11-16 07:30")


async def school_id(db: Database) -> int:
    async with db.session() as session:
        return await school_for_rows(session)


async def test_the_same_slot_run_twice_runs_and_sends_once(db: Database) -> None:
    await seed_school(db)
    digest = RecordingJob()
    first = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT)
    second = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT + timedelta(minutes=5))
    assert (first.status, first.queued) == (RunStatus.DONE, 1)
    assert second.status is RunStatus.SKIPPED
    assert second.detail == "queued 1"
    assert len(digest.runs) == 1
    assert await outbox_count(db) == 1


async def test_two_processes_running_one_slot_at_once_run_it_once(db: Database) -> None:
    await seed_school(db)
    digest = RecordingJob()
    other = Database(db.url)  # a second bot process on the same database
    try:
        outcomes = await asyncio.gather(
            run_job(db, config(), digest.job, slot=SLOT, now=SLOT),
            run_job(other, config(), digest.job, slot=SLOT, now=SLOT),
        )
    finally:
        await other.dispose()
    assert sorted(o.status for o in outcomes) == [RunStatus.DONE, RunStatus.SKIPPED]
    assert len(digest.runs) == 1
    assert await outbox_count(db) == 1


async def test_the_next_slot_of_the_same_job_runs_again(db: Database) -> None:
    await seed_school(db)
    digest = RecordingJob()
    await run_job(db, config(), digest.job, slot=SLOT, now=SLOT)
    tomorrow = SLOT + timedelta(days=1)
    outcome = await run_job(db, config(), digest.job, slot=tomorrow, now=tomorrow)
    assert outcome.status is RunStatus.DONE
    assert await outbox_count(db) == 2


async def test_a_failing_job_leaves_no_outbox_rows_and_its_slot_can_run_again(
    db: Database,
) -> None:
    await seed_school(db)
    digest = RecordingJob(fail=True)
    failed = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT)
    assert failed.status is RunStatus.FAILED
    assert failed.detail == "RuntimeError: the job broke halfway"
    assert await outbox_count(db) == 0
    [run] = await job_runs(db, digest.name)
    assert run.failed and run.finished_at is not None

    digest.fail = False
    retried = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT + timedelta(hours=1))
    assert (retried.status, retried.queued) == (RunStatus.DONE, 1)
    [run] = await job_runs(db, digest.name)
    assert not run.failed and run.outcome == "queued 1"
    assert await outbox_count(db) == 1


async def test_a_slot_being_run_is_not_run_by_another(db: Database) -> None:
    await seed_school(db)
    claim = await claim_slot(
        db, await school_id(db), "test_digest", SLOT, now=SLOT, owner="other:7"
    )
    assert isinstance(claim, Claim)
    digest = RecordingJob()
    outcome = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT + timedelta(minutes=10))
    assert (outcome.status, outcome.detail) == (RunStatus.SKIPPED, "running")
    assert digest.runs == []


async def test_a_slot_left_unfinished_by_a_dead_process_runs_after_an_hour(db: Database) -> None:
    await seed_school(db)
    await claim_slot(db, await school_id(db), "test_digest", SLOT, now=SLOT, owner="dead:7")
    digest = RecordingJob()
    later = SLOT + STALE_AFTER + timedelta(minutes=1)
    outcome = await run_job(db, config(), digest.job, slot=SLOT, now=later)
    assert outcome.status is RunStatus.DONE
    [run] = await job_runs(db, digest.name)
    assert run.owner == "test:1"


async def test_a_run_whose_claim_was_taken_over_cannot_record_its_end(db: Database) -> None:
    await seed_school(db)
    first = await claim_slot(db, await school_id(db), "test_digest", SLOT, now=SLOT, owner="slow:1")
    later = SLOT + STALE_AFTER + timedelta(minutes=1)
    second = await claim_slot(
        db, await school_id(db), "test_digest", SLOT, now=later, owner="fast:2"
    )
    assert isinstance(first, Claim) and isinstance(second, Claim)
    async with db.session() as session:
        assert not await finish_slot(session, first, now=later, outcome="queued 1")
        assert await finish_slot(session, second, now=later, outcome="queued 1")


async def test_without_a_school_the_run_fails_with_a_clear_reason(db: Database) -> None:
    outcome = await run_job(db, config(), RecordingJob().job, slot=SLOT, now=SLOT)
    assert outcome.status is RunStatus.FAILED
    assert "数据库里还没有学校" in outcome.detail


async def test_the_job_is_given_the_slot_the_moment_the_school_and_its_rules(
    db: Database,
) -> None:
    ts = await seed_school(db)
    digest = RecordingJob()
    now = SLOT + timedelta(hours=2)
    await run_job(db, config(digest_time="08:00"), digest.job, slot=SLOT, now=now)
    [jc] = digest.runs
    assert (jc.slot, jc.now, jc.school.id) == (SLOT, now, ts.school.id)
    assert jc.zone.key == "Asia/Shanghai"
    assert jc.rules.digest_time.hour == 8


async def test_a_run_that_queued_messages_wakes_the_delivery_worker(db: Database) -> None:
    await seed_school(db)
    woken: list[bool] = []
    await run_job(
        db, config(), RecordingJob().job, slot=SLOT, now=SLOT, wake=lambda: woken.append(True)
    )
    assert woken == [True]


async def test_a_run_that_queued_nothing_does_not_wake_the_worker(db: Database) -> None:
    await seed_school(db)
    woken: list[bool] = []
    quiet = RecordingJob(chats=())
    outcome = await run_job(
        db, config(), quiet.job, slot=SLOT, now=SLOT, wake=lambda: woken.append(True)
    )
    assert (outcome.status, outcome.queued, outcome.messages) == (RunStatus.DONE, 0, ())
    assert woken == []


async def test_the_outcome_lists_the_messages_the_run_queued(db: Database) -> None:
    await seed_school(db)
    outcome = await run_job(db, config(), RecordingJob(chats=("42", "43")).job, slot=SLOT, now=SLOT)
    assert [m.key for m in outcome.messages] == [
        "test_digest:2026-11-16T07:30:42",
        "test_digest:2026-11-16T07:30:43",
    ]


async def test_a_run_in_quiet_hours_queues_for_the_morning(db: Database) -> None:
    await seed_school(db)
    night = local("2026-11-16 22:00")
    outcome = await run_job(db, config(), RecordingJob().job, slot=night, now=night)
    [message] = outcome.messages
    assert message.due_at == local("2026-11-17 07:00")


async def test_a_restart_between_enqueue_and_send_delivers_each_message_once(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    clock.now = SLOT
    digest = RecordingJob(chats=("42", "43"))
    await run_job(db, config(), digest.job, slot=SLOT, now=SLOT)
    # The bot stops right after the run committed, before sending anything; the new process
    # runs the catch-up again (the slot is taken) and a fresh worker sends what was queued.
    again = await run_job(db, config(), digest.job, slot=SLOT, now=SLOT + timedelta(minutes=3))
    assert again.status is RunStatus.SKIPPED
    channel = RecordingChannel()
    assert await DeliveryWorker(db, {"fake": channel}, clock).run_once() == 2
    assert await DeliveryWorker(db, {"fake": channel}, clock).run_once() == 0
    assert sorted(channel.sent) == [("42", "提醒 42"), ("43", "提醒 43")]


async def test_a_worker_stopping_after_claiming_leaves_the_messages_to_the_next_once(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    clock.now = SLOT
    await run_job(db, config(), RecordingJob(chats=("42", "43")).job, slot=SLOT, now=SLOT)
    dying = DeliveryWorker(db, {"fake": RecordingChannel()}, clock)
    assert len(await dying.claim()) == 2  # then the process stops before sending
    clock.advance(minutes=5)  # past the lease
    channel = RecordingChannel()
    await DeliveryWorker(db, {"fake": channel}, clock).run_once()
    await DeliveryWorker(db, {"fake": channel}, clock).run_once()
    assert sorted(chat for chat, _ in channel.sent) == ["42", "43"]
    async with db.session() as session:
        statuses = (await session.exec(select(OutboxMessage.status))).all()
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SENT]


async def test_a_failed_mark_is_cleared_when_the_slot_is_claimed_again(db: Database) -> None:
    await seed_school(db)
    await claim_slot(db, await school_id(db), "test_digest", SLOT, now=SLOT, owner="a:1")
    async with db.session() as session:
        await session.exec(
            update(JobRun).where(col(JobRun.job) == "test_digest").values(failed=True)
        )
    again = await claim_slot(db, await school_id(db), "test_digest", SLOT, now=SLOT, owner="b:2")
    assert isinstance(again, Claim)
    [run] = await job_runs(db, "test_digest")
    assert (run.owner, run.failed, run.finished_at) == ("b:2", False, None)
