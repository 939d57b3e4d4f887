"""Settling what the worker could not know: unknown outcomes, and why a send failed for good."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.channels.base import UnknownSendOutcome
from models.db.engine import Database
from models.outbox.outcomes import (
    FailureReason,
    delivery_counts,
    failure_reason,
    settle_unknown,
    unknown_outcomes,
)
from models.outbox.tables import OutboxMessage, OutboxStatus
from tests.helpers.clock import FakeClock
from tests.helpers.delivery import RecordingChannel, make_worker, put


async def status_of(db: Database, key: str) -> OutboxStatus:
    async with db.session() as session:
        query = select(OutboxMessage.status).where(OutboxMessage.key == key)
        return OutboxStatus((await session.exec(query)).one())


async def an_unknown_row(db: Database, clock: FakeClock, key: str) -> RecordingChannel:
    channel = RecordingChannel()
    await put(db, clock, key)
    channel.failures.append(UnknownSendOutcome("TimedOut"))
    await make_worker(db, channel, clock).run_once()
    assert await status_of(db, key) is OutboxStatus.UNKNOWN
    return channel


async def test_a_receipt_settles_an_unknown_message_as_sent_without_sending_it_again(
    db: Database, clock: FakeClock
) -> None:
    channel = await an_unknown_row(db, clock, "notice:1:guardian:5:fake")
    async with db.session() as session:
        assert await settle_unknown(
            session=session, key="notice:1:guardian:5:fake", delivered=True, now=clock()
        )
    await make_worker(db, channel, clock).run_once()
    assert await status_of(db, "notice:1:guardian:5:fake") is OutboxStatus.SENT
    assert channel.sent == []


async def test_an_unknown_message_a_person_decides_to_resend_is_sent_once_more(
    db: Database, clock: FakeClock
) -> None:
    channel = await an_unknown_row(db, clock, "notice:1:guardian:6:fake")
    async with db.session() as session:
        await settle_unknown(
            session=session, key="notice:1:guardian:6:fake", delivered=False, now=clock()
        )
    worker = make_worker(db, channel, clock)
    await worker.run_once()
    await worker.run_once()
    assert channel.sent == [("42", "通知 notice:1:guardian:6:fake")]
    assert await status_of(db, "notice:1:guardian:6:fake") is OutboxStatus.SENT


async def test_settling_twice_or_settling_a_sent_message_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    await an_unknown_row(db, clock, "notice:1:guardian:7:fake")
    async with db.session() as session:
        first = await settle_unknown(
            session=session, key="notice:1:guardian:7:fake", delivered=True, now=clock()
        )
        again = await settle_unknown(
            session=session, key="notice:1:guardian:7:fake", delivered=False, now=clock()
        )
    assert (first, again) == (True, False)
    assert await status_of(db, "notice:1:guardian:7:fake") is OutboxStatus.SENT


async def test_a_notice_lists_its_unknown_messages_and_counts_every_state(
    db: Database, clock: FakeClock
) -> None:
    channel = await an_unknown_row(db, clock, "notice:1:guardian:1:fake")
    await put(db, clock, "notice:1:guardian:2:fake")
    await put(db, clock, "notice:1:guardian:3:fake")
    await put(db, clock, "notice:2:guardian:1:fake")  # another notice
    await make_worker(db, channel, clock).run_once()
    await put(db, clock, "notice:1:guardian:4:fake")
    async with db.session() as session:
        unknown = await unknown_outcomes(session=session, key_prefix="notice:1:")
        counts = await delivery_counts(session=session, key_prefix="notice:1:")
    assert [row.key for row in unknown] == ["notice:1:guardian:1:fake"]
    assert counts == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENDING: 0,
        OutboxStatus.SENT: 2,
        OutboxStatus.FAILED: 0,
        OutboxStatus.UNKNOWN: 1,
    }


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("blocked: PermanentSendError: Forbidden: bot was blocked by the user", "blocked"),
        ("chat_not_found: PermanentSendError: Chat not found", "chat_not_found"),
        ("gave_up: gave up after 8 attempts; last: NetworkError", "gave_up"),
        ("UnknownSendOutcome: TimedOut", None),
        ("", None),
    ],
)
def test_the_reason_of_a_failure_is_read_from_the_recorded_error(
    error: str, reason: str | None
) -> None:
    found = failure_reason(error)
    assert found == (FailureReason(reason) if reason else None)
