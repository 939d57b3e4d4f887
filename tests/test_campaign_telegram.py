"""A 大走访 end to end through the real Telegram `Application` over the fake Bot API: 德育处 creates
the campaign and generates its 包保表, two teachers visit one household (the second is warned
before saving), the teacher's own list and 德育处's overview with its chart count the household
once and name the double visit.

The test school (tests/helpers/factories.py): 王芳 heads 三(2)班 (张小明), 孙丽 heads 四(1)班
(张小红, 张小明's sister: one household, whose home class is 四(1)班, so it is 孙丽's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from handlers.registry import all_actions, all_flows
from models.campaigns.tables import Campaign, CampaignAssignment
from models.db.engine import Database
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.visits import visits

OFFICE = TgUser(5501, "敏")
WANG = TgUser(5502, "芳")
SUN = TgUser(5503, "丽")


@pytest.fixture
async def school(db: Database, clock: FakeClock) -> TestSchool:
    """The clock: Monday 16 November 2026, 10:00 in Shanghai."""
    ts = await seed_school(db)
    for user, who in ((OFFICE, "赵敏"), (WANG, "王芳"), (SUN, "孙丽")):
        await bind(db, clock, ts.staff[who], channel="telegram", external_id=str(user.id))
    return ts


@pytest.fixture
async def tg(db: Database, clock: FakeClock, school: TestSchool) -> AsyncIterator[TelegramHarness]:
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


async def test_a_campaign_is_set_up_visited_twice_and_counted_once_through_telegram(
    tg: TelegramHarness, db: Database
) -> None:
    await tg.steps(OFFICE, "/campaign new", ">秋季大走访", ">11月1日", ">11月30日", "全校")
    await tg.steps(OFFICE, "仅上门家访", "是")
    texts = await tg.press_label(OFFICE, "确认创建")
    assert any("已创建大走访“秋季大走访”" in t for t in texts)
    texts = await tg.press_label(OFFICE, "自动分配包保表")
    assert any("共 17 户" in t for t in texts)
    async with db.session() as session:
        assert len((await session.exec(select(Campaign))).all()) == 1
        rows = (await session.exec(select(CampaignAssignment))).all()
    assert len(rows) == 17

    texts = await tg.steps(WANG, ">11月12日上门家访了三(2)班张小明，见了奶奶", "重点")
    assert any("这一家由孙丽老师包保。" in t for t in texts)
    texts = await tg.press_label(WANG, "保存")
    assert any("已保存。" in t for t in texts)

    await tg.steps(SUN, ">今天上门家访了四(1)班张小红，见了妈妈", "常规")
    texts = await tg.press_label(SUN, "保存")
    assert any("已由王芳老师于11月12日家访过，仍要记录吗？" in t for t in texts)
    texts = await tg.press_label(SUN, "仍要记录")
    assert any("已保存。" in t for t in texts)
    assert len(await visits(db)) == 2

    texts = await tg.say(SUN, "/campaign")
    mine = "\n".join(texts)
    assert "四(1)班 张小明、张小红" in mine or "四(1)班 张小红、张小明" in mine
    assert "已访 11月12日" in mine and "王芳" in mine

    before = len(tg.api.calls)
    texts = await tg.say(OFFICE, "/campaign")
    texts = await tg.press_label(OFFICE, "秋季大走访")
    photos = [c for c in tg.api.calls[before:] if c.method == "sendPhoto"]
    assert len(photos) == 1, "the overview's coverage chart is sent as a picture"
    overview = "\n".join([*texts, *(str(c.params.get("caption", "")) for c in photos)])
    assert "入户" in overview and "1/17" in overview
    assert "重复走访：1 次（这些家庭只计一次）" in overview
    assert "四(1)班 张小红、张小明：王芳 11月12日 首访，孙丽 11月16日 再访" in overview
