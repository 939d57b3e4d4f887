"""The outbox sender: claims due rows, sends each through its channel, records the outcome.

It knows nothing about any messenger: a `Channel` sends, and says how it failed by the class of
the error it raises (`bot.channels.base`). A row moves through these states
(`models.outbox.OutboxStatus`)::

    pending ──claim──▶ sending (lease_until set, attempted_at empty)
                          │ mark attempted: attempted_at, attempts + 1   (the request may leave)
                          ▼
                       sending (attempted_at set) ──▶ sent
                                                  ├─▶ failed    permanent error, or too many tries
                                                  ├─▶ unknown   the request left, no answer
                                                  └─▶ pending   retryable: due_at moved later

A worker can die anywhere. Another worker looks only at rows whose lease has run out:

* `sending`, lease over, `attempted_at` empty: it died before sending → claimable again;
* `sending`, lease over, `attempted_at` set: it died after the request may have left →
  `unknown`. Sending it again could deliver a notice twice, so we never do it blindly; the
  receipt (回执) settles whether it arrived.

Claims are guarded UPDATEs (`… WHERE id = ? AND <still claimable>`), so two workers never both
win a row; on PostgreSQL the candidates are first locked with `FOR UPDATE SKIP LOCKED` so workers
do not even wait for each other. The lease end a worker wrote is its fencing token: every later
write checks it, so a worker that lost its lease (it stalled past the end) cannot overwrite the
new owner's claim. A re-claim always sets a later lease end, so tokens never repeat.

Rows with the same key are one row (`models.outbox.enqueue`), so enqueueing twice sends once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from bot.channels.base import (
    Channel,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownSendOutcome,
)
from bot.db import Database
from handlers.types import Reply
from models.base import utcnow
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class RateLimiter:
    """Spacing between sends: at most `per_second` overall and `per_key_per_second` per chat.

    `reserve` books the next free slot and says how long to wait for it; a `retry_after` from
    the messenger pauses one chat (`pause`) or the whole channel (`pause_all`).
    """

    def __init__(
        self,
        per_second: float,
        per_key_per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gap = 1.0 / per_second
        self._key_gap = 1.0 / per_key_per_second
        self._monotonic = monotonic
        self._next_any = 0.0
        self._next_key: dict[str, float] = {}

    def delay(self, key: str) -> float:
        """Seconds until a send to `key` would be allowed (without booking it)."""
        ready = max(self._next_any, self._next_key.get(key, 0.0))
        return max(0.0, ready - self._monotonic())

    def reserve(self, key: str) -> float:
        now = self._monotonic()
        at = max(now, self._next_any, self._next_key.get(key, 0.0))
        self._next_any = at + self._gap
        self._next_key[key] = at + self._key_gap
        if len(self._next_key) > 10_000:  # forget chats that are free again
            self._next_key = {k: v for k, v in self._next_key.items() if v > now}
        return at - now

    def pause(self, key: str, seconds: float) -> None:
        until = self._monotonic() + seconds
        self._next_key[key] = max(self._next_key.get(key, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        self._next_any = max(self._next_any, self._monotonic() + seconds)


@dataclass(frozen=True)
class Claim:
    """A row this worker holds; `lease_until` is the fencing token of the claim."""

    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    lease_until: datetime


def backoff(attempts: int, *, base: float = 5.0, cap: float = 3600.0) -> timedelta:
    """Wait before retry number `attempts` (1, 2, …): 5 s, 10 s, 20 s, … at most an hour."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _short(exc: BaseException) -> str:
    """The error text we store: the class and the messenger's own words (no message content)."""
    return f"{type(exc).__name__}: {exc}"[:500]


