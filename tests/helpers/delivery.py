"""Delivery tests: a channel that records what the worker sends, a worker on the fake clock,
and a message put in the outbox."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from bot.channels.base import SendError
from bot.delivery.worker import DeliveryWorker
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import enqueue
from tests.helpers.clock import FakeClock
from tests.helpers.outbox import school_for_rows


class RecordingChannel:
    """A channel that records what it sends and fails as it is told to."""

    name = "fake"
    rate_per_second = 1000.0
    rate_per_chat_per_second = 1000.0

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failures: deque[SendError] = deque()
        self.hang: asyncio.Event | None = None

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.hang is not None:
            self.hang.set()
            await asyncio.Event().wait()  # the request left; the worker dies waiting
        if self.failures:
            raise self.failures.popleft()
        self.sent.append((chat_id, reply.text))


def make_worker(
    db: Database, channel: RecordingChannel, clock: FakeClock, **options: Any
) -> DeliveryWorker:
    """A worker whose rate limiter runs on the fake clock too (a retry_after pause ends)."""
    return DeliveryWorker(
        db, {"fake": channel}, clock, monotonic=lambda: clock().timestamp(), **options
    )


async def put(
    db: Database, clock: FakeClock, key: str, *, chat_id: str = "42", channel: str = "fake"
) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key=key,
            kind="test",
            channel=channel,
            chat_id=chat_id,
            payload=Reply(f"通知 {key}").to_dict(),
            due_at=clock(),
        )
