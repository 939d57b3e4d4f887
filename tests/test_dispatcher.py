"""The conversation engine, with a two-step test flow (the real flows have their own tests)."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from sqlmodel import select

from handlers.actions import Action, action_button, parse_action
from handlers.context import Context
from handlers.dispatcher import Dispatcher, parse_command
from handlers.flow import Flow
from handlers.types import Button, Inbound, Reply, Transition
from models import Conversation, OutboxMessage
from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school


class State(StrEnum):
    COLOUR = "colour"
    NAME = "name"


class Draft(BaseModel):
    colour: str = ""
    name: str = ""


SAVED: list[Draft] = []


async def _start(inbound: Inbound, draft: Draft, ctx: Context, args: str) -> Transition:
    return Transition.to(
        State.COLOUR,
        Reply.with_buttons("颜色？", [[Button("红", "c:red"), Button("蓝", "c:blue")]]),
    )


async def _colour(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    if inbound.callback is None:
        return Transition.to(
            State.COLOUR,
            Reply.with_buttons("请点按钮。", [[Button("红", "c:red"), Button("蓝", "c:blue")]]),
        )
    draft.colour = inbound.callback.removeprefix("c:")
    return Transition.to(State.NAME, Reply("名字？"))


async def _name(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    if inbound.text == "boom":
        raise RuntimeError("a bug in a step")
    draft.name = inbound.text or ""
    SAVED.append(draft)
    return Transition.end(Reply(f"好的：{draft.colour} {draft.name}"))


def _flow() -> Flow:
    return Flow(
        name="pick",
        draft_type=Draft,
        steps={State.COLOUR: _colour, State.NAME: _name},
        start=_start,
        commands=("pick", "选"),
        allowed=lambda ctx: ctx.staff is not None,
        describe="选一个颜色",
    )


def _dispatcher(db: Database, clock: FakeClock) -> Dispatcher:
    return Dispatcher(db, [_flow()], zone=ZoneInfo("Asia/Shanghai"), clock=clock)


def _text(user: str, text: str, key: str | None = None, channel: str = "console") -> Inbound:
    return Inbound(channel=channel, user_id=user, chat_id=user, text=text, update_key=key)


def _press(user: str, data: str, channel: str = "console") -> Inbound:
    return Inbound(channel=channel, user_id=user, chat_id=user, callback=data)


@pytest.fixture(autouse=True)
def _clear_saved() -> None:
    SAVED.clear()


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/visit", "visit", ""),
        ("/visit@jiafang_bot 张小明", "visit", "张小明"),
        ("/START abc", "start", "abc"),
        ("家访", "visit", ""),
        ("家访 张小明", "visit", "张小明"),
        ("帮助", "help", ""),
    ],
)
def test_commands_are_recognised_with_slash_or_keyword(text: str, name: str, args: str) -> None:
    command = parse_command(text, {"家访": "visit", "帮助": "help"})
    assert command is not None
    assert (command.name, command.args) == (name, args)


@pytest.mark.parametrize("text", ["今天家访了张小明", "hello", "", "/"])
def test_ordinary_text_is_not_a_command(text: str) -> None:
    assert parse_command(text, {"家访": "visit"}) is None


async def test_unbound_user_gets_a_polite_explanation_and_no_data(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    response = await _dispatcher(db, clock).handle(_text("stranger", "/pick"))
    [reply] = response.replies
    assert "还没有与学校名册绑定" in reply.text
    assert reply.request_contact
    assert "颜色" not in reply.text


async def test_a_flow_runs_to_the_end_through_buttons_and_text(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    first = await dispatcher.handle(_text(user, "/pick"))
    assert first.replies[0].choices() == ["c:red", "c:blue"]
    pressed = await dispatcher.handle(_press(user, "c:blue"))
    assert pressed.chosen == "蓝"
    done = await dispatcher.handle(_text(user, "小蓝"))
    assert done.replies[0].text == "好的：blue 小蓝"
    async with db.session() as session:
        assert (await session.exec(select(Conversation))).all() == []


async def test_a_number_presses_the_button_on_numbered_channels(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "选"))
    response = await dispatcher.handle(_text(user, "2"))
    assert response.chosen == "蓝"
    assert response.replies[0].text == "名字？"


async def test_a_button_that_was_not_offered_is_refused(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    response = await dispatcher.handle(_press(user, "c:green"))
    assert "已过期" in response.replies[0].text
    still = await dispatcher.handle(_press(user, "c:red"))
    assert still.replies[0].text == "名字？"


async def test_a_redelivered_update_is_handled_once(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"], channel="telegram", external_id="77")
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick", key="1", channel="telegram"))
    await dispatcher.handle(_press(user, "c:red", channel="telegram"))
    first = await dispatcher.handle(_text(user, "小红", key="3", channel="telegram"))
    again = await dispatcher.handle(_text(user, "小红", key="3", channel="telegram"))
    assert first.replies and not again.replies
    assert len(SAVED) == 1


async def test_a_redelivered_button_press_moves_the_conversation_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"], channel="telegram", external_id="78")
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick", key="1", channel="telegram"))
    press = replace(_press(user, "c:red", channel="telegram"), update_key="2")
    first = await dispatcher.handle(press)
    again = await dispatcher.handle(press)
    assert [r.text for r in first.replies] == ["名字？"]
    assert not again.replies
    async with db.session() as session:
        conversation = (await session.exec(select(Conversation))).one()
    assert (conversation.state, conversation.draft["colour"]) == ("name", "red")
    done = await dispatcher.handle(_text(user, "小红", key="3", channel="telegram"))
    assert done.replies[0].text == "好的：red 小红"


async def test_a_failing_step_saves_nothing_and_keeps_the_conversation(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    await dispatcher.handle(_press(user, "c:red"))
    response = await dispatcher.handle(_text(user, "boom"))
    assert "没有保存" in response.replies[0].text
    assert "Traceback" not in response.replies[0].text
    retry = await dispatcher.handle(_text(user, "小红"))
    assert retry.replies[0].text == "好的：red 小红"


async def test_cancel_ends_the_flow_without_saving(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    response = await dispatcher.handle(_text(user, "/cancel"))
    assert "已取消" in response.replies[0].text
    after = await dispatcher.handle(_press(user, "c:red"))
    assert "已失效" in after.replies[0].text
    assert SAVED == []


async def test_the_conversation_survives_a_restart(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    await _dispatcher(db, clock).handle(_text(user, "/pick"))
    await _dispatcher(db, clock).handle(_press(user, "c:red"))
    response = await _dispatcher(db, clock).handle(_text(user, "小红"))
    assert response.replies[0].text == "好的：red 小红"


async def test_an_idle_conversation_ends_politely_after_thirty_minutes(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    clock.advance(minutes=29)
    assert await dispatcher.expire_idle() == 0
    clock.advance(minutes=2)
    assert await dispatcher.expire_idle() == 1
    assert await dispatcher.expire_idle() == 0
    async with db.session() as session:
        [message] = (await session.exec(select(OutboxMessage))).all()
    assert "30 分钟" in message.payload["text"]
    assert message.chat_id == user
    late = await dispatcher.handle(_press(user, "c:red"))
    assert "已失效" in late.replies[0].text


async def test_a_late_answer_after_the_timeout_is_told_the_flow_ended(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    clock.advance(minutes=45)
    response = await dispatcher.handle(_press(user, "c:red"))
    assert "已自动结束" in response.replies[0].text


async def test_language_switches_to_english_and_back(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    english = await dispatcher.handle(_text(user, "/lang en"))
    assert english.replies[0].text.isascii()
    cancelled = await dispatcher.handle(_text(user, "/cancel"))
    assert cancelled.replies[0].text.isascii()
    chinese = await dispatcher.handle(_text(user, "/lang zh"))
    assert "中文" in chinese.replies[0].text


async def test_help_lists_the_flows_the_person_may_use(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await bind(db, clock, ts.staff["王芳"])
    parent = await bind(db, clock, ts.guardians["刘梅"])
    dispatcher = _dispatcher(db, clock)
    teacher_help = await dispatcher.handle(_text(teacher, "/help"))
    parent_help = await dispatcher.handle(_text(parent, "/help"))
    assert "/pick" in teacher_help.replies[0].text
    assert "/pick" not in parent_help.replies[0].text


async def test_a_parent_cannot_start_a_staff_flow(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    parent = await bind(db, clock, ts.guardians["刘梅"])
    response = await _dispatcher(db, clock).handle(_text(parent, "/pick"))
    assert "只对本校教师开放" in response.replies[0].text


async def test_without_a_school_the_bot_says_the_roster_is_missing(
    db: Database, clock: FakeClock
) -> None:
    response = await _dispatcher(db, clock).handle(_text("someone", "/start"))
    assert "名册尚未导入" in response.replies[0].text


async def test_starting_a_flow_over_an_unfinished_one_asks_before_dropping_it(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    await dispatcher.handle(_press(user, "c:red"))
    asked = await dispatcher.handle(_text(user, "/pick"))
    assert asked.replies[0].text == "您有一项未完成的操作（选一个颜色），要先保存草稿吗？"
    assert [b.label for b in asked.replies[0].flat_buttons()] == ["继续记录", "保存草稿", "放弃"]
    dropped = await dispatcher.handle(_text(user, "3"))
    assert "已放弃" in dropped.replies[0].text
    assert dropped.replies[-1].choices() == ["c:red", "c:blue"]


async def test_going_on_after_a_command_mid_flow_asks_the_same_question_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    await dispatcher.handle(_press(user, "c:red"))
    await dispatcher.handle(_text(user, "/pick"))
    again = await dispatcher.handle(_text(user, "继续记录"))
    assert [r.text for r in again.replies] == ["名字？"]
    done = await dispatcher.handle(_text(user, "小红"))
    assert done.replies[0].text == "好的：red 小红"


async def test_a_command_that_only_answers_mid_flow_leaves_the_question_in_place(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    helped = await dispatcher.handle(_text(user, "/help"))
    assert "/pick" in helped.replies[0].text
    assert helped.replies[-1].text == "颜色？"
    chosen = await dispatcher.handle(_text(user, "2"))
    assert chosen.chosen == "蓝"


async def test_going_back_asks_the_earlier_question_with_the_draft_as_it_was(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    await dispatcher.handle(_press(user, "c:red"))
    back = await dispatcher.handle(_text(user, "上一步"))
    assert [r.text for r in back.replies] == ["好的，回到上一步。", "颜色？"]
    await dispatcher.handle(_press(user, "c:blue"))
    done = await dispatcher.handle(_text(user, "小蓝"))
    assert done.replies[0].text == "好的：blue 小蓝"


async def test_going_back_at_the_first_question_says_there_is_none(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    first = await dispatcher.handle(_text(user, "返回"))
    assert [r.text for r in first.replies] == ["这已经是第一步了，没有上一步。", "颜色？"]
    assert first.replies[-1].choices() == ["c:red", "c:blue"]


# -- action buttons (handlers.actions) --------------------------------------------------------

ACTED: list[tuple[str, str]] = []


async def _wave(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    ACTED.append((ctx.actor, argument))
    return [Reply(f"已收到 {argument}", edit=True)]


def _dispatcher_with_action(db: Database, clock: FakeClock) -> Dispatcher:
    return Dispatcher(
        db,
        [_flow()],
        zone=ZoneInfo("Asia/Shanghai"),
        clock=clock,
        actions=[Action("wave", _wave)],
    )


async def test_an_action_button_works_in_the_middle_of_a_conversation_and_leaves_it_alone(
    db: Database, clock: FakeClock
) -> None:
    ACTED.clear()
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    dispatcher = _dispatcher_with_action(db, clock)
    await dispatcher.handle(_text(user, "/pick"))
    acted = await dispatcher.handle(_press(user, action_button("知道了", "wave", 7).data))
    assert acted.action
    assert [r.text for r in acted.replies] == ["已收到 7"]
    assert [(f"staff:{ts.staff['王芳'].id}", "7")] == ACTED
    # The conversation still waits for its colour.
    pressed = await dispatcher.handle(_press(user, "c:red"))
    assert pressed.chosen == "红"


async def test_an_unknown_action_is_refused_politely(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    response = await _dispatcher_with_action(db, clock).handle(_press(user, "!nothing:1"))
    assert [r.text for r in response.replies] == ["这个按钮已失效。"]


async def test_an_unbound_user_cannot_press_an_action_button(
    db: Database, clock: FakeClock
) -> None:
    ACTED.clear()
    await seed_school(db)
    response = await _dispatcher_with_action(db, clock).handle(_press("stranger", "!wave:1"))
    assert "还没有与学校名册绑定" in response.replies[0].text
    assert ACTED == []


@pytest.mark.parametrize(
    ("data", "parsed"),
    [("!ack:42", ("ack", "42")), ("!ack:", ("ack", "")), ("ack:42", None), ("!ack", None)],
)
def test_action_data_is_told_apart_from_conversation_data(
    data: str, parsed: tuple[str, str] | None
) -> None:
    assert parse_action(data) == parsed
