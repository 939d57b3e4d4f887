"""The outbox sender: claims due rows, sends each through its channel, records the outcome.

It knows nothing about any messenger: a `Channel` sends, and says how it failed by the class of
the error it raises (`bot.channels.base`). A row moves through these states
(`models.outbox.tables.OutboxStatus`)::

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

Rows with the same key are one row (`models.outbox.tables.enqueue`), so enqueueing twice sends once.

Schools: a row is its school's (`OutboxMessage.school_id`), sent by that school's bot through that
school's channels. A worker given a school (`school_id`, or `find_school` until the database has
one) claims, recovers and reports only that school's rows, so one `bot run` per school on one
database never sends another school's message with the wrong bot; a worker given none (tests,
tools) serves every school's rows of its channels.

Pace (`bot.delivery.pacing`): each channel has one `RateLimiter`. A channel that brings its own
(`channel.limiter`: Telegram's, shared with the live answers of its update handlers) paces every
API call it makes; otherwise the worker makes one from `rate_per_second` and
`rate_per_chat_per_second` and paces each row. The worker books a row's first slot *before* it
marks the row attempted (`attempted_at`), and hands the booking to the channel (`delivering`),
so waiting for a slot never turns into an `unknown`. A chat paused longer than `max_wait`
(a 429's `retry_after`) sends its row back to `pending`, due when the pause ends, without using
an attempt. Failures:

* retryable (network down before the request left, 429): `pending` again, due after
  `retry_after` or the back-off (5 s, 10 s, 20 s … an hour), `failed` after `max_attempts`;
  a 429 also pauses the chat, and the whole channel when the chat had been spaced properly;
* permanent (blocked by the user, user deactivated, chat not found): `failed`, the reason first
  in `error` (`blocked: …`, see `models.outbox.outcomes.FailureReason`), never retried;
* unknown (timed out after the request left, or partly delivered): `unknown`, never resent.

Unknown rows are settled, not resent: a receipt (回执) from the recipient proves the message
arrived (`models.outbox.outcomes.settle_unknown(delivered=True)` → `sent`); the notices
feature lists the ones left (`unknown_outcomes`) for a person to check and, if need be, send
again (`settle_unknown(delivered=False)` → `pending`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from bot import metrics
from bot.channels.base import (
    Channel,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownSendOutcome,
)
from bot.delivery.pacing import RateLimiter, Throttled, delivering
from handlers.types import Reply
from models.db.columns import utcnow
from models.db.engine import Database
from models.outbox.media import Media
from models.outbox.outcomes import FailureReason
from models.outbox.tables import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


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


def _fenced(*conditions: ColumnElement[bool]) -> Any:
    """An UPDATE of one claimed row, only while the claim stands (row id and lease end bound at
    execution). Built once: the two per-row writes of every send skip statement building."""
    return update(OutboxMessage).where(
        col(OutboxMessage.id) == bindparam("row_id"),
        col(OutboxMessage.lease_until) == bindparam("token"),
        *conditions,
    )


#: Mark attempted: from here on the request may leave.
_MARK_ATTEMPTED = _fenced(
    col(OutboxMessage.status) == OutboxStatus.SENDING,
    col(OutboxMessage.attempted_at).is_(None),
).values(attempted_at=bindparam("at"), attempts=bindparam("attempts"))
#: Record a delivery (and the messenger's id of the message, when it gave one).
_MARK_SENT = _fenced().values(
    status=OutboxStatus.SENT,
    sent_at=bindparam("at"),
    lease_until=None,
    error="",
    message_ref=bindparam("ref"),
)


#: Waits before writing a claimed row again after its database connection was lost.
RECONNECT_DELAYS = (0.1, 0.5, 2.0)


async def _reconnecting(write: Callable[[], Awaitable[bool]], claim: Claim) -> bool:
    """`write()`, tried again on a new connection when the database connection was lost under
    it (a server restart, a terminated backend). Safe to repeat: every write to a claimed row is
    fenced by its lease, so one that already happened, or a claim taken over since, changes
    nothing the second time. Without this a message that was delivered would end `unknown`
    because its `sent` could not be written."""
    for delay in (*RECONNECT_DELAYS, None):
        try:
            return await write()
        except (DBAPIError, OSError) as exc:
            if delay is None or (isinstance(exc, DBAPIError) and not exc.connection_invalidated):
                raise
            log.warning(
                "outbox row %d: database connection lost (%s); writing again in %.1f s",
                claim.id,
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _own_limiter(channel: Channel) -> RateLimiter | None:
    own = getattr(channel, "limiter", None)
    return own if isinstance(own, RateLimiter) else None


def _limiter_of(channel: Channel, monotonic: Callable[[], float]) -> RateLimiter:
    """The channel's own limiter (shared with whatever else it sends), else one for the worker."""
    own = _own_limiter(channel)
    if own is not None:
        return own
    return RateLimiter(
        channel.rate_per_second, channel.rate_per_chat_per_second, monotonic=monotonic
    )


