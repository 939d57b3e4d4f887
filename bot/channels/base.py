"""The seam every channel implements, the three ways a send can fail, and what the channels'
update handlers share (one update at a time per user; a live answer deferred to the outbox).

The classes decide what the delivery worker (`bot.delivery.worker`) does next: retry later, record and
stop, or record as unknown and never send again blindly.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from handlers.types import Reply
from models.outbox.outcomes import FailureReason

if TYPE_CHECKING:
    from handlers.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class SendError(Exception):
    """Base class for delivery failures."""


class RetryableSendError(SendError):
    """Try again later: network trouble, rate limit (`retry_after` seconds when known)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never retry: the user blocked the bot, the chat does not exist. Record and report."""

    def __init__(self, message: str, reason: FailureReason = FailureReason.REJECTED) -> None:
        super().__init__(message)
        self.reason = reason


class UnknownSendOutcome(SendError):
    """The request left but no answer came back: it may have been delivered. Never resend blindly."""


class Channel(Protocol):
    """A messenger: delivers replies to a chat. Inbound traffic is the channel's own business.

    A channel may also carry `limiter` (a `bot.delivery.pacing.RateLimiter`) that paces every call it
    makes, shared with what it sends outside the outbox (Telegram's live answers); the delivery
    worker then uses that one. Otherwise the worker paces rows by the two rates below.
    """

    name: str
    #: Messages per second the channel accepts overall, and per chat.
    rate_per_second: float
    rate_per_chat_per_second: float

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Deliver `reply` to `chat_id`, or raise one of the SendError classes.

        Returns the messenger's id of the (last) message sent, if it has one (kept as
        `OutboxMessage.message_ref`); a reply with `edit_message_id` edits that message instead.
        """
        ...


class UserLocks:
    """One `asyncio.Lock` per user, so a user's updates are handled one at a time and in order
    (a lock nobody holds or waits for is forgotten)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, user_id: str) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user_id] = lock
        return lock


async def answer_or_defer(
    dispatcher: Dispatcher,
    send: Callable[[], Awaitable[object]],
    *,
    channel: str,
    chat_id: str,
    reply: Reply,
    key: str,
) -> None:
    """Send a live answer now (`send`); when it cannot go in full right now (`send` raises
    `RetryableSendError`: the messenger asks us to wait, the network failed), the outbox sends it
    later, whole, once per `key` (the conversation has already moved on: it must not be lost)."""
    try:
        await send()
    except RetryableSendError as exc:
        log.warning("%s answer deferred to the outbox: %s", channel, type(exc).__name__)
        await dispatcher.defer(
            channel=channel,
            chat_id=chat_id,
            reply=reply,
            key=f"{channel}:{key}",
            delay=exc.retry_after or 0.0,
        )
