"""An update python-telegram-bot cannot read is skipped by its id; polling goes on."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot import metrics
from bot.channels.telegram import ALLOWED_UPDATES, build_application
from bot.channels.telegram_polling import SKIPPED
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import Call, TgUser, UpdateFactory
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school

STRANGER = TgUser(6002, "路人")
SECRET = "李华的妈妈 13812345678"

#: Readable JSON that python-telegram-bot cannot turn into an update (a date that is a word).
POISON = {
    "message": {
        "message_id": 9,
        "date": "yesterday",
        "chat": {"id": STRANGER.id, "type": "private"},
        "text": SECRET,
    }
}


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


async def _texts(calls: asyncio.Queue[Call], count: int) -> list[str]:
    texts: list[str] = []
    async with asyncio.timeout(5):
        while len(texts) < count:
            call = await calls.get()
            if call.method == "sendMessage":
                texts.append(str(call.params["text"]))
    return texts


async def _polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, timeout=1
    )
    await app.start()


async def _stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.post_shutdown is not None and app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.post_shutdown(app)
    await app.shutdown()


async def test_an_unreadable_update_between_two_messages_is_skipped_and_both_are_answered(
    bot_api_server: BotApiServer, db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    await seed_school(db)
    updates = UpdateFactory()
    api = bot_api_server.api
    api.push_update(updates.text(STRANGER, "/start"))
    poison_id = api.push_update(POISON)
    api.push_update(updates.text(STRANGER, "/help"))
    before = metrics.snapshot().get(SKIPPED, 0)
    calls = api.listen()
    app = _application(bot_api_server, db, clock)
    await _polling(app)
    try:
        texts = await _texts(calls, 2)
    finally:
        await _stop(app)
    assert len(texts) == 2
    assert metrics.snapshot()[SKIPPED] == before + 1
    output = private_log.getvalue()
    assert f"telegram update {poison_id} skipped" in output
    assert "李华" not in output and "13812345678" not in output
    assert "CRITICAL" not in output


async def test_an_unreadable_last_update_is_moved_past_so_telegram_forgets_it(
    bot_api_server: BotApiServer, db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    await seed_school(db)
    updates = UpdateFactory()
    api = bot_api_server.api
    api.push_update(updates.text(STRANGER, "/start"))
    poison_id = api.push_update(POISON)
    calls = api.listen()
    app = _application(bot_api_server, db, clock)
    await _polling(app)
    try:
        await _texts(calls, 1)
        async with asyncio.timeout(5):
            while True:
                call = await calls.get()
                if call.method == "getUpdates" and int(call.params.get("offset") or 0) > poison_id:
                    break
        # A message sent after it is answered as usual.
        api.push_update(updates.text(STRANGER, "/help"))
        await _texts(calls, 1)
    finally:
        await _stop(app)
    assert private_log.getvalue().count(f"telegram update {poison_id} skipped") == 1
