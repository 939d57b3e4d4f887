"""The bot over real HTTP: python-telegram-bot's own transport against the local fake Bot API."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.channels.telegram import ALLOWED_UPDATES, build_application
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import Call, TgUser, UpdateFactory
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school

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
