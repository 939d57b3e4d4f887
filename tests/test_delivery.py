"""The outbox delivery worker: each message delivered once, failures classified and recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.channels.base import (
    PermanentSendError,
    RetryableSendError,
    UnknownSendOutcome,
)
from bot.delivery.pacing import RateLimiter
from bot.delivery.worker import DeliveryWorker, backoff
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import OutboxStatus, enqueue
from tests.helpers.clock import FakeClock
from tests.helpers.delivery import RecordingChannel, make_worker, put
from tests.helpers.outbox import outbox_row, school_for_rows


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def worker(db: Database, channel: RecordingChannel, clock: FakeClock) -> DeliveryWorker:
    return make_worker(db, channel, clock)


async def test_a_due_message_is_sent_once_and_recorded_as_sent(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "n1")
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert channel.sent == [("42", "通知 n1")]
    sent = await outbox_row(db, "n1")
    assert (sent.status, sent.attempts, sent.sent_at) == (OutboxStatus.SENT, 1, clock())


async def test_enqueueing_the_same_key_twice_delivers_once(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "twice")
    await put(db, clock, "twice")
    await worker.run_once()
    await worker.run_once()
    assert len(channel.sent) == 1


async def test_a_message_not_yet_due_waits(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key="later",
            kind="test",
            channel="fake",
            chat_id="42",
            payload=Reply("稍后").to_dict(),
            due_at=clock() + timedelta(hours=1),
        )
    assert await worker.run_once() == 0
    clock.advance(hours=1)
    assert await worker.run_once() == 1
    assert channel.sent == [("42", "稍后")]


async def test_a_retryable_error_is_retried_after_retry_after(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "r1")
    channel.failures.append(RetryableSendError("429", retry_after=30))
    await worker.run_once()
    waiting = await outbox_row(db, "r1")
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    assert waiting.due_at == clock() + timedelta(seconds=30)
    assert "429" in waiting.error
    assert await worker.run_once() == 0
    clock.advance(seconds=31)
    await worker.run_once()
    assert channel.sent == [("42", "通知 r1")]
    assert (await outbox_row(db, "r1")).status is OutboxStatus.SENT


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (6, 160), (20, 3600)])
def test_back_off_doubles_from_five_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert backoff(attempts) == timedelta(seconds=seconds)


async def test_a_permanent_error_is_recorded_and_not_retried(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "p1")
    channel.failures.append(PermanentSendError("Forbidden: bot was blocked by the user"))
    await worker.run_once()
    clock.advance(days=1)
    await worker.run_once()
    failed = await outbox_row(db, "p1")
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert "blocked" in failed.error
    assert channel.sent == []


async def test_an_unknown_outcome_is_recorded_and_not_resent(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "u1")
    channel.failures.append(UnknownSendOutcome("TimedOut"))
    await worker.run_once()
    clock.advance(days=1)
    await worker.run_once()
    assert (await outbox_row(db, "u1")).status is OutboxStatus.UNKNOWN
    assert channel.sent == []


async def test_too_many_retryable_failures_end_as_failed(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    worker = make_worker(db, channel, clock, max_attempts=2)
    await put(db, clock, "flaky")
    channel.failures.extend([RetryableSendError("network"), RetryableSendError("network")])
    await worker.run_once()
    clock.advance(minutes=1)
    await worker.run_once()
    gave_up = await outbox_row(db, "flaky")
    assert (gave_up.status, gave_up.attempts) == (OutboxStatus.FAILED, 2)
    assert "gave up after 2 attempts" in gave_up.error


async def test_a_worker_killed_between_claim_and_send_delivers_exactly_once(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "k1")
    dead = make_worker(db, channel, clock)
    assert len(await dead.claim()) == 1  # … and the process dies here, before sending
    heir = make_worker(db, channel, clock)
    assert await heir.run_once() == 0  # the lease still runs: nobody else may send it
    clock.advance(minutes=3)
    await heir.run_once()
    await heir.run_once()
    assert channel.sent == [("42", "通知 k1")]
    assert (await outbox_row(db, "k1")).status is OutboxStatus.SENT


async def test_a_worker_killed_after_the_request_left_never_resends(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "k2")
    dead = make_worker(db, channel, clock)
    channel.hang = asyncio.Event()
    claims = await dead.claim()
    sending = asyncio.create_task(dead.deliver(claims[0]))
    await channel.hang.wait()
    sending.cancel()  # killed while the request was out
    channel.hang = None
    clock.advance(minutes=3)
    heir = make_worker(db, channel, clock)
    assert await heir.run_once() == 1
    await heir.run_once()
    lost = await outbox_row(db, "k2")
    assert (lost.status, lost.attempts) == (OutboxStatus.UNKNOWN, 1)
    assert channel.sent == []


async def test_a_worker_that_lost_its_lease_does_not_send(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "slow")
    slow = make_worker(db, channel, clock)
    stale = await slow.claim()
    clock.advance(minutes=3)
    fast = make_worker(db, channel, clock)
    await fast.run_once()
    await slow.deliver(stale[0])  # wakes up after its lease was taken over
    assert channel.sent == [("42", "通知 slow")]


async def test_messages_of_other_channels_are_left_alone(
    db: Database, worker: DeliveryWorker, channel: RecordingChannel, clock: FakeClock
) -> None:
    await put(db, clock, "wecom-1", channel="wecom")
    assert await worker.run_once() == 0
    assert (await outbox_row(db, "wecom-1")).status is OutboxStatus.PENDING


async def test_a_chat_paused_by_retry_after_waits_without_using_an_attempt(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    worker = make_worker(db, channel, clock, concurrency=1)
    await put(db, clock, "a")
    await put(db, clock, "b")
    channel.failures.append(RetryableSendError("429", retry_after=30))
    await worker.run_once()
    second = await outbox_row(db, "b")
    assert (second.status, second.attempts) == (OutboxStatus.PENDING, 0)
    assert second.due_at > clock() + timedelta(seconds=25)
    assert channel.sent == []


async def test_the_running_worker_is_woken_by_a_new_message(
    db: Database, channel: RecordingChannel, clock: FakeClock
) -> None:
    worker = make_worker(db, channel, clock, poll_interval=60)
    running = asyncio.create_task(worker.run_forever())
    await asyncio.sleep(0.05)
    await put(db, clock, "w1")
    worker.wake()
    for _ in range(100):
        if channel.sent:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(running, 5)
    assert channel.sent == [("42", "通知 w1")]


class GatedChannel(RecordingChannel):
    """Holds each send until `gate` opens; `started` is set when the first send begins."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.started.set()
        await self.gate.wait()
        await super().send(chat_id, reply)


