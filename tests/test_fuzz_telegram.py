"""Generated Telegram updates through python-telegram-bot itself (the fake Bot API behind it):
private and group chats, edited messages, forged and huge button data, documents and photos with
odd metadata, odd contacts — from a bound teacher, a bound parent and a stranger.

Every update is turned into a `telegram.Update` by the library and handed to the Application as
the poller would. No error may reach python-telegram-bot's error handler or the dispatcher's
last resort, every private message and button press is answered, nothing is said in a group
but the privacy note, and a stranger's updates write nothing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import BOT_USER, FAKE_DATE, TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.fuzz_updates import row_counts

TEACHER = TgUser(7001, "王芳")
PARENT = TgUser(7002, "刘梅")
STRANGER = TgUser(7003, "路人")
#: Every update a new id (a repeated one is a redelivery, rightly answered with silence).
UPDATE_IDS = itertools.count(10_000)
GROUP = {"id": -1007001, "type": "supergroup", "title": "三(2)班家长群"}

#: What the bot may say in a group: only that it works in private chats.
GROUP_NOTE = "为保护学生和家庭的隐私，请私聊我使用"

texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["/start", "/help", "/visit", "/notice", "/absence", "/quota", "/drafts"]),
    st.builds(
        lambda command, argument: f"{command} {argument}",
        st.sampled_from(["/start", "/visit", "/notices", "/lang", "/as", "/export"]),
        st.one_of(st.text(max_size=30), st.integers().map(str)),
    ),
    st.sampled_from(["收到", "好的", "孩子今天发烧请假", "上一步", "返回", "保存草稿", "1", "99"]),
)
#: Numbers that break careless parsing: huge, negative, just past a 32- or 64-bit integer.
odd_numbers = st.one_of(
    st.sampled_from([2**31, 2**31 - 1, 2**63, 2**64, 10**20, -1, 0, -(2**63) - 1, 10**100]),
    st.integers(min_value=-(10**30), max_value=10**30),
)
forged_actions = st.builds(
    lambda prefix, number: f"{prefix}{number}",
    st.sampled_from([f"!{a.name}:" for a in all_actions()]),
    st.one_of(odd_numbers, odd_numbers.map(lambda n: f"{n}:{n}")),
)
callback_data = st.one_of(
    forged_actions,
    forged_actions,
    st.text(max_size=64),
    st.builds(
        lambda prefix, number: f"{prefix}{number}",
        st.sampled_from(["child:", "save", "edit:", "form:", "pm-sick:", ""]),
        odd_numbers,
    ),
)
odd_sizes = st.one_of(st.none(), st.integers(min_value=-(2**40), max_value=2**63))
odd_names = st.one_of(st.none(), st.text(max_size=300))
senders = st.sampled_from([TEACHER, PARENT, STRANGER])


def _private(user: TgUser) -> dict[str, Any]:
    return {"id": user.id, "type": "private", "first_name": user.first_name}


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """One update as Telegram would send it (or as a proxy might mangle it)."""
    user = draw(senders)
    kind = draw(
        st.sampled_from(
            ["text", "edited", "group", "callback", "callback", "document", "photo", "contact"]
        )
    )
    message: dict[str, Any] = {
        "message_id": draw(st.integers(min_value=1, max_value=2**31 - 1)),
        "date": FAKE_DATE,
        "chat": GROUP if kind == "group" else _private(user),
        "from": user.to_dict(),
    }
    if kind in ("text", "edited", "group"):
        text = draw(texts)
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"edited_message" if kind == "edited" else "message": message}
    if kind == "callback":
        shown = {"message_id": message["message_id"], "date": FAKE_DATE, "chat": _private(user)}
        query = {
            "id": f"cq{draw(st.integers(min_value=0))}",
            "from": user.to_dict(),
            "chat_instance": "ci",
            "message": {**shown, "from": BOT_USER, "text": draw(st.text(max_size=20))},
            "data": draw(callback_data),
        }
        return {"callback_query": query}
    if kind == "document":
        document: dict[str, Any] = {"file_id": draw(st.text(max_size=250)), "file_unique_id": "u"}
        for key, value in (
            ("file_name", draw(odd_names)),
            ("mime_type", draw(st.one_of(st.none(), st.text(max_size=40)))),
            ("file_size", draw(odd_sizes)),
        ):
            if value is not None:
                document[key] = value
        message["document"] = document
        caption = draw(st.one_of(st.none(), st.text(max_size=40)))
        if caption is not None:
            message["caption"] = caption
    elif kind == "photo":
        sizes = draw(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=3))
        message["photo"] = [
            {"file_id": f"p{i}", "file_unique_id": f"u{i}", "width": s, "height": s}
            | ({"file_size": size} if (size := draw(odd_sizes)) is not None else {})
            for i, s in enumerate(sizes)
        ]
    else:
        owner = draw(st.sampled_from([user.id, None, PARENT.id, 0]))
        phone = draw(st.one_of(st.text(max_size=30), st.just("+86 199-0000-0000")))
        message["contact"] = {"phone_number": phone, "first_name": "x"} | (
            {"user_id": owner} if owner is not None else {}
        )
    return {"message": message}


@pytest.fixture
async def harness(db: Database, clock: FakeClock) -> AsyncIterator[TelegramHarness]:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["王芳"], channel="telegram", external_id=str(TEACHER.id))
    guardian = next(iter(ts.guardians.values()))
    await bind(db, clock, guardian, channel="telegram", external_id=str(PARENT.id))
    running = await TelegramHarness(db, clock, all_flows()).start()
    assert running.dispatcher is not None
    running.dispatcher.actions = {a.name: a for a in all_actions()}
    yield running
    await running.stop()


class _Errors(logging.Handler):
    """Records the errors that reached python-telegram-bot's handler or the last resort."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(generated=st.lists(updates(), min_size=1, max_size=6))
async def test_generated_telegram_updates_are_answered_privately_and_never_raise(
    harness: TelegramHarness, generated: list[dict[str, Any]]
) -> None:
    assert harness.app is not None
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        for body in generated:
            payload = {"update_id": next(UPDATE_IDS), **body}
            try:
                update = Update.de_json(payload, harness.app.bot)
            except Exception:
                continue  # unreadable: skipped by polling before it reaches the Application
            before_calls = len(harness.api.calls)
            before_rows = await row_counts(harness.db)
            await harness.app.process_update(update)
            calls = harness.api.calls[before_calls:]
            sent = [c for c in calls if c.method.startswith(("send", "edit", "answer"))]
            sender = update.effective_user.id if update.effective_user else None
            if "group" in str(body.get("message", {}).get("chat", {}).get("type", "")):
                for call in sent:
                    assert GROUP_NOTE in str(call.params.get("text", "")), call.params
            elif "message" in body or "callback_query" in body:
                assert sent, f"no answer to {sorted(body)}"
            else:  # an edited message: Telegram is never asked for them, nothing is said
                assert not sent
            if sender == STRANGER.id:
                assert await row_counts(harness.db) == before_rows
    finally:
        logging.getLogger().removeHandler(errors)
    assert errors.records == []
