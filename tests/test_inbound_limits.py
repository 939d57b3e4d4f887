"""A received text is held to what its messenger carries in one message (Telegram 4,096
characters, a caption 1,024; WeCom 2,048 bytes; the console 4,096 characters). A longer one is
cut and marked, and the dispatcher answers that it was too long, reads none of it and leaves the
conversation as it was."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, Update

from bot.channels.console import ConsoleChannel
from bot.channels.telegram_render import update_to_inbound
from bot.channels.wecom import TEXT_IN_LIMIT_BYTES, callback_to_inbound
from handlers.dispatcher import Dispatcher
from handlers.types import Inbound
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.telegram_request import TgUser, UpdateFactory
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import chat_as, conversation_of

TEACHER = TgUser(5001, "芳")
TOO_LONG = "超出了一条消息的长度上限"


def _telegram(payload: dict[str, Any]) -> Inbound:
    inbound = update_to_inbound(Update.de_json(payload, Bot(TEST_TOKEN)))
    assert inbound is not None
    return inbound


def _wecom_text(content: str) -> Inbound:
    message = {"FromUserName": "WangFang", "MsgType": "text", "Content": content}
    inbound = callback_to_inbound({**message, "update_key": "1"})
    assert inbound is not None
    return inbound


def test_a_telegram_text_as_long_as_telegram_carries_is_passed_on_whole() -> None:
    inbound = _telegram(UpdateFactory().text(TEACHER, "好" * 4096))
    assert (inbound.text, inbound.text_cut) == ("好" * 4096, False)


def test_a_telegram_text_longer_than_telegram_carries_is_cut_and_marked() -> None:
    inbound = _telegram(UpdateFactory().text(TEACHER, "好" * 50_000))
    assert (inbound.text, inbound.text_cut) == ("好" * 4096, True)


def test_a_photo_caption_longer_than_telegram_carries_is_cut_and_marked() -> None:
    payload = UpdateFactory().text(TEACHER, "")
    message = payload["message"]
    del message["text"]
    message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    message["caption"] = "好" * 2000
    inbound = _telegram(payload)
    assert (inbound.photo, inbound.text, inbound.text_cut) == ("p1", "好" * 1024, True)


def test_a_wecom_text_of_exactly_its_byte_limit_is_passed_on_whole() -> None:
    inbound = _wecom_text("a" * TEXT_IN_LIMIT_BYTES)
    assert (inbound.text, inbound.text_cut) == ("a" * TEXT_IN_LIMIT_BYTES, False)


def test_a_wecom_text_over_its_byte_limit_is_cut_between_characters_and_marked() -> None:
    fit = TEXT_IN_LIMIT_BYTES // 3  # three bytes each
    inbound = _wecom_text("好" * (fit + 100))
    assert (inbound.text, inbound.text_cut) == ("好" * fit, True)


def test_a_wecom_text_holds_a_whole_notice_body() -> None:
    body = "好" * 3000  # a notice's longest body
    assert _wecom_text(body).text_cut is False


async def test_a_console_line_longer_than_the_largest_messenger_carries_is_refused(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    dispatcher = Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"), clock=clock)
    out = io.StringIO()
    await ConsoleChannel(dispatcher, stdin=io.StringIO("好" * 5000 + "\n"), stdout=out).run()
    assert TOO_LONG in out.getvalue()


async def test_a_cut_text_is_refused_and_the_conversation_stays_as_it_was(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/visit")
    before = await conversation_of(db, user)
    assert before is not None
    response = await user.dispatcher.handle(
        Inbound(
            channel=user.channel,
            user_id=user.user_id,
            chat_id=user.user_id,
            text="/cancel",
            text_cut=True,
        )
    )
    [reply] = response.replies
    assert TOO_LONG in reply.text
    after = await conversation_of(db, user)
    assert after is not None
    assert (after.flow, after.state, after.draft) == (before.flow, before.state, before.draft)