class DeliveryWorker:
    """Sends due outbox rows for the channels it is given; rows of other channels are left alone."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        clock: Clock = utcnow,
        *,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 50,
        concurrency: int = 8,
        max_attempts: int = 8,
        max_wait: float = 5.0,
        poll_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.clock = clock
        self.lease = lease
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        #: A row whose chat is paused longer than this goes back to `pending` instead of waiting.
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self._limiters = {
            name: RateLimiter(
                channel.rate_per_second, channel.rate_per_chat_per_second, monotonic=monotonic
            )
            for name, channel in self.channels.items()
        }
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False

    # -- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run_forever` to return after the round in progress."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        self._stopping = False
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox delivery round failed; trying again shortly")
                handled = 0
            if self._stopping or handled >= self.batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def run_once(self) -> int:
        """Claim the due rows and send them; returns how many rows were handled."""
        if not self.channels:
            return 0
        recovered = await self._recover_unknown()
        claims = await self.claim()
        await asyncio.gather(*(self.deliver(claim) for claim in claims))
        return recovered + len(claims)

    # -- claiming -----------------------------------------------------------------------------

    def _ours(self) -> ColumnElement[bool]:
        return col(OutboxMessage.channel).in_(list(self.channels))

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.due_at) <= now,
            ),
            and_(
                col(OutboxMessage.status) == OutboxStatus.SENDING,
                col(OutboxMessage.lease_until) < now,
                col(OutboxMessage.attempted_at).is_(None),
            ),
        )

    async def _recover_unknown(self) -> int:
        """Rows whose worker died after the request may have left: record them as unknown."""
        now = self.clock()
        statement = (
            update(OutboxMessage)
            .where(
                self._ours(),
                col(OutboxMessage.status) == OutboxStatus.SENDING,
                col(OutboxMessage.lease_until) < now,
                col(OutboxMessage.attempted_at).is_not(None),
            )
            .values(
                status=OutboxStatus.UNKNOWN,
                error="worker stopped after the request may have left; not resent",
            )
        )
        async with self.db.session() as session:
            count = (await session.exec(statement)).rowcount
        if count:
            log.warning(
                "%d outbox message(s) have an unknown outcome after a worker stopped", count
            )
        return count

    async def claim(self) -> list[Claim]:
        """Take up to `batch_size` due rows of our channels (a lease each); see the module doc."""
        now = self.clock()
        lease_until = now + self.lease
        candidates = (
            select(OutboxMessage)
            .where(self._ours(), self._claimable(now))
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
            .limit(self.batch_size)
        )
        claims: list[Claim] = []
        async with self.db.session() as session:
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            rows = (await session.exec(candidates)).all()
            for row in rows:
                assert row.id is not None
                guarded = (
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == row.id, self._claimable(now))
                    .values(status=OutboxStatus.SENDING, lease_until=lease_until, attempted_at=None)
                )
                if (await session.exec(guarded)).rowcount == 1:
                    claims.append(
                        Claim(
                            id=row.id,
                            channel=row.channel,
                            chat_id=row.chat_id,
                            payload=dict(row.payload),
                            attempts=row.attempts,
                            lease_until=lease_until,
                        )
                    )
        return claims

    async def _update_claimed(
        self, claim: Claim, *conditions: ColumnElement[bool], **values: Any
    ) -> bool:
        """Write to a row only while this worker's claim on it stands (the fencing token)."""
        statement = (
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claim.id,
                col(OutboxMessage.lease_until) == claim.lease_until,
                *conditions,
            )
            .values(**values)
        )
        async with self.db.session() as session:
            return (await session.exec(statement)).rowcount == 1

    # -- sending ------------------------------------------------------------------------------

    async def deliver(self, claim: Claim) -> None:
        """Send one claimed row at the channel's pace and record what happened."""
        async with self._slots:
            limiter = self._limiters[claim.channel]
            wait = limiter.delay(claim.chat_id)
            if wait > self.max_wait:
                await self._update_claimed(
                    claim,
                    status=OutboxStatus.PENDING,
                    due_at=self.clock() + timedelta(seconds=wait),
                    lease_until=None,
                )
                return
            await asyncio.sleep(limiter.reserve(claim.chat_id))
            attempts = claim.attempts + 1
            marked = await self._update_claimed(
                claim,
                col(OutboxMessage.status) == OutboxStatus.SENDING,
                col(OutboxMessage.attempted_at).is_(None),
                attempted_at=self.clock(),
                attempts=attempts,
            )
            if not marked:
                log.warning(
                    "outbox row %d: claim lost before sending; left to its new owner", claim.id
                )
                return
            try:
                await self.channels[claim.channel].send(
                    claim.chat_id, Reply.from_dict(claim.payload)
                )
            except SendError as exc:
                await self._record_failure(claim, attempts, exc, limiter)
            except Exception as exc:
                # Not a classified failure: we cannot tell whether it left, so treat it as unknown.
                log.exception("outbox row %d: unexpected error while sending", claim.id)
                await self._record_failure(
                    claim, attempts, UnknownSendOutcome(_short(exc)), limiter
                )
            else:
                await self._update_claimed(
                    claim,
                    status=OutboxStatus.SENT,
                    sent_at=self.clock(),
                    lease_until=None,
                    error="",
                )

    async def _record_failure(
        self, claim: Claim, attempts: int, exc: SendError, limiter: RateLimiter
    ) -> None:
        now = self.clock()
        if isinstance(exc, RetryableSendError):
            if exc.retry_after:
                limiter.pause(claim.chat_id, exc.retry_after)
            if attempts >= self.max_attempts:
                status = OutboxStatus.FAILED
                error = f"gave up after {attempts} attempts; last: {_short(exc)}"
                due_at = now
            else:
                status = OutboxStatus.PENDING
                error = _short(exc)
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(attempts)
                due_at = now + wait
            log.info(
                "outbox row %d: retryable error (%s), attempt %d",
                claim.id,
                type(exc).__name__,
                attempts,
            )
            await self._update_claimed(
                claim,
                status=status,
                due_at=due_at,
                lease_until=None,
                attempted_at=None,
                error=error[:500],
            )
            return
        status = (
            OutboxStatus.FAILED if isinstance(exc, PermanentSendError) else OutboxStatus.UNKNOWN
        )
        log.warning("outbox row %d: %s (%s)", claim.id, status.value, type(exc).__name__)
        await self._update_claimed(claim, status=status, lease_until=None, error=_short(exc))
