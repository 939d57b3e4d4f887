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
from tests.helpers.outbox import another_school_s_row, school_for_rows


async def status_of(db: Database, key: str, *, school_id: int | None = None) -> OutboxStatus:
    async with db.session() as session:
        query = select(OutboxMessage.status).where(
            OutboxMessage.key == key,
            OutboxMessage.school_id == (school_id or await school_for_rows(session)),
        )
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
            session=session,
            school_id=await school_for_rows(session),
            key="notice:1:guardian:5:fake",
            delivered=True,
            now=clock(),
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
            session=session,
            school_id=await school_for_rows(session),
            key="notice:1:guardian:6:fake",
            delivered=False,
            now=clock(),
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
        school_id = await school_for_rows(session)
        key = "notice:1:guardian:7:fake"
        first = await settle_unknown(
            session=session, school_id=school_id, key=key, delivered=True, now=clock()
        )
        again = await settle_unknown(
            session=session, school_id=school_id, key=key, delivered=False, now=clock()
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
        school_id = await school_for_rows(session)
        unknown = await unknown_outcomes(
            session=session, school_id=school_id, key_prefix="notice:1:"
        )
        counts = await delivery_counts(session=session, school_id=school_id, key_prefix="notice:1:")
    assert [row.key for row in unknown] == ["notice:1:guardian:1:fake"]
    assert counts == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENDING: 0,
        OutboxStatus.SENT: 2,
        OutboxStatus.FAILED: 0,
        OutboxStatus.UNKNOWN: 1,
    }


async def test_another_school_s_row_with_the_same_key_is_neither_listed_counted_nor_settled(
    db: Database, clock: FakeClock
) -> None:
    """Keys are unique within a school only: the second school's `notice:1:…` is its own."""
    await an_unknown_row(db, clock, "notice:1:guardian:1:fake")
    async with db.session() as session:
        first = await school_for_rows(session)
    second = await another_school_s_row(
        db, key="notice:1:guardian:1:fake", kind="test", status=OutboxStatus.UNKNOWN
    )
    async with db.session() as session:
        unknown = await unknown_outcomes(session=session, school_id=first, key_prefix="notice:1:")
        counts = await delivery_counts(session=session, school_id=first, key_prefix="notice:1:")
        settled = await settle_unknown(
            session=session,
            school_id=second,
            key="notice:1:guardian:1:fake",
            delivered=True,
            now=clock(),
        )
    assert [row.school_id for row in unknown] == [first]
    assert counts[OutboxStatus.UNKNOWN] == 1 and sum(counts.values()) == 1
    assert settled
    assert await status_of(db, "notice:1:guardian:1:fake", school_id=first) is OutboxStatus.UNKNOWN
    assert await status_of(db, "notice:1:guardian:1:fake", school_id=second) is OutboxStatus.SENT


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
