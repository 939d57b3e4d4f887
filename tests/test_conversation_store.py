"""Who each user is and where their conversation stands, kept between their updates
(`handlers.conversation_store`).

The rules of the store itself, then what a user sees when the kept copy is out of date: another
process moved the conversation on, the roster changed, the user chose a language, a step failed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import pytest
from sqlmodel import select

from handlers import student_picker
from handlers.conversation_store import ConversationStore, UserTurn
from handlers.student_picker import Pupil
from models.accounts.tables import ChannelAccount, PersonKind
from models.conversations.store import ConversationState, Snapshot
from models.db.engine import Database
from models.db.update_tx import UpdateTx
from models.roster.tables import Staff
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import chat_as, conversation_of, visit_dispatcher

AT = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def account(external_id: str = "7") -> ChannelAccount:
    return ChannelAccount(
        id=1,
        school_id=1,
        channel="telegram",
        external_id=external_id,
        chat_id=external_id,
        person_kind=PersonKind.STAFF,
        person_id=3,
    )


def state(version: int) -> ConversationState:
    return ConversationState(1, "visit", "form", {}, [], AT, version)


BOUND = Snapshot(account(), None, None, None)
UNBOUND = Snapshot(None, None, None, None)
#: The store reads nothing through the transaction while it has a kept copy.
NO_TX = cast(UpdateTx, object())


def read(
    store: ConversationStore,
    snapshot: Snapshot,
    conversation: ConversationState | None,
    user_id: str = "7",
) -> UserTurn:
    """A turn as if `snapshot` had just been read from the database."""
    return store.begin(NO_TX, 1, "telegram", user_id, replace(snapshot, conversation=conversation))


@pytest.mark.parametrize(
    ("snapshot", "seconds_later", "kept"),
    [
        (BOUND, 0.0, True),
        (BOUND, 59.9, True),
        (BOUND, 60.0, False),  # the account and person are read again after the TTL
        (UNBOUND, 0.0, False),  # nobody unbound is kept: their first binding must be seen
    ],
)
def test_what_is_kept_and_for_how_long(
    snapshot: Snapshot, seconds_later: float, kept: bool
) -> None:
    ticks = Ticks()
    store = ConversationStore(ttl=60.0, monotonic=ticks)
    store.keep(read(store, snapshot, state(3)))
    ticks.now += seconds_later

    found = store.get("telegram", "7")

    assert (found is not None) is kept
    if found is not None:
        assert found.conversation == state(3)


async def test_a_kept_copy_carries_the_conversation_as_it_now_stands() -> None:
    ticks = Ticks()
    store = ConversationStore(monotonic=ticks)
    store.keep(read(store, BOUND, state(1)))
    ticks.now += 30
    turn = await store.load(NO_TX, 1, "telegram", "7", fresh=False)
    assert turn.kept and turn.conversation == state(1)
    turn.conversation = state(2)
    store.keep(turn)
    kept = store.get("telegram", "7")
    assert kept is not None and kept.conversation == state(2)
    ticks.now += 31  # 61 s after the account was read: due again, whatever the conversation

    assert store.get("telegram", "7") is None


def test_forgetting_and_the_size_limit() -> None:
    store = ConversationStore(limit=2)
    store.keep(read(store, BOUND, state(1), "1"))
    store.keep(read(store, BOUND, state(1), "2"))
    store.forget("telegram", "1")
    assert store.get("telegram", "1") is None and len(store) == 1
    store.keep(read(store, BOUND, state(1), "3"))
    store.keep(read(store, BOUND, state(1), "4"))  # over the limit: start afresh
    assert len(store) == 1 and store.get("telegram", "4") is not None


def test_a_user_with_no_conversation_open_is_not_kept() -> None:
    # Another worker may open one with the user's next update: a copy showing none would take
    # a typed answer to that worker's question for free text.
    store = ConversationStore()
    store.keep(read(store, BOUND, state(1)))
    turn = read(store, BOUND, state(1))
    turn.conversation = None  # the update ended the flow
    store.keep(turn)

    assert store.get("telegram", "7") is None and len(store) == 0


def test_a_turn_during_which_the_user_was_forgotten_keeps_nothing() -> None:
    store = ConversationStore()
    turn = read(store, BOUND, state(1))
    store.forget("telegram", "7")  # e.g. the update bound or changed the account

    store.keep(turn)

    assert store.get("telegram", "7") is None


async def test_a_conversation_moved_on_by_another_process_is_read_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    here = await chat_as(db, clock, ts.staff["王芳"])
    await here.steps("/visit", "三(2)班", "张小明")
    assert "请选择家访形式" in here.text
    # The same account, served for one step by another process (its own dispatcher).
    there = await chat_as(db, clock, ts.staff["王芳"], visit_dispatcher(db, clock))
    there.user_id = here.user_id
    there.replies = here.replies
    await there.press("上门家访")
    assert "请选择家访分类" in there.text

    # Here the kept copy still says "form": the write is refused and the update read again.
    here.replies = there.replies
    await here.press("常规")

    assert "家访是哪一天" in here.text
    conversation = await conversation_of(db, here)
    assert conversation is not None and conversation.state == "date"
    assert conversation.draft["form"] == "home" and conversation.draft["category"] == "routine"


async def test_a_teacher_deactivated_by_a_roster_import_is_refused_once_the_copy_expires(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = visit_dispatcher(db, clock)
    ticks = Ticks()
    dispatcher.conversations = ConversationStore(ttl=60.0, monotonic=ticks)
    user = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await user.send("/help")
    async with db.session() as session:
        staff = (await session.exec(select(Staff).where(Staff.name == "王芳"))).one()
        staff.active = False
        session.add(staff)

    ticks.now += 61
    await user.send("/visit")

    assert "还没有与学校名册绑定" in user.text
    assert user.labels == []


async def test_a_language_choice_is_seen_at_the_next_message(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/help")
    await user.send("/lang en")
    await user.send("/visit")

    assert "Please choose the student's class" in user.text


async def test_a_failed_step_forgets_the_kept_copy(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班")
    assert user.dispatcher.conversations.get(user.channel, user.user_id) is not None
    page = user.replies

    async def broken(**kwargs: object) -> list[Pupil]:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(student_picker, "pool_pupils", broken)
        await user.press("张小明")

    assert "没有保存" in user.text
    assert user.dispatcher.conversations.get(user.channel, user.user_id) is None
    user.replies = page  # the teacher presses the same button again
    await user.press("张小明")
    assert "请选择家访形式" in user.text
