"""/visit end to end through the real Telegram `Application`, with a restart half-way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlmodel import select

from handlers.registry import all_flows
from models.db.engine import Database
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import FULL_VISIT

TEACHER = TgUser(5101, "芳")
ADMIN = TgUser(5102, "敏")


@pytest.fixture
async def tg(db: Database, clock: FakeClock) -> AsyncIterator[TelegramHarness]:
    school = await seed_school(db)
    await bind(db, clock, school.staff["王芳"], channel="telegram", external_id=str(TEACHER.id))
    await bind(db, clock, school.staff["赵敏"], channel="telegram", external_id=str(ADMIN.id))
    harness = await TelegramHarness(db, clock, all_flows()).start()
    yield harness
    await harness.stop()


async def test_a_visit_logged_on_telegram_survives_a_restart_and_alerts_the_admin(
    tg: TelegramHarness, db: Database
) -> None:
    await tg.steps(TEACHER, *FULL_VISIT[:4])  # up to 上门家访
    await tg.restart()  # a new Application and Dispatcher over the same database
    await tg.steps(TEACHER, *FULL_VISIT[4:])
    texts = await tg.press_label(TEACHER, "保存")
    assert any("本月上门家访 1/10。" in t for t in texts)
    async with db.session() as session:
        (visit,) = (await session.exec(select(Visit))).all()
    assert (visit.visit_date, visit.form, visit.category, visit.met, visit.channel) == (
        date(2026, 11, 16),
        VisitForm.HOME,
        VisitCategory.KEY,
        "奶奶",
        "telegram",
    )
    await tg.settle()
    assert tg.api.sent_texts(ADMIN.id), "the flagged problem reaches the 德育处 admin"


async def test_each_pressed_button_leaves_its_choice_in_the_chat(tg: TelegramHarness) -> None:
    await tg.steps(TEACHER, "/visit", "三(2)班")
    edits = [c.params["text"] for c in tg.api.calls_of("editMessageText")]
    assert edits and edits[-1].startswith("✓ 三(2)班\n\n")


async def test_a_five_thousand_character_answer_gets_a_clear_reply_and_the_visit_goes_on(
    tg: TelegramHarness,
) -> None:
    await tg.steps(TEACHER, "/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    texts = await tg.say(TEACHER, "好" * 5000)
    assert texts and all(len(t) <= 4096 for t in texts)
    assert await tg.say(TEACHER, "/cancel") == ["已取消，本次内容没有保存。"]


async def test_an_answered_question_loses_its_buttons_when_the_next_one_arrives(
    tg: TelegramHarness,
) -> None:
    await tg.steps(TEACHER, "/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    first_section = tg.api.last_keyboard(TEACHER.id)  # (1/5) with its 跳过 button
    await tg.steps(TEACHER, ">最近作业按时完成")  # typed: (2/5) arrives as a new message
    stripped = [
        c
        for c in tg.api.calls_of("editMessageReplyMarkup")
        if c.params["message_id"] == first_section["message_id"]
    ]
    assert stripped, "the 跳过 of the answered question is taken away"
    assert "reply_markup" not in tg.api.message(TEACHER.id, first_section["message_id"])
    assert tg.api.last_keyboard(TEACHER.id)["message_id"] != first_section["message_id"]
