"""The ledger and a parent's feedback end to end through the real Telegram `Application` over the
fake Bot API: a named complaint, 德育处 classifying it with the buttons, the owner's note and
close, and the parent told at each step."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school

MOTHER = TgUser(5301, "梅")
OFFICE = TgUser(5302, "敏")
HEAD = TgUser(5303, "芳")


@pytest.fixture
async def tg(db: Database, clock: FakeClock) -> AsyncIterator[TelegramHarness]:
    school = await seed_school(db)
    for user, who in (
        (MOTHER, school.guardians["刘梅"]),
        (OFFICE, school.staff["赵敏"]),
        (HEAD, school.staff["王芳"]),
    ):
        await bind(db, clock, who, channel="telegram", external_id=str(user.id))
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


async def test_a_named_complaint_is_classified_followed_and_closed_with_the_parent_told(
    tg: TelegramHarness,
) -> None:
    await tg.steps(MOTHER, "/feedback", "投诉", "三(2)班", ">放学后教室门口常有同学推挤", "实名")
    texts = await tg.press_label(MOTHER, "提交")
    assert any("处理后会通知您" in t for t in texts)
    await tg.settle()
    [alert] = tg.api.sent_texts(OFFICE.id)
    assert "新的家长意见（投诉）" in alert and "13700000000" not in alert

    texts = await tg.say(OFFICE, "/ledger")
    assert any("三(2)班：待分类 1" in t for t in texts)
    await tg.steps(OFFICE, "#1 三(2)班")
    texts = await tg.steps(OFFICE, "分类并指派", "立即解决", "王芳", "3天内", "确认")
    assert any(
        "已保存分类。" in t and "反映人：刘梅（三(2)班张小明、四(1)班张小红）" in t for t in texts
    )
    await tg.settle()
    assert any("您反馈的意见已由学校受理" in t for t in tg.api.sent_texts(MOTHER.id))
    [owner] = tg.api.sent_texts(HEAD.id)
    assert "赵敏请您负责台账 #1" in owner

    await tg.steps(HEAD, "查看", "记录进展", ">已安排值日生放学时维持秩序")
    await tg.steps(HEAD, "办结", "已解决")
    texts = await tg.say(HEAD, "班主任每天放学时在门口值守，已无推挤")
    assert any("已办结。" in t for t in texts)
    await tg.settle()
    told = tg.api.sent_texts(MOTHER.id)[-1]
    assert "您反馈的意见已处理完毕：已解决" in told and "班主任每天放学时在门口值守" in told
    assert "王芳" not in told
