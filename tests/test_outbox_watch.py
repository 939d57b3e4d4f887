"""One look at the outbox for every school's worker in a process (`bot.delivery.watch`): only the
workers with something to claim or to recover are woken, and their own polling slows down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, update

from bot.delivery.watch import SAFETY_POLL, OutboxWatch
from bot.delivery.worker import DeliveryWorker
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from tests.helpers.clock import FakeClock
from tests.helpers.delivery import RecordingChannel, make_worker
from tests.helpers.factories import seed_school


async def _row(
    db: Database, school_id: int, key: str, clock: FakeClock, *, channel: str = "fake", **due: int
) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=school_id,
            key=key,
            kind="test",
            channel=channel,
            chat_id="42",
            payload=Reply(key).to_dict(),
            due_at=clock() + timedelta(minutes=due.get("in_minutes", 0)),
        )
        await session.commit()


def _woken(worker: DeliveryWorker) -> bool:
    woken = worker._wake.is_set()
    worker._wake.clear()
    return woken


@pytest.fixture
async def schools(db: Database) -> list[int]:
    return [(await seed_school(db, name=name)).school.id or 0 for name in ("一小", "二小", "三小")]


async def test_only_the_schools_with_rows_to_claim_or_recover_are_woken(
    db: Database, clock: FakeClock, schools: list[int]
) -> None:
    one, two, three = schools
    workers = [make_worker(db, RecordingChannel(), clock, school_id=s) for s in schools]
    watch = OutboxWatch(db, clock=clock)
    for school_id, worker in zip(schools, workers, strict=True):
        watch.watch(school_id, worker)
        assert worker.poll_interval == SAFETY_POLL
    assert await watch.look() == []  # nothing queued: nobody woken
    await _row(db, one, "due-now", clock)
    await _row(db, two, "later", clock, in_minutes=30)  # quiet hours: not yet
    await _row(db, three, "other-channel", clock, channel="wecom")  # not this worker's channel
    assert await watch.look() == [one]
    assert [_woken(w) for w in workers] == [True, False, False]
    # 二小's row was claimed by a worker that died: its lease ran out, so it is 二小's to recover.
    async with db.session() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.key) == "later")
            .values(status=OutboxStatus.SENDING, lease_until=clock() - timedelta(seconds=1))
        )
        await session.commit()
    assert await watch.look() == [one, two]
    assert [_woken(w) for w in workers] == [True, True, False]


async def test_a_woken_worker_sends_and_the_next_look_is_quiet(
    db: Database, clock: FakeClock, schools: list[int]
) -> None:
    channel = RecordingChannel()
    worker = make_worker(db, channel, clock, school_id=schools[0])
    watch = OutboxWatch(db, clock=clock)
    watch.watch(schools[0], worker)
    await _row(db, schools[0], "due-now", clock)
    assert await watch.look() == [schools[0]]
    await worker.run_once()
    assert channel.sent == [("42", "due-now")]
    assert await watch.look() == []
