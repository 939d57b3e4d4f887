"""A sender killed in the middle of a fan-out: its heir, after the lease, delivers every
remaining message exactly once; a message whose request had left is `unknown`, never resent,
and is settled by what the recipient shows (the receipt), never by a blind resend."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlmodel import col, select

from bot.channels.telegram_render import CHANNEL
from bot.delivery.worker import DeliveryWorker
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.outcomes import delivery_counts, settle_unknown, unknown_outcomes
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest, RateLimit
from tests.helpers.clock import FakeClock
from tests.helpers.outbox import school_for_rows
from tests.helpers.telegram_line import paced_by, received, telegram

FAN_OUT = 40
PREFIX = "notice:1:"


class CutOff(FakeTelegramRequest):
    """The Bot API over a line that goes dead after `after` messages: that message arrives,
    its answer never comes back (the process is killed while waiting for it)."""

    def __init__(self, api: FakeBotApi, after: int) -> None:
        super().__init__(api)
        self.after = after
        self.dead = asyncio.Event()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        answer = await super().do_request(url, method, *args, **kwargs)
        if url.endswith("/sendMessage") and len(self.api.delivered()) >= self.after:
            self.dead.set()
            await asyncio.Event().wait()
        return answer


class Family:
    """A channel that delivers into a list, and can die at the N-th send: before it (the
    process dies between claim and send), or after the message left and before the worker
    hears back (between send and record)."""

    name = "fake"
    rate_per_second = 1000.0
    rate_per_chat_per_second = 1000.0

    def __init__(self) -> None:
        self.received: list[str] = []
        self.hang_after: int | None = None
        self.hanging = asyncio.Event()

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.received.append(chat_id)
        if self.hang_after is not None and len(self.received) >= self.hang_after:
            self.hanging.set()
            await asyncio.Event().wait()  # the answer never comes: the process is killed here


async def fan_out(db: Database, clock: FakeClock, channel: str, count: int = FAN_OUT) -> list[str]:
    """One notice to `count` guardians, one chat each; the chats."""
    chats = [str(8000 + n) for n in range(count)]
    async with db.session() as session:
        for n, chat in enumerate(chats):
            await enqueue(
                session=session,
                school_id=await school_for_rows(session),
                key=f"{PREFIX}guardian:{n}:{channel}",
                kind="notice",
                channel=channel,
                chat_id=chat,
                payload=Reply(f"〔2026〕第012号 通知 {n}").to_dict(),
                due_at=clock(),
            )
    return chats


async def statuses(db: Database) -> dict[str, OutboxStatus]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {row.chat_id: row.status for row in rows}


def worker_for(
    db: Database, channel: Family, clock: FakeClock, *, concurrency: int = 8
) -> DeliveryWorker:
    return DeliveryWorker(
        db, {"fake": channel}, clock, monotonic=paced_by(clock), concurrency=concurrency
    )


async def test_a_sender_killed_between_claim_and_send_leaves_the_rest_to_its_heir_once(
    db: Database, clock: FakeClock
) -> None:
    chats = await fan_out(db, clock, "fake")
    family = Family()
    dead = worker_for(db, family, clock)
    claims = await dead.claim()
    assert len(claims) == FAN_OUT
    for claim in claims[:15]:
        await dead.deliver(claim)
    # … the process dies here, 25 rows claimed and never sent.
    heir = worker_for(db, family, clock)
    assert await heir.run_once() == 0  # their lease still runs: nobody else may send them
    clock.advance(minutes=3)
    while await heir.run_once():
        pass
    assert Counter(family.received) == Counter(chats)
    assert set((await statuses(db)).values()) == {OutboxStatus.SENT}


async def test_a_sender_killed_between_send_and_record_leaves_that_one_unknown_and_not_resent(
    db: Database, clock: FakeClock
) -> None:
    chats = await fan_out(db, clock, "fake")
    family = Family()
    family.hang_after = 10
    dead = worker_for(db, family, clock, concurrency=1)
    running = asyncio.create_task(dead.run_forever())
    await family.hanging.wait()
    running.cancel()  # killed while the 10th message was out, before its answer was recorded
    await asyncio.gather(running, return_exceptions=True)
    in_flight = family.received[-1]
    family.hang_after = None
    clock.advance(minutes=3)
    heir = worker_for(db, family, clock)
    while await heir.run_once():
        pass
    assert Counter(family.received) == Counter(chats)  # each exactly once, that one included
    states = await statuses(db)
    assert states.pop(in_flight) is OutboxStatus.UNKNOWN
    assert set(states.values()) == {OutboxStatus.SENT}


async def test_a_telegram_fan_out_killed_anywhere_ends_with_every_family_served_exactly_once(
    db: Database, clock: FakeClock
) -> None:
    """The real channel and pace; the sender killed after 12 messages arrived, whatever it was
    doing. The heir never repeats a message; the unknown ones are settled as the notices
    feature settles them: what the recipient shows (a receipt) marks it sent, the rest are
    sent again by a person's decision."""
    chats = await fan_out(db, clock, CHANNEL)
    api = FakeBotApi(rate_limit=RateLimit())
    line_dies = CutOff(api, after=12)
    async with telegram(api, request=line_dies) as line:
        dead = DeliveryWorker(db, {CHANNEL: line.channel}, clock)
        running = asyncio.create_task(dead.run_forever())
        await line_dies.dead.wait()
        running.cancel()  # killed: the 12th message is out, others wait for their slots
        await asyncio.gather(running, return_exceptions=True)
    clock.advance(minutes=3)
    async with telegram(api) as line:  # a new process: a new bot and a new pace
        heir = DeliveryWorker(db, {CHANNEL: line.channel}, clock)
        while await heir.run_once():
            pass
        assert max(received(api).values()) == 1  # nothing was ever sent twice
        async with db.session() as session:
            school_id = await school_for_rows(session)
            unsettled = await unknown_outcomes(
                session=session, school_id=school_id, key_prefix=PREFIX
            )
            assert len(unsettled) >= 1  # at least the one whose answer never came
            for row in unsettled:
                arrived = received(api)[row.chat_id] == 1  # the receipt stands in for this
                await settle_unknown(
                    session=session,
                    school_id=school_id,
                    key=row.key,
                    delivered=arrived,
                    now=clock(),
                )
        while await heir.run_once():
            pass
    assert received(api) == Counter(chats)
    async with db.session() as session:
        counts = await delivery_counts(
            session=session, school_id=await school_for_rows(session), key_prefix=PREFIX
        )
        left = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.status) != OutboxStatus.SENT)
            )
        ).all()
    assert counts[OutboxStatus.SENT] == FAN_OUT
    assert left == []
    assert api.rate_limit is not None and api.rate_limit.refused == 0


