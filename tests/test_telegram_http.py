"""The bot over real HTTP: python-telegram-bot's calls over the bot's transport (aiohttp,
`bot.channels.telegram_http`) against the local fake Bot API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.channels import telegram_http
from bot.channels.base import RetryableSendError, UnknownSendOutcome
from bot.channels.telegram import ALLOWED_UPDATES, build_application
from bot.channels.telegram_errors import classify
from bot.channels.telegram_http import AiohttpRequest, env_proxy
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import Call, Failure, TgUser, UpdateFactory
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.test_wecom_run import _free_port

STRANGER = TgUser(6001, "路人")


def _application(
    server: BotApiServer, db: Database, clock: FakeClock
) -> Application[Any, Any, Any, Any, Any, Any]:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TEST_TOKEN,
        telegram_base_url=server.base_url,
        telegram_base_file_url=server.base_file_url,
    )
    dispatcher = Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"), clock=clock)
    return build_application(settings, db, dispatcher)


async def next_message(calls: asyncio.Queue[Call]) -> Call:
    async with asyncio.timeout(5):
        while True:
            call = await calls.get()
            if call.method == "sendMessage":
                return call


async def test_a_polling_bot_answers_updates_queued_while_it_was_down(
    bot_api_server: BotApiServer, db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    updates = UpdateFactory()
    bot_api_server.api.push_update(updates.text(STRANGER, "/start"))  # sent before the bot started
    calls = bot_api_server.api.listen()
    app = _application(bot_api_server, db, clock)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None and app.updater
    await app.post_init(app)
    await app.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, timeout=1
    )
    await app.start()
    try:
        first = await next_message(calls)
        assert first.params["chat_id"] == STRANGER.id
        assert "还没有与学校名册绑定" in first.params["text"]
        assert first.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        bot_api_server.api.push_update(updates.sticker(STRANGER))
        second = await next_message(calls)
        assert "只能读懂文字消息和按钮" in second.params["text"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()
    polls = bot_api_server.api.calls_of("getUpdates")
    assert polls[0].params.get("allowed_updates") == ["message", "callback_query"]


async def test_a_wrong_token_is_refused_by_the_server(
    bot_api_server: BotApiServer, db: Database, clock: FakeClock
) -> None:
    bot_api_server.token = "someone-else"
    app = _application(bot_api_server, db, clock)
    with pytest.raises(InvalidToken):
        await app.initialize()


# -- the transport: python-telegram-bot's calls over aiohttp (`bot.channels.telegram_http`) -------


def _bot(server: BotApiServer) -> Bot:
    return Bot(TEST_TOKEN, base_url=server.base_url, request=AiohttpRequest(pool_size=4))


async def test_a_message_with_its_keyboard_and_a_photo_with_its_caption_reach_telegram(
    bot_api_server: BotApiServer,
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("三年级二班", callback_data="c:32")]])
    async with _bot(bot_api_server) as bot:
        sent = await bot.send_message(STRANGER.id, "请选择班级：", reply_markup=keyboard)
        photo = await bot.send_photo(STRANGER.id, b"\x89PNG\r\n\x1a\n chart", caption="本月家访")
    assert sent.text == "请选择班级：" and sent.reply_markup == keyboard
    assert photo.caption == "本月家访"
    [message] = bot_api_server.api.calls_of("sendMessage")
    assert message.params["reply_markup"] == keyboard.to_dict()
    [upload] = bot_api_server.api.calls_of("sendPhoto")  # multipart, the file as a part
    assert upload.params["caption"] == "本月家访" and upload.params["photo"]


async def test_an_answer_that_never_comes_is_a_timeout_the_outbox_does_not_send_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telegram_http, "READ_TIMEOUT", 0.3)
    async with BotApiServer(token=TEST_TOKEN, timeout_delay=3) as server:
        server.api.fail("sendMessage", Failure.TIMEOUT)
        async with _bot(server) as bot:
            with pytest.raises(TimedOut) as timed_out:
                await bot.send_message(STRANGER.id, "通知")
    assert isinstance(timed_out.value.__cause__, aiohttp.SocketTimeoutError)
    assert isinstance(classify(timed_out.value), UnknownSendOutcome)  # it may have arrived
    assert len(server.api.sent_texts(STRANGER.id)) == 1  # and here it did


async def test_no_connection_is_a_network_error_safe_to_send_again_and_names_no_token() -> None:
    request = AiohttpRequest(pool_size=1)
    async with request:
        with pytest.raises(NetworkError) as failed:
            await request.post(f"http://127.0.0.1:{_free_port()}/bot{TEST_TOKEN}/sendMessage")
    assert isinstance(failed.value.__cause__, aiohttp.ClientConnectorError)
    assert isinstance(classify(failed.value), RetryableSendError)  # nothing left
    assert TEST_TOKEN not in str(failed.value)
    assert str(failed.value).startswith("aiohttp.ClientConnectorError")


async def test_a_429_is_telegrams_retry_after_and_a_long_poll_outlasts_the_read_timeout(
    bot_api_server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_http, "READ_TIMEOUT", 0.3)
    bot_api_server.api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=4)
    async with _bot(bot_api_server) as bot:
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(STRANGER.id, "通知")
        assert limited.value.retry_after in (4, timedelta(seconds=4))
        began = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()  # held 1 s by the fake, no update
        assert time.monotonic() - began >= 0.9
        bot_api_server.api.push_update(UpdateFactory().text(STRANGER, "/start"))
        [update] = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "/start"


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def _proxy_environment(monkeypatch: pytest.MonkeyPatch, **given: str) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("environment", "url", "proxy"),
    [
        ({}, "https://api.telegram.org/bot1/getMe", None),
        ({"HTTPS_PROXY": "http://10.0.0.8:3128"}, "https://api.telegram.org/bot1/getMe",
         "http://10.0.0.8:3128"),
        ({"HTTPS_PROXY": "http://10.0.0.8:3128"}, "http://api.telegram.org/bot1/getMe", None),
        ({"HTTP_PROXY": "http://10.0.0.8:3128"}, "http://api.telegram.org/bot1/getMe",
         "http://10.0.0.8:3128"),
        ({"ALL_PROXY": "http://10.0.0.9:8080"}, "https://api.telegram.org/bot1/getMe",
         "http://10.0.0.9:8080"),
        ({"HTTPS_PROXY": "http://10.0.0.8:3128", "NO_PROXY": "api.telegram.org"},
         "https://api.telegram.org/bot1/getMe", None),
        ({"HTTP_PROXY": "http://10.0.0.8:3128", "NO_PROXY": "127.0.0.1,localhost"},
         "http://127.0.0.1:8081/bot1/getMe", None),
    ],
)  # fmt: skip
def test_the_proxy_is_the_environments_as_httpx_reads_it(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], url: str, proxy: str | None
) -> None:
    _proxy_environment(monkeypatch, **environment)
    assert env_proxy(url) == proxy


async def test_calls_go_through_the_proxy_the_environment_names(
    bot_api_server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Telegram's address is one no resolver knows: only the proxy (here the fake, which
    # answers the forwarded call itself) can reach it.
    _proxy_environment(monkeypatch, HTTP_PROXY=f"http://127.0.0.1:{bot_api_server.port}")
    bot = Bot(TEST_TOKEN, base_url="http://telegram.invalid/bot", request=AiohttpRequest())
    async with bot:
        sent = await bot.send_message(STRANGER.id, "经代理发送")
    assert sent.text == "经代理发送"
    assert bot_api_server.api.sent_texts(STRANGER.id) == ["经代理发送"]
