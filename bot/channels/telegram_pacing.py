"""Telegram's flood limits, applied to every Bot API call the bot makes.

`TelegramRateLimiter` plugs into python-telegram-bot (`ApplicationBuilder().rate_limiter(…)`,
or `ExtBot(rate_limiter=…)`), so the outbox's sends and the live answers of the update handlers
go through one `bot.delivery.pacing.RateLimiter`:

* a call made inside `bot.delivery.pacing.delivering` (the delivery worker sending an outbox row to that
  chat) waits for its slot (the first one was booked by the worker, the next pieces of a long
  message book their own) and then for room in the window (`RateLimiter.admit`);
* any other message call (an answer, an edit) goes at once and is counted (`RateLimiter.note`);
* calls that are not messages (answerCallbackQuery, getMe, setMyCommands …) are not counted;
  getUpdates never reaches a rate limiter;
* a 429 pauses the chat, and the whole bot when the chat had been spaced properly
  (`RateLimiter.throttled`), then goes up to the caller as `RetryAfter`, which the worker
  records as retryable and the adapter answers by deferring the answer to the outbox.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot import metrics
from bot.channels.telegram_render import CHANNEL
from bot.delivery.pacing import RateLimiter, Throttled, pace_delivery_piece
from bot.delivery.shared_pacing import shared_or_local

#: Telegram's limits (Bot FAQ): about 30 messages a second from a bot, one a second in a chat.
TELEGRAM_PER_SECOND = 30
TELEGRAM_PER_CHAT_PER_SECOND = 1
#: The outbox's spacing: slots at the rate the window below lets through, so that sends seldom
#: wait for the window after their row is marked attempted (29/s, a little faster, kept about
#: ten rows waiting there: a killed worker left them `unknown` though they never left;
#: `benchmarks/faults.py`); one chat gets a message every 1.05 s at most.
PACE_PER_SECOND = 28.0
PACE_PER_CHAT_PER_SECOND = 1 / 1.05
#: At most this many messages leave in any second, whoever sends them (live answers included):
#: two under Telegram's 30, because Telegram counts arrivals on its own clock and a message can
#: arrive late after a stall (measured with `benchmarks/fanout.py`: up to ~0.1 s under load).
WINDOW_CAP = 28
#: At the moment of sending, sends leave at the slots' pace, and sends that fell behind it catch
#: up by at most this many, at twice the pace (`RateLimiter` `burst`). Sends that reached that
#: moment late together (a slow database write, an event loop busy with another school's bot)
#: used to leave as a burst of up to `WINDOW_CAP`, which with the network's jitter on top ran
#: over Telegram's 30 in a second (`benchmarks/fanout.py --schools 2`, benchmarks/README.md).
PACE_BURST = 8
#: How long a later piece of an outbox message waits for its slot before the send gives up as
#: rate limited (the first piece's slot is booked before the row is marked attempted).
MAX_PIECE_WAIT = 60.0

#: Bot API methods that are not messages and do not count against the flood limits.
_NOT_MESSAGES = frozenset({"sendChatAction"})
_MESSAGE_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


def telegram_limiter(
    monotonic: Callable[[], float] = time.monotonic,
    *,
    shared_url: str | None = None,
    token: str = "",
) -> RateLimiter:
    """The bot's limiter; with `shared_url` (RATE_LIMIT_URL) one budget in Redis for every
    worker process of the bot whose `token` it is (`bot.delivery.shared_pacing`)."""
    return shared_or_local(
        shared_url,
        f"telegram:{token}",
        PACE_PER_SECOND,
        PACE_PER_CHAT_PER_SECOND,
        window_cap=WINDOW_CAP,
        burst=PACE_BURST,
        monotonic=monotonic,
    )


def is_message(endpoint: str) -> bool:
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        seconds: float | timedelta = exc.retry_after
    return seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)


class TelegramRateLimiter(BaseRateLimiter[None]):
    """python-telegram-bot's rate-limiter hook over one shared `RateLimiter`."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or telegram_limiter()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if not is_message(endpoint):
            return await callback(*args, **kwargs)
        chat = str(data.get("chat_id", ""))
        spaced = self.limiter.spaced(chat)
        try:
            outbox = await pace_delivery_piece(self.limiter, chat, max_wait=MAX_PIECE_WAIT)
        except Throttled as exc:
            raise RetryAfter(max(1, math.ceil(exc.seconds))) from exc
        if outbox:
            spaced = True
        else:
            self.limiter.note(chat)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            metrics.rate_limited(CHANNEL)
            self.limiter.throttled(chat, retry_after_seconds(exc), spaced=spaced)
            raise
