"""The seam every channel implements, and the three ways a send can fail."""

from __future__ import annotations

from typing import Protocol

from handlers.types import Reply


class SendError(Exception):
    """Base class for delivery failures."""


class RetryableSendError(SendError):
    """Try again later: network trouble, rate limit (`retry_after` seconds when known)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never retry: the user blocked the bot, the chat does not exist. Record and report."""


class UnknownSendOutcome(SendError):
    """The request left but no answer came back: it may have been delivered. Never resend blindly."""


class Channel(Protocol):
    """A messenger: delivers replies to a chat. Inbound traffic is the channel's own business."""

    name: str
    #: Messages per second the channel accepts overall, and per chat.
    rate_per_second: float
    rate_per_chat_per_second: float

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver `reply` to `chat_id`, or raise one of the SendError classes."""
        ...
