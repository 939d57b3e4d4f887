"""The Telegram channel: the real python-telegram-bot `Application`, the Bot API faked in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel
from sqlmodel import select
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import PermanentSendError, RetryableSendError, UnknownSendOutcome
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_errors import classify
from bot.channels.telegram_render import split_text, update_to_inbound
from handlers.context import Context
from handlers.flow import Flow
from handlers.types import Button, Inbound, Reply, Transition
from models.accounts.invites import issue_invite
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from tests.fakes import TEST_TOKEN, TelegramHarness
from tests.fakes.telegram_request import (
    Failure,
    FakeBotApi,
    FakeTelegramRequest,
    TgUser,
    UpdateFactory,
)
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind
from tests.helpers.outbox import school_for_rows

TEACHER = TgUser(5001, "芳")
PARENT = TgUser(5002, "梅")
STRANGER = TgUser(5003, "路人")


# -- a tiny flow, so these tests do not depend on /visit ------------------------------------------


class State(StrEnum):
    COLOUR = "colour"
    NAME = "name"


class Draft(BaseModel):
    colour: str = ""


COLOURS = [[Button("红色", "c:red"), Button("蓝色", "c:blue")]]


async def _start(inbound: Inbound, draft: Draft, ctx: Context, args: str) -> Transition:
    return Transition.to(State.COLOUR, Reply.with_buttons("选一个颜色：", COLOURS))


async def _colour(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    if inbound.callback is None:
        return Transition.to(State.COLOUR, Reply.with_buttons("请点按钮选颜色。", COLOURS))
    draft.colour = inbound.callback.removeprefix("c:")
    return Transition.to(State.NAME, Reply("起个名字："))


async def _name(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    return Transition.end(Reply(f"已记下：{draft.colour} {inbound.text}"))


PICK = Flow(
    name="pick",
    draft_type=Draft,
    steps={State.COLOUR: _colour, State.NAME: _name},
    start=_start,
    commands=("pick",),
    allowed=lambda ctx: ctx.staff is not None,
    describe="选一个颜色",
)


@pytest.fixture
async def tg(
    db: Database, clock: FakeClock, school: factories.TestSchool
) -> AsyncIterator[TelegramHarness]:
    harness = await TelegramHarness(db, clock, [PICK]).start()
    yield harness
    await harness.stop()


async def invite_code(db: Database, clock: FakeClock, kind: PersonKind, person_id: int) -> str:
    async with db.session() as session:
        invite = await issue_invite(
            session=session,
            school_id=1,
            kind=kind,
            person_id=person_id,
            now=clock(),
            ttl=timedelta(days=30),
        )
        return invite.code


async def account_of(db: Database, user: TgUser) -> ChannelAccount | None:
    async with db.session() as session:
        query = select(ChannelAccount).where(
            ChannelAccount.channel == "telegram", ChannelAccount.external_id == str(user.id)
        )
        return (await session.exec(query)).first()


# -- Update → Inbound, as a table ----------------------------------------------------------------

F = UpdateFactory(start=900)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (F.text(TEACHER, "你好", update_id=1), {"text": "你好", "update_key": "1"}),
        (F.text(TEACHER, "/start ABC234", update_id=2), {"text": "/start ABC234"}),
        (
            F.callback(TEACHER, "c:red", message_id=77, update_id=3),
            {"callback": "c:red", "text": None, "message_id": 77},
        ),
        (
            F.contact(PARENT, "+86 137 0000 0000", update_id=4),
            {"contact_phone": "+86 137 0000 0000", "user_id": "5002"},
        ),
        (F.contact(PARENT, "+86 139 0000 0001", owner=TEACHER.id), None),
        (F.contact(PARENT, "+86 139 0000 0001", owner=0), None),
        (F.group_text(TEACHER, "/start"), None),
        (F.sticker(TEACHER), None),
    ],
    ids=[
        "text",
        "command",
        "callback",
        "own-contact",
        "someone-elses-contact",
        "contact-without-owner",
        "group",
        "sticker",
    ],
)
def test_updates_become_inbounds_only_for_what_the_bot_understands(
    payload: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    inbound = update_to_inbound(Update.de_json(payload, Bot(TEST_TOKEN)))
    if expected is None:
        assert inbound is None
        return
    assert inbound is not None
    assert inbound.channel == "telegram"
    assert inbound.language_hint == "zh-hans"
    for name, value in expected.items():
        actual = inbound.extra.get(name) if name == "message_id" else getattr(inbound, name)
        assert actual == value


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("短消息", 10, ["短消息"]),
        ("a" * 25, 10, ["a" * 10, "a" * 10, "a" * 5]),
        ("第一行\n第二行很长很长", 8, ["第一行", "第二行很长很长"]),
        ("", 10, [""]),
    ],
)
def test_long_text_is_split_at_line_breaks_where_possible(
    text: str, limit: int, pieces: list[str]
) -> None:
    assert split_text(text, limit) == pieces


@pytest.mark.parametrize(
    ("error", "expected", "retry_after"),
    [
        (RetryAfter(7), RetryableSendError, 7.0),
        (TimedOut(), UnknownSendOutcome, None),
        (NetworkError("connection refused"), RetryableSendError, None),
        (Forbidden("Forbidden: bot was blocked by the user"), PermanentSendError, None),
        (BadRequest("Bad Request: chat not found"), PermanentSendError, None),
    ],
)
def test_telegram_errors_fall_into_the_outbox_classes(
    error: TelegramError, expected: type[Exception], retry_after: float | None
) -> None:
    classified = classify(error)
    assert type(classified) is expected
    assert getattr(classified, "retry_after", None) == retry_after


# -- TelegramChannel.send over the fake Bot API -------------------------------------------------


@pytest.fixture
async def channel_api() -> AsyncIterator[tuple[TelegramChannel, FakeBotApi]]:
    api = FakeBotApi()
    bot = Bot(TEST_TOKEN, request=FakeTelegramRequest(api))
    async with bot:
        yield TelegramChannel(bot), api


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Failure.RETRY_AFTER, RetryableSendError),
        (Failure.NETWORK, RetryableSendError),
        (Failure.TIMEOUT, UnknownSendOutcome),
        (Failure.BLOCKED, PermanentSendError),
        (Failure.CHAT_NOT_FOUND, PermanentSendError),
    ],
)
async def test_channel_send_failures_are_classified(
    channel_api: tuple[TelegramChannel, FakeBotApi], failure: Failure, expected: type[Exception]
) -> None:
    channel, api = channel_api
    api.fail("sendMessage", failure)
    with pytest.raises(expected):
        await channel.send("5001", Reply("通知"))


async def test_channel_sends_a_long_reply_in_pieces_with_buttons_on_the_last(
    channel_api: tuple[TelegramChannel, FakeBotApi],
) -> None:
    channel, api = channel_api
    await channel.send("5001", Reply.with_buttons("长" * 5000, [[Button("已阅", "ack:1")]]))
    sent = api.calls_of("sendMessage")
    assert [len(c.params["text"]) for c in sent] == [4096, 904]
    assert "reply_markup" not in sent[0].params
    assert sent[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ack:1"


async def test_a_failure_after_part_of_a_long_reply_left_is_an_unknown_outcome(
    channel_api: tuple[TelegramChannel, FakeBotApi],
) -> None:
    channel, api = channel_api
    api.fail("sendMessage", Failure.NETWORK, after=1)  # the second piece fails
    with pytest.raises(UnknownSendOutcome):
        await channel.send("5001", Reply("长" * 5000))
    assert len(api.calls_of("sendMessage")) == 2


# -- onboarding through the Application ----------------------------------------------------------


async def test_an_unbound_user_gets_the_explanation_and_the_share_contact_keyboard(
    tg: TelegramHarness,
) -> None:
    texts = await tg.say(STRANGER, "/visit")
    assert len(texts) == 1
    assert "还没有与学校名册绑定" in texts[0]
    assert "张小明" not in texts[0] and "测试小学" not in texts[0]
    keyboard = tg.api.last_sent(STRANGER.id).params["reply_markup"]
    assert keyboard["one_time_keyboard"] is True
    assert keyboard["keyboard"][0][0]["request_contact"] is True


async def test_start_with_a_staff_invite_binds_and_greets_the_teacher_by_role(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: factories.TestSchool
) -> None:
    code = await invite_code(db, clock, PersonKind.STAFF, school.staff["王芳"].id or 0)
    texts = await tg.say(TEACHER, f"/start {code}")
    assert texts == [texts[0]]
    assert texts[0].startswith("王芳老师，您好！")
    assert "三(2)班班主任" in texts[0]
    account = await account_of(db, TEACHER)
    assert account is not None
    assert (account.person_kind, account.person_id) == (PersonKind.STAFF, school.staff["王芳"].id)
    assert account.chat_id == str(TEACHER.id)


async def test_start_with_a_guardian_invite_greets_the_parent_with_their_children(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: factories.TestSchool
) -> None:
    code = await invite_code(db, clock, PersonKind.GUARDIAN, school.guardians["刘梅"].id or 0)
    (text,) = await tg.say(PARENT, f"/start {code}")
    assert text.startswith("张小明、张小红家长，您好！")
    assert "三(2)班张小明" in text and "四(1)班张小红" in text


async def test_a_repeated_start_with_the_same_code_by_the_same_user_is_friendly(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: factories.TestSchool
) -> None:
    code = await invite_code(db, clock, PersonKind.STAFF, school.staff["王芳"].id or 0)
    await tg.say(TEACHER, f"/start {code}")
    (again,) = await tg.say(TEACHER, f"/start {code}")
    assert again.startswith("王芳老师，您好！")


async def test_a_code_used_by_someone_else_is_refused(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: factories.TestSchool
) -> None:
    code = await invite_code(db, clock, PersonKind.STAFF, school.staff["王芳"].id or 0)
    await tg.say(TEACHER, f"/start {code}")
    (text,) = await tg.say(STRANGER, f"/start {code}")
    assert "已经被使用过" in text
    assert await account_of(db, STRANGER) is None


async def test_someone_elses_contact_is_refused_and_binds_nobody(
    tg: TelegramHarness, db: Database
) -> None:
    await tg.feed(tg.updates.contact(STRANGER, "+86 137 0000 0000", owner=PARENT.id))
    sent = tg.api.last_sent(STRANGER.id)
    assert "本人" in sent.params["text"]
    assert sent.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert await account_of(db, STRANGER) is None


async def test_a_guardian_sharing_their_own_contact_is_bound_and_the_keyboard_removed(
    tg: TelegramHarness, db: Database, school: factories.TestSchool
) -> None:
    await tg.feed(tg.updates.contact(PARENT, "+86 137 0000 0000"))
    sent = tg.api.last_sent(PARENT.id)
    assert sent.params["text"].startswith("张小明、张小红家长，您好！")
    assert sent.params["reply_markup"] == {"remove_keyboard": True}
    account = await account_of(db, PARENT)
    assert account is not None and account.person_id == school.guardians["刘梅"].id


async def test_a_redelivered_update_is_handled_once(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: factories.TestSchool
) -> None:
    await bind(db, clock, school.staff["王芳"], channel="telegram", external_id=str(TEACHER.id))
    payload = tg.updates.text(TEACHER, "/pick")
    await tg.feed(payload)
    await tg.feed(payload)
    assert tg.api.sent_texts(TEACHER.id) == ["选一个颜色："]


async def test_a_sticker_gets_a_polite_hint(tg: TelegramHarness) -> None:
    await tg.feed(tg.updates.sticker(TEACHER))
    assert "只能读懂文字消息和按钮" in tg.api.last_sent(TEACHER.id).params["text"]


async def test_a_command_in_a_group_asks_for_a_private_chat(tg: TelegramHarness) -> None:
    await tg.feed(tg.updates.group_text(TEACHER, "/start"))
    sent = tg.api.last_sent(-100123)
    assert "私聊" in sent.params["text"] and "@jiafang_test_bot" in sent.params["text"]


# -- buttons ------------------------------------------------------------------------------------


@pytest.fixture
async def teacher(db: Database, clock: FakeClock, school: factories.TestSchool) -> TgUser:
    await bind(db, clock, school.staff["王芳"], channel="telegram", external_id=str(TEACHER.id))
    return TEACHER


async def test_a_pressed_button_is_answered_and_its_message_becomes_the_next_question(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.say(teacher, "/pick")
    question = tg.api.last_keyboard(teacher.id)
    texts = await tg.press(teacher, "c:red")
    assert len(tg.api.calls_of("answerCallbackQuery")) == 1
    assert texts == ["✓ 红色\n\n起个名字："]
    assert len(tg.api.calls_of("sendMessage")) == 1  # the first question; the next is an edit
    edited = tg.api.message(teacher.id, question["message_id"])
    assert edited["text"] == "✓ 红色\n\n起个名字："
    assert "reply_markup" not in edited


async def test_a_pressed_button_whose_message_cannot_be_edited_gets_a_new_message(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.say(teacher, "/pick")
    tg.api.fail("editMessageText", Failure.CHAT_NOT_FOUND)  # e.g. a message too old to edit
    texts = await tg.press(teacher, "c:red")
    assert texts[-1] == "✓ 红色\n\n起个名字："
    assert tg.api.last_sent(teacher.id).params["text"] == "✓ 红色\n\n起个名字："


async def test_an_unknown_callback_gets_a_clear_answer(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.feed(tg.updates.callback(teacher, "forged:1", message_id=4242, message_text="旧消息"))
    assert len(tg.api.calls_of("answerCallbackQuery")) == 1
    assert "这个按钮已失效" in tg.api.last_sent(teacher.id).params["text"]


async def test_a_button_not_offered_now_is_refused_and_the_conversation_goes_on(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.say(teacher, "/pick")
    await tg.feed(tg.updates.callback(teacher, "c:green", message_id=1, message_text="旧"))
    assert "已过期" in tg.api.last_sent(teacher.id).params["text"]
    assert await tg.press(teacher, "c:blue") == ["✓ 蓝色\n\n起个名字："]


async def test_a_second_tap_on_an_old_keyboard_is_refused_without_an_error(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.say(teacher, "/pick")
    question = tg.api.last_keyboard(teacher.id)
    await tg.press(teacher, "c:red")
    # The client still showed the keyboard: a second tap arrives for the edited message.
    await tg.feed(
        tg.updates.callback(
            teacher,
            "c:red",
            message_id=question["message_id"],
            message_text="✓ 红色\n\n起个名字：",
            keyboard=question["reply_markup"],
        )
    )
    assert "已过期" in tg.api.last_sent(teacher.id).params["text"]
    assert tg.api.message(teacher.id, question["message_id"])["text"] == "✓ 红色\n\n起个名字："


async def test_a_conversation_continues_after_the_bot_restarts(
    tg: TelegramHarness, teacher: TgUser
) -> None:
    await tg.say(teacher, "/pick")
    await tg.press(teacher, "c:blue")
    await tg.restart()
    assert await tg.say(teacher, "小蓝") == ["已记下：blue 小蓝"]


# -- the outbox through the application's own worker ----------------------------------------------


async def test_the_application_delivers_outbox_messages_to_telegram(
    tg: TelegramHarness, db: Database, clock: FakeClock
) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key="notice:1:guardian:1",
            kind="notice",
            channel="telegram",
            chat_id=str(PARENT.id),
            payload=Reply.with_buttons("明天停课一天。", [[Button("已阅", "ack:1")]]).to_dict(),
            due_at=clock(),
        )
    tg.worker.wake()
    await tg.settle()
    sent = tg.api.last_sent(PARENT.id)
    assert sent.params["text"] == "明天停课一天。"
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status is OutboxStatus.SENT


async def test_an_idle_conversation_ends_with_a_polite_message(
    tg: TelegramHarness, teacher: TgUser, clock: FakeClock
) -> None:
    await tg.say(teacher, "/pick")
    clock.advance(minutes=31)
    assert tg.dispatcher is not None
    assert await tg.dispatcher.expire_idle() == 1
    await tg.settle()
    assert "已自动结束" in tg.api.last_sent(teacher.id).params["text"]


async def test_a_user_who_blocked_the_bot_is_recorded_as_failed(
    tg: TelegramHarness, db: Database, clock: FakeClock
) -> None:
    tg.api.fail("sendMessage", Failure.BLOCKED)
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key="notice:2",
            kind="notice",
            channel="telegram",
            chat_id=str(PARENT.id),
            payload=Reply("通知").to_dict(),
            due_at=clock(),
        )
    tg.worker.wake()
    await tg.settle()
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status is OutboxStatus.FAILED
    assert "blocked" in row.error


async def test_the_bot_username_from_get_me_goes_into_invite_links(tg: TelegramHarness) -> None:
    assert tg.dispatcher is not None
    assert tg.dispatcher.bot_username == "jiafang_test_bot"


async def test_an_answer_telegram_refused_with_429_arrives_later_through_the_outbox(
    tg: TelegramHarness, teacher: TgUser, db: Database
) -> None:
    tg.api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=1)
    await tg.say(teacher, "/pick")  # the fake records the refused call too
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.kind == "deferred_reply"
    tg.clock.advance(seconds=2)
    tg.worker.wake()
    await tg.settle(within=5)
    assert tg.api.last_sent(teacher.id).params["text"] == "选一个颜色："
    assert len(tg.api.calls_of("sendMessage")) == 2  # the refused try and the delivery
