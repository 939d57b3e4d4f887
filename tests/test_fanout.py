"""A fan-out through the real outbox worker and the real Telegram channel, against a fake Bot
API that enforces Telegram's flood limits: the limits are kept, 429s honoured, permanent
failures recorded and never retried, timeouts never repeated."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from bot.channels.telegram_render import CHANNEL
from bot.delivery.worker import DeliveryWorker
from handlers.types import Reply
from models.db.columns import utcnow
from models.db.engine import Database
from models.outbox.outcomes import FailureReason, failure_reason
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from tests.fakes.telegram_request import Failure, FakeBotApi, RateLimit
from tests.helpers.clock import FakeClock
from tests.helpers.outbox import outbox_row, school_for_rows
from tests.helpers.telegram_line import paced_by, received, telegram


async def put(
    db: Database, key: str, chat_id: str, *, text: str = "", due: FakeClock | None = None
) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key=key,
            kind="notice",
            channel=CHANNEL,
            chat_id=chat_id,
            payload=Reply(text or f"通知 {key}").to_dict(),
            due_at=due() if due is not None else None,
        )


async def open_rows(db: Database) -> int:
    async with db.session() as session:
        open_states = [OutboxStatus.PENDING, OutboxStatus.SENDING]
        query = select(func.count()).where(col(OutboxMessage.status).in_(open_states))
        return int((await session.exec(query)).one())


async def settled(db: Database, within: float = 20.0) -> None:
    """Wait until no row is pending or sending."""
    for _ in range(int(within / 0.1)):
        if not await open_rows(db):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox was not delivered in time")


def test_the_fake_bot_api_refuses_a_31st_message_in_a_second_and_a_2nd_in_a_chat() -> None:
    now = [0.0]
    limits = RateLimit(clock=lambda: now[0])
    assert [limits.admit(str(chat)) for chat in range(30)] == [None] * 30
    assert limits.admit("another") == 1  # the bot-wide limit
    now[0] = 1.0
    assert limits.admit("0") is None  # a second later there is room again
    assert limits.admit("0") == 1  # the per-chat limit
    assert limits.refused == 2
    assert (limits.peak(), limits.peak(per_chat=True)) == (31, 2)


async def test_a_fan_out_with_live_answers_never_goes_over_telegrams_limits(
    db: Database,
) -> None:
    """60 chats, one of them getting three notices and one a notice in two pieces, while the
    bot answers people at 5 a second: measured at the fake, every second stays within the
    limits (refused calls included), and every chat gets exactly its messages."""
    expected: Counter[str] = Counter()
    for n in range(57):
        await put(db, f"notice:1:guardian:{n}:telegram", str(7000 + n))
        expected[str(7000 + n)] += 1
    for n in range(3):
        await put(db, f"notice:{2 + n}:guardian:0:telegram", "7000")
        expected["7000"] += 1
    await put(db, "notice:9:guardian:1:telegram", "7001", text="长" * 5000)
    expected["7001"] += 2
    api = FakeBotApi(rate_limit=RateLimit())
    async with telegram(api) as line:
        worker = DeliveryWorker(db, {CHANNEL: line.channel}, utcnow, poll_interval=0.2)
        running = asyncio.create_task(worker.run_forever())

        async def answer_people() -> None:
            for n in range(10):
                await line.bot.send_message(chat_id=9000 + n, text="好的，已记录。")
                expected[str(9000 + n)] += 1
                await asyncio.sleep(0.2)

        await answer_people()
        await settled(db)
        worker.stop()
        await running
    limits = api.rate_limit
    assert limits is not None
    assert limits.refused == 0
    assert limits.peak() <= 30
    assert limits.peak(per_chat=True) <= 1
    assert received(api) == expected


async def test_a_429_is_honoured_for_the_chat_and_for_the_whole_bot(
    db: Database, clock: FakeClock
) -> None:
    api = FakeBotApi()
    api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=30)
    await put(db, "n:1", "5001", due=clock)
    await put(db, "n:2", "5002", due=clock)
    async with telegram(api, paced_by(clock)) as line:
        worker = DeliveryWorker(
            db, {CHANNEL: line.channel}, clock, concurrency=1, monotonic=paced_by(clock)
        )
        await worker.run_once()
        refused, waiting = await outbox_row(db, "n:1"), await outbox_row(db, "n:2")
        assert (refused.status, refused.attempts) == (OutboxStatus.PENDING, 1)
        assert refused.due_at == clock() + timedelta(seconds=30)
        # the other chat waits too, without using an attempt or reaching Telegram
        assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 0)
        assert waiting.due_at >= clock() + timedelta(seconds=29)
        assert len(api.calls_of("sendMessage")) == 1
        clock.advance(seconds=29)
        assert await worker.run_once() == 0
        clock.advance(seconds=2)
        await worker.run_once()
    assert [(await outbox_row(db, k)).status for k in ("n:1", "n:2")] == [OutboxStatus.SENT] * 2
    assert received(api) == Counter({"5001": 1, "5002": 1})
    assert len(api.calls_of("sendMessage")) == 3  # the refused try and the two deliveries


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Failure.BLOCKED, FailureReason.BLOCKED),
        (Failure.DEACTIVATED, FailureReason.DEACTIVATED),
        (Failure.CHAT_NOT_FOUND, FailureReason.CHAT_NOT_FOUND),
    ],
)
async def test_a_guardian_who_cannot_be_reached_is_recorded_and_never_retried(
    db: Database, clock: FakeClock, failure: Failure, reason: FailureReason
) -> None:
    api = FakeBotApi()
    api.fail("sendMessage", failure)
    await put(db, "n:1", "5001", due=clock)
    async with telegram(api, paced_by(clock)) as line:
        worker = DeliveryWorker(db, {CHANNEL: line.channel}, clock, monotonic=paced_by(clock))
        await worker.run_once()
        clock.advance(days=1)
        await worker.run_once()
    failed = await outbox_row(db, "n:1")
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert failure_reason(failed.error) is reason
    assert len(api.calls_of("sendMessage")) == 1


async def test_a_send_that_timed_out_after_it_left_is_never_repeated(
    db: Database, clock: FakeClock
) -> None:
    api = FakeBotApi()
    api.fail("sendMessage", Failure.TIMEOUT)  # it arrives; the answer is lost
    await put(db, "n:1", "5001", due=clock)
    async with telegram(api, paced_by(clock)) as line:
        worker = DeliveryWorker(db, {CHANNEL: line.channel}, clock, monotonic=paced_by(clock))
        await worker.run_once()
        clock.advance(days=1)
        await worker.run_once()
    assert (await outbox_row(db, "n:1")).status is OutboxStatus.UNKNOWN
    assert received(api) == Counter({"5001": 1})


async def test_a_network_failure_before_the_request_left_is_retried_after_a_back_off(
    db: Database, clock: FakeClock
) -> None:
    api = FakeBotApi()
    api.fail("sendMessage", Failure.NETWORK)  # the connection failed: nothing left
    await put(db, "n:1", "5001", due=clock)
    async with telegram(api, paced_by(clock)) as line:
        worker = DeliveryWorker(db, {CHANNEL: line.channel}, clock, monotonic=paced_by(clock))
        await worker.run_once()
        waiting = await outbox_row(db, "n:1")
        assert (waiting.status, waiting.due_at) == (
            OutboxStatus.PENDING,
            clock() + timedelta(seconds=5),
        )
        clock.advance(seconds=6)
        await worker.run_once()
    assert (await outbox_row(db, "n:1")).status is OutboxStatus.SENT
    assert received(api) == Counter({"5001": 1})
