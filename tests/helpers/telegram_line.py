"""A bot over the fake Bot API with the real Telegram channel, paced as the application paces it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from telegram.ext import ExtBot

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_pacing import TelegramRateLimiter, telegram_limiter
from tests.fakes import TEST_TOKEN
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest
from tests.helpers.clock import FakeClock


@dataclass
class Line:
    """A bot over the fake Bot API, paced as `build_application` paces it."""

    api: FakeBotApi
    bot: ExtBot[None]
    channel: TelegramChannel


@asynccontextmanager
async def telegram(
    api: FakeBotApi,
    monotonic: Callable[[], float] = time.monotonic,
    *,
    request: FakeTelegramRequest | None = None,
) -> AsyncIterator[Line]:
    bot: ExtBot[None] = ExtBot(
        TEST_TOKEN,
        request=request or FakeTelegramRequest(api),
        rate_limiter=TelegramRateLimiter(telegram_limiter(monotonic)),
    )
    async with bot:
        yield Line(api, bot, TelegramChannel(bot))


def received(api: FakeBotApi) -> Counter[str]:
    """Messages that reached each chat."""
    return Counter(str(message["chat"]["id"]) for message in api.delivered())


def paced_by(clock: FakeClock) -> Callable[[], float]:
    return lambda: clock().timestamp()