async def test_a_sender_killed_during_a_fan_out_leaves_unknown_only_what_had_left(
    db: Database, clock: FakeClock
) -> None:
    """A row is marked attempted only once the pace lets it go, just before its request: the
    rows a killed sender held while they waited for room in the bot's window went nowhere and
    are not `unknown` (which nobody resends) but sent by the heir."""
    await fan_out(db, clock, CHANNEL, count=90)
    api = FakeBotApi(rate_limit=RateLimit())
    line_dies = CutOff(api, after=60)  # past the first second: the window sets the pace
    async with telegram(api, request=line_dies) as line:
        dead = DeliveryWorker(db, {CHANNEL: line.channel}, clock, concurrency=16)
        running = asyncio.create_task(dead.run_forever())
        await line_dies.dead.wait()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    clock.advance(minutes=3)
    async with telegram(api) as line:
        heir = DeliveryWorker(db, {CHANNEL: line.channel}, clock)
        while await heir.run_once():
            pass
    async with db.session() as session:
        unsettled = await unknown_outcomes(
            session=session, school_id=await school_for_rows(session), key_prefix=PREFIX
        )
    arrived = received(api)
    assert [arrived[row.chat_id] for row in unsettled] == [1]  # the one whose answer never came
    assert sum(arrived.values()) == 90 and max(arrived.values()) == 1
