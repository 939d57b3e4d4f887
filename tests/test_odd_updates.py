"""Updates the generated ones found to fail, each answered kindly now (`tests/test_fuzz_updates.py`)."""

from __future__ import annotations

import logging
from enum import StrEnum

import pytest
from pydantic import BaseModel

from handlers.context import Context
from handlers.dispatcher import Dispatcher, without_controls
from handlers.flow import Flow
from handlers.registry import all_actions, all_flows
from handlers.types import FileRef, Inbound, Reply, Transition
from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.fuzz_updates import SCHOOL, FuzzWorld, Person, failures_logged, fuzz_world
from tests.helpers.visits import ZONE, ChatUser

EXPIRED = "这个按钮已失效。"


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> FuzzWorld:
    return await fuzz_world(db, clock)


def head_teacher(world: FuzzWorld) -> ChatUser:
    """王芳 on the console."""
    person = world.people[0]
    return ChatUser(world.dispatcher, person.user_id, person.channel)


def admin(world: FuzzWorld) -> ChatUser:
    """赵丽华 of 德育处 on the console."""
    person = world.people[3]
    return ChatUser(world.dispatcher, person.user_id, person.channel)


def document(user: ChatUser, ref: str = "BQACAgIAAxk", size: int | None = 1000) -> Inbound:
    file = FileRef(user.channel, ref, "document", "研学安排.pdf", size)
    return Inbound(channel=user.channel, user_id=user.user_id, chat_id=user.user_id, document=file)


async def test_an_action_button_naming_a_record_past_any_id_is_answered_as_expired(
    world: FuzzWorld,
) -> None:
    user = head_teacher(world)
    with failures_logged() as log:
        await user.callback("!nst:99999999999999999999999")
    assert user.text == EXPIRED
    assert not log.failures


async def test_an_action_button_with_a_superscript_digit_is_answered_as_expired(
    world: FuzzWorld,
) -> None:
    user = head_teacher(world)
    with failures_logged() as log:
        await user.callback("!nqa:²")
    assert user.text == EXPIRED
    assert not log.failures


async def test_a_typed_superscript_digit_is_read_as_an_answer_not_a_button_number(
    world: FuzzWorld,
) -> None:
    user = head_teacher(world)
    await user.send("/visit")
    with failures_logged() as log:
        await user.send("²")
    assert not log.failures
    assert "班级" in user.text


async def test_a_conversation_ends_politely_when_its_account_is_bound_again_as_a_parent(
    world: FuzzWorld,
) -> None:
    user = head_teacher(world)
    await user.send("/visit")
    await user._handle(
        Inbound(
            channel=user.channel,
            user_id=user.user_id,
            chat_id=user.user_id,
            contact_phone=world.roster_phone,
        )
    )
    with failures_logged() as log:
        await user.send("三(2)班")
    assert not log.failures
    assert (
        user.text
        == "上一项未完成的操作已放弃，没有保存。\n记录家访只对班主任、任课教师、教练、德育处和校长开放。"
    )


async def test_a_document_with_a_size_below_zero_is_asked_for_again(world: FuzzWorld) -> None:
    user = admin(world)
    await user.steps("/notice", "外出活动", ">秋季研学活动通知", ">11月20日全天赴科技馆研学。")
    await user._handle(document(user, size=-(2**70)))
    assert user.text == "这个文件没能收到，请重新发送一次。"


async def test_a_file_reference_longer_than_any_messengers_is_asked_for_again(
    world: FuzzWorld,
) -> None:
    user = admin(world)
    await user.steps("/notice", "外出活动", ">秋季研学活动通知", ">11月20日全天赴科技馆研学。")
    await user._handle(document(user, ref="A" * 201))
    assert user.text == "这个文件没能收到，请重新发送一次。"


def test_control_characters_are_dropped_from_a_documents_name_and_reference() -> None:
    file = FileRef("telegram", "BQ\x00AC", "document", "研学\x00安排\x07.pdf", 1000)
    inbound = Inbound(channel="telegram", user_id="1", chat_id="1", document=file)
    cleaned = without_controls(inbound).document
    assert cleaned is not None
    assert (cleaned.ref, cleaned.name) == ("BQAC", "研学安排.pdf")


class State(StrEnum):
    ONLY = "only"


class Draft(BaseModel):
    pass


async def _start(inbound: Inbound, draft: Draft, ctx: Context, args: str) -> Transition:
    return Transition.to(State.ONLY, Reply("请说。"))


async def _fail(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    raise RuntimeError("a step that fails")


FAILING = Flow(
    name="fail",
    draft_type=Draft,
    steps={State.ONLY: _fail},
    start=_start,
    commands=("fail",),
    allowed=lambda ctx: ctx.staff is not None,
)


def failing_dispatcher(world: FuzzWorld) -> Dispatcher:
    flows = [FAILING, *all_flows()]
    return Dispatcher(
        world.db, flows, zone=ZONE, school_name=SCHOOL, clock=world.clock, actions=all_actions()
    )


async def test_a_failed_update_leaves_the_school_kept_between_updates_usable(
    world: FuzzWorld, caplog: pytest.LogCaptureFixture
) -> None:
    person: Person = world.people[0]
    await ChatUser(failing_dispatcher(world), person.user_id).send("/fail")
    # A new dispatcher (a restart): the failing step is the first update to read the school.
    user = ChatUser(failing_dispatcher(world), person.user_id)
    with caplog.at_level(logging.CRITICAL, logger="handlers.dispatcher"):
        await user.send("随便说一句")
    with failures_logged() as log:
        await user.send("/help")
    assert not log.failures
    assert "您可以发送" in user.text