def due(now: datetime) -> ColumnElement[bool]:
    """Rows waiting to be sent whose time has come."""
    return and_(col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.due_at) <= now)


def lease_ran_out(now: datetime) -> ColumnElement[bool]:
    """Rows a worker claimed and did not finish within its lease (it stopped or died): to claim
    again before the request left, to record as unknown after."""
    return and_(
        col(OutboxMessage.status) == OutboxStatus.SENDING, col(OutboxMessage.lease_until) < now
    )


class DeliveryWorker:
    """Sends due outbox rows of its school for the channels it is given; rows of other schools
    and other channels are left alone."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        clock: Clock = utcnow,
        *,
        school_id: int | None = None,
        find_school: Callable[[], Awaitable[int | None]] | None = None,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 50,
        concurrency: int = 32,
        max_attempts: int = 8,
        max_wait: float = 5.0,
        poll_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        #: The school whose rows this worker sends (None: every school's, unless `find_school`
        #: is given: then none until it finds the school).
        self.school_id = school_id
        self.find_school = find_school
        self.clock = clock
        self.lease = lease
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        #: A row whose chat is paused longer than this goes back to `pending` instead of waiting.
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        #: The school's name on the send counters (`bot.metrics`).
        self.metrics_school = ""
        self._limiters = {
            name: _limiter_of(channel, monotonic) for name, channel in self.channels.items()
        }
        #: Rows in progress at once. The limiter sets the pace; this only has to cover a send's
        #: round trip and two short transactions (300 ms at 30/s is 9 rows), with room to spare.
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        #: Sends started by `run_forever` and not yet finished.
        self._in_flight: set[asyncio.Task[None]] = set()
        #: Held by `run_forever` from a claim until its sends are started, so `settle` never
        #: looks between the two.
        self._claiming = asyncio.Lock()
        #: Called after a round that sent something (e.g. to update a notice's progress
        #: message); returns how many rows it queued. Its errors are logged, never raised.
        self.after_round: Callable[[], Awaitable[int]] | None = None

    # -- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run_forever` to return once the rows it has claimed are sent."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        """Deliver until `stop`. Claims are topped up while earlier ones are still being sent
        (below half a batch in flight), so the channel's pace never waits for a round to end;
        rows in flight when asked to stop are finished first."""
        self._stopping = False
        in_flight = self._in_flight
        low = max(1, self.batch_size // 2)
        claimed_since_hook = 0
        try:
            while not self._stopping:
                self._wake.clear()
                if len(in_flight) <= low:
                    # The hook (a notice's progress) runs about once a batch, and at the end.
                    if claimed_since_hook >= self.batch_size or (
                        claimed_since_hook and not in_flight
                    ):
                        await self._after_round()
                        claimed_since_hook = 0
                    async with self._claiming:
                        claims = await self._top_up(self.batch_size - len(in_flight))
                        for claim in claims:
                            task = asyncio.create_task(self._deliver_logged(claim))
                            in_flight.add(task)
                            task.add_done_callback(in_flight.discard)
                    claimed_since_hook += len(claims)
                if self._stopping:
                    break
                if len(in_flight) > low:
                    await asyncio.wait(set(in_flight), return_when=asyncio.FIRST_COMPLETED)
                    continue
                await self._idle(in_flight)
        except asyncio.CancelledError:
            # Cancelled (shut down the hard way): so are the sends in progress. A row marked
            # attempted becomes `unknown` after its lease; the others are claimable again.
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        if in_flight:  # stopped: finish what was claimed
            await asyncio.gather(*in_flight, return_exceptions=True)
        if claimed_since_hook:
            await self._after_round()

    async def settle(self) -> None:
        """Wait until the sends `run_forever` has started are finished (a claim it is making
        is waited for too), so a caller that then looks at the outbox sees their outcome."""
        async with self._claiming:
            pending = set(self._in_flight)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _idle(self, in_flight: set[asyncio.Task[None]]) -> None:
        """Wait for a wake-up, a delivery to finish, or the poll interval."""
        woken = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                {woken, *in_flight}, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()

    async def _school_known(self) -> bool:
        """Whether the worker knows which rows are its own (looked up until the database has
        its school: a bot started before its roster was imported)."""
        if self.school_id is None and self.find_school is not None:
            self.school_id = await self.find_school()
            return self.school_id is not None
        return True

    async def _top_up(self, room: int) -> list[Claim]:
        try:
            if not await self._school_known():
                return []
            await self._recover_unknown()
            return await self.claim(limit=room)
        except Exception:
            log.exception("outbox: claiming failed; trying again shortly")
            return []

    async def _deliver_logged(self, claim: Claim) -> None:
        try:
            await self.deliver(claim)
        except Exception:
            # The row keeps its lease and is picked up again when it runs out.
            log.exception("outbox row %d: delivery failed", claim.id)

    async def _after_round(self) -> None:
        if self.after_round is None:
            return
        try:
            if await self.after_round():
                self.wake()
        except Exception:
            log.exception("outbox: the after-round hook failed")

    async def run_once(self) -> int:
        """Claim the due rows and send them; returns how many rows were handled."""
        if not self.channels or not await self._school_known():
            return 0
        recovered = await self._recover_unknown()
        claims = await self.claim()
        await asyncio.gather(*(self.deliver(claim) for claim in claims))
        if claims:
            await self._after_round()
        return recovered + len(claims)

    # -- claiming -----------------------------------------------------------------------------

    def _ours(self) -> ColumnElement[bool]:
        """Our channels' rows, of our school."""
        channels = col(OutboxMessage.channel).in_(list(self.channels))
        if self.school_id is None:
            return channels
        return and_(col(OutboxMessage.school_id) == self.school_id, channels)

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        return or_(due(now), and_(lease_ran_out(now), col(OutboxMessage.attempted_at).is_(None)))

    async def _recover_unknown(self) -> int:
        """Rows whose worker died after the request may have left: record them as unknown."""
        now = self.clock()
        statement = (
            update(OutboxMessage)
            .where(self._ours(), lease_ran_out(now), col(OutboxMessage.attempted_at).is_not(None))
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

    async def claim(self, *, limit: int | None = None) -> list[Claim]:
        """Take up to `limit` (`batch_size`) due rows of our channels (a lease each); see the
        module doc. Two statements whatever the number: the candidates, then one guarded
        UPDATE that says (RETURNING) which of them this worker won."""
        now = self.clock()
        lease_until = now + self.lease
        candidates = (
            sa_select(
                col(OutboxMessage.id),
                col(OutboxMessage.channel),
                col(OutboxMessage.chat_id),
                col(OutboxMessage.payload),
                col(OutboxMessage.attempts),
            )
            .where(self._ours(), self._claimable(now))
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
            .limit(limit or self.batch_size)
        )
        async with self.db.session() as session:
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            connection = await session.connection()  # a Core SELECT of five columns
            rows = (await connection.execute(candidates)).all()
            if not rows:
                return []
            guarded = (
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([row[0] for row in rows]), self._claimable(now))
                .values(status=OutboxStatus.SENDING, lease_until=lease_until, attempted_at=None)
                .returning(col(OutboxMessage.id))
            )
            won = {row_id for (row_id,) in (await connection.execute(guarded)).all()}
        return [
            Claim(
                id=row_id,
                channel=channel,
                chat_id=chat_id,
                payload=dict(payload),
                attempts=attempts,
                lease_until=lease_until,
            )
            for row_id, channel, chat_id, payload, attempts in rows
            if row_id in won
        ]

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

        async def write() -> bool:
            async with self.db.session() as session:
                return (await session.exec(statement)).rowcount == 1

        return await _reconnecting(write, claim)

    async def _run_fenced(self, statement: Any, claim: Claim, **values: Any) -> bool:
        """Run a prebuilt `_fenced` statement for this claim."""
        params = {"row_id": claim.id, "token": claim.lease_until, **values}

        async def write() -> bool:
            async with self.db.session() as session:
                connection = await session.connection()
                return bool((await connection.execute(statement, params)).rowcount == 1)

        return await _reconnecting(write, claim)

    # -- sending ------------------------------------------------------------------------------

    async def deliver(self, claim: Claim) -> None:
        """Send one claimed row at the channel's pace and record what happened."""
        async with self._slots:
            limiter = self._limiters[claim.channel]
            wait = limiter.delay(claim.chat_id)
            if wait > self.max_wait:
                await self._postpone(claim, wait)
                return
            try:
                reply = await self._with_media(Reply.from_dict(claim.payload))
            except Exception as exc:
                log.exception("outbox row %d: its message could not be read", claim.id)
                await self._update_claimed(
                    claim, status=OutboxStatus.FAILED, lease_until=None, error=_short(exc)
                )
                return
            try:
                # The slot, and room in the windows, before the row is marked attempted: a
                # worker killed while its sends wait here leaves rows nobody sent.
                await limiter.acquire(claim.chat_id, max_wait=self.max_wait)
                await limiter.room(claim.chat_id, max_wait=self.max_wait)
            except Throttled as exc:
                await self._postpone(claim, exc.seconds)
                return
            with delivering(limiter, claim.chat_id):
                await self._send(claim, reply, limiter)

    async def _postpone(self, claim: Claim, seconds: float) -> None:
        """The chat (or the channel) is paused for a while: back to pending, no attempt used."""
        await self._update_claimed(
            claim,
            status=OutboxStatus.PENDING,
            due_at=self.clock() + timedelta(seconds=seconds),
            lease_until=None,
        )

    async def _send(self, claim: Claim, reply: Reply, limiter: RateLimiter) -> None:
        """Mark the row attempted (the request may leave from now on), send, record."""
        attempts = claim.attempts + 1
        marked = await self._run_fenced(_MARK_ATTEMPTED, claim, at=self.clock(), attempts=attempts)
        if not marked:
            log.warning("outbox row %d: claim lost before sending; left to its new owner", claim.id)
            return
        channel = self.channels[claim.channel]
        if _own_limiter(channel) is None:  # a channel that paces itself admits in `send`
            await limiter.admit(claim.chat_id)
        try:
            ref = await channel.send(claim.chat_id, reply)
        except SendError as exc:
            await self._record_failure(claim, attempts, exc, limiter)
        except Exception as exc:
            # Not a classified failure: we cannot tell whether it left, so treat it as unknown.
            log.exception("outbox row %d: unexpected error while sending", claim.id)
            await self._record_failure(claim, attempts, UnknownSendOutcome(_short(exc)), limiter)
        else:
            ref = ref[:64] if isinstance(ref, str) else ""
            await self._run_fenced(_MARK_SENT, claim, at=self.clock(), ref=ref)
            metrics.sent(claim.channel, "sent", school=self.metrics_school)

    async def _with_media(self, reply: Reply) -> Reply:
        """The reply with its picture's bytes, read from the media table (the outbox row holds
        only the key). A picture that is gone is dropped and the text still sent."""
        image = reply.image
        if image is None or image.data is not None:
            return reply
        async with self.db.session() as session:
            query = select(Media.data).where(Media.key == image.media_key)
            data = (await session.exec(query)).first()
        if data is None:
            log.warning("outbox: media %r is missing; sending the text alone", image.media_key)
            return replace(reply, image=None)
        return replace(reply, image=image.with_data(data))

    async def _record_failure(
        self, claim: Claim, attempts: int, exc: SendError, limiter: RateLimiter
    ) -> None:
        now = self.clock()
        if isinstance(exc, RetryableSendError):
            if exc.retry_after:
                # The chat was spaced by this limiter, so a 429 means the channel-wide limit.
                limiter.throttled(claim.chat_id, exc.retry_after, spaced=True)
            if attempts >= self.max_attempts:
                status = OutboxStatus.FAILED
                error = f"{FailureReason.GAVE_UP.value}: gave up after {attempts} attempts; "
                error += f"last: {_short(exc)}"
                due_at = now
            else:
                status = OutboxStatus.PENDING
                error = _short(exc)
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(attempts)
                due_at = now + wait
            outcome = "retry" if status is OutboxStatus.PENDING else "failed"
            metrics.sent(claim.channel, outcome, school=self.metrics_school)
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
        if isinstance(exc, PermanentSendError):
            status, error = OutboxStatus.FAILED, f"{exc.reason.value}: {_short(exc)}"
        else:
            status, error = OutboxStatus.UNKNOWN, _short(exc)
        metrics.sent(claim.channel, status.value, school=self.metrics_school)
        log.warning("outbox row %d: %s (%s)", claim.id, status.value, type(exc).__name__)
        await self._update_claimed(claim, status=status, lease_until=None, error=error[:500])