async def test_delivering_what_is_due_waits_for_a_send_the_running_worker_started(
    db: Database, clock: FakeClock
) -> None:
    from bot.runner import deliver_due

    channel = GatedChannel()
    worker = make_worker(db, channel, clock, poll_interval=60)
    running = asyncio.create_task(worker.run_forever())
    await put(db, clock, "g1")
    worker.wake()
    await asyncio.wait_for(channel.started.wait(), 5)  # the loop claimed it and is sending
    flushing = asyncio.create_task(deliver_due(worker))
    await asyncio.sleep(0.05)
    assert not flushing.done()  # nothing left to claim, but the send is not finished
    channel.gate.set()
    await asyncio.wait_for(flushing, 5)
    assert channel.sent == [("42", "通知 g1")]
    worker.stop()
    await asyncio.wait_for(running, 5)


@pytest.mark.parametrize(
    ("sends", "expected_waits"),
    [
        ([("a", 0.0)], [0.0]),
        # one a second per chat
        ([("a", 0.0), ("a", 0.0)], [0.0, 1.0]),
        # two a second overall: the third send to any chat waits for its slot
        ([("a", 0.0), ("b", 0.0), ("c", 0.0)], [0.0, 0.5, 1.0]),
        # time passing frees the slots
        ([("a", 0.0), ("a", 2.0)], [0.0, 0.0]),
    ],
)
def test_the_rate_limiter_spaces_sends_overall_and_per_chat(
    sends: list[tuple[str, float]], expected_waits: list[float]
) -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 1.0, monotonic=lambda: now[0])
    waits = []
    for key, at in sends:
        now[0] = at
        waits.append(limiter.reserve(key))
    assert waits == pytest.approx(expected_waits)
