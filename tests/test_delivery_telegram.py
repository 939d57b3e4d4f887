"""Telegram's side of delivery: every API call the bot makes goes through one pace, and each
failure falls in the class that decides whether it may be sent again."""

from __future__ import annotations

import time
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.base import PermanentSendError, RetryableSendError, UnknownSendOutcome
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_errors import classify
from bot.channels.telegram_pacing import TelegramRateLimiter
from bot.delivery.pacing import delivering
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.outcomes import FailureReason
from tests.fakes import TEST_TOKEN
from tests.fakes.telegram_request import Failure, FakeBotApi, FakeTelegramRequest
from tests.helpers.clock import FakeClock
from tests.helpers.telegram_line import telegram


def caused_by(error: TelegramError, cause: BaseException) -> TelegramError:
    error.__cause__ = cause
    return error


REQUEST = httpx.Request("POST", "http://127.0.0.1/bot/sendMessage")


@pytest.mark.parametrize(
    ("error", "expected", "reason"),
    [
        # never reached Telegram: safe to send again
        (caused_by(TimedOut(), httpx.ConnectTimeout("connect")), RetryableSendError, None),
        (TimedOut("Pool timeout: All connections in the connection pool are occupied. "
                  "Request was *not* sent to Telegram."), RetryableSendError, None),
        (NetworkError("httpx.ConnectError: All connection attempts failed"),
         RetryableSendError, None),
        (NetworkError("Bad Gateway"), RetryableSendError, None),
        (caused_by(TimedOut(), aiohttp.ConnectionTimeoutError()), RetryableSendError, None),
        (NetworkError("aiohttp.ClientConnectorDNSError: Name or service not known"),
         RetryableSendError, None),
        (RetryAfter(7), RetryableSendError, None),
        # may have reached Telegram: never sent again blindly
        (caused_by(TimedOut(), httpx.ReadTimeout("read", request=REQUEST)),
         UnknownSendOutcome, None),
        (TimedOut("Timed out"), UnknownSendOutcome, None),
        (NetworkError("httpx.RemoteProtocolError: Server disconnected without sending a "
                      "response."), UnknownSendOutcome, None),
        (caused_by(NetworkError("httpx.ReadError: "), httpx.ReadError("", request=REQUEST)),
         UnknownSendOutcome, None),
        (caused_by(TimedOut(), aiohttp.SocketTimeoutError()), UnknownSendOutcome, None),
        (caused_by(NetworkError("aiohttp.ServerDisconnectedError: the request failed"),
                   aiohttp.ServerDisconnectedError()), UnknownSendOutcome, None),
        # a transport error not named either way: taken as after sending
        (NetworkError("aiohttp.ClientConnectionResetError: Connection reset by peer"),
         UnknownSendOutcome, None),
        # can never be delivered: recorded with the reason
        (Forbidden("Forbidden: bot was blocked by the user"), PermanentSendError,
         FailureReason.BLOCKED),
        (Forbidden("Forbidden: user is deactivated"), PermanentSendError,
         FailureReason.DEACTIVATED),
        (BadRequest("Chat not found"), PermanentSendError, FailureReason.CHAT_NOT_FOUND),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"),
         PermanentSendError, FailureReason.NOT_STARTED),
        (BadRequest("Message is too long"), PermanentSendError, FailureReason.REJECTED),
    ],
)  # fmt: skip
def test_a_telegram_failure_is_retried_only_when_the_message_cannot_have_left(
    error: TelegramError, expected: type[Exception], reason: FailureReason | None
) -> None:
    classified = classify(error)
    assert type(classified) is expected
    assert getattr(classified, "reason", None) == reason


async def test_the_bot_built_for_telegram_paces_every_call_and_its_channel_shares_that_pace(
    db: Database, clock: FakeClock
) -> None:
    dispatcher = Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"), clock=clock)
    settings = Settings(_env_file=None, telegram_bot_token=TEST_TOKEN)
    application = build_application(
        settings, db, dispatcher, request=FakeTelegramRequest(FakeBotApi())
    )
    hook = application.bot.rate_limiter
    assert isinstance(hook, TelegramRateLimiter)
    assert TelegramChannel(application.bot).limiter is hook.limiter


async def test_live_answers_go_at_once_and_are_counted_in_the_shared_pace() -> None:
    async with telegram(FakeBotApi()) as line:
        for chat in (6001, 6002, 6003):
            await line.bot.send_message(chat_id=chat, text="好的")
        await line.bot.answer_callback_query("cq1")  # not a message: not counted
        limiter = line.channel.limiter
        assert limiter is not None
        assert not limiter.spaced("6001")  # the outbox waits a second before writing there
        assert limiter.spaced("6004")
        assert limiter.recent() == 3


@pytest.mark.parametrize(
    ("outbox", "other_chat_paused"),
    [
        # an outbox send is spaced per chat: its 429 is the bot-wide limit
        (True, True),
        # a live answer right after another in the same chat: that chat's limit
        (False, False),
    ],
)
async def test_a_429_pauses_the_chat_and_the_bot_when_the_chat_had_its_second(
    outbox: bool, other_chat_paused: bool
) -> None:
    api = FakeBotApi()
    async with telegram(api) as line:
        limiter = line.channel.limiter
        assert limiter is not None
        with pytest.raises(RetryAfter):
            if outbox:
                api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=7)
                with delivering(limiter, "6001"):
                    await line.bot.send_message(chat_id=6001, text="通知")
            else:
                api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=7, after=1)
                await line.bot.send_message(chat_id=6001, text="第一条")
                await line.bot.send_message(chat_id=6001, text="第二条")
        assert limiter.paused_for("6001") == pytest.approx(7, abs=0.5)
        assert (limiter.paused_for("6002") > 6) is other_chat_paused


async def test_an_outbox_message_in_two_pieces_sends_the_second_a_second_later() -> None:
    api = FakeBotApi()
    sent_at: list[float] = []
    async with telegram(api) as line:
        limiter = line.channel.limiter
        assert limiter is not None
        original = api.call

        async def timed(method: str, params: Any) -> Any:
            if method == "sendMessage":
                sent_at.append(time.monotonic())
            return await original(method, params)

        api.call = timed  # type: ignore[method-assign]
        with delivering(limiter, "6001"):
            await line.channel.send("6001", Reply("长" * 5000))
    assert len(sent_at) == 2
    assert sent_at[1] - sent_at[0] >= 1.0
