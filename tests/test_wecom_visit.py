"""/visit end to end on WeCom: encrypted callbacks in, template cards or numbered text out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlmodel import select

from models.accounts.tables import ChannelAccount
from models.db.engine import Database
from models.roster.tables import Staff
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.fakes.wecom_callbacks import TEST_APP, event_xml
from tests.fakes.wecom_harness import WecomHarness
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import FULL_VISIT

TEACHER = "WangFang"  # WeCom user ids are case-insensitive
ADMIN = "zhaomin"

VISIT = (*FULL_VISIT, "保存")


@pytest.fixture
async def wecom(db: Database, clock: FakeClock) -> AsyncIterator[WecomHarness]:
    school = await seed_school(db)
    # The teacher is known by the roster's 企业微信账号 only (recognised on the first message);
    # the admin was bound before.
    async with db.session() as session:
        teacher = await session.get(Staff, school.staff["王芳"].id)
        assert teacher is not None
        teacher.wecom_userid = "WangFang"
        session.add(teacher)
    await bind(db, clock, school.staff["赵敏"], channel="wecom", external_id=ADMIN)
    harness = await WecomHarness(db, clock).start()
    yield harness
    await harness.stop()


async def _saved_visit(db: Database) -> Visit:
    async with db.session() as session:
        (visit,) = (await session.exec(select(Visit))).all()
    return visit


async def test_a_visit_is_logged_with_card_clicks_and_the_admin_is_alerted(
    wecom: WecomHarness, db: Database
) -> None:
    texts = await wecom.steps(TEACHER, *VISIT)
    assert any("本月上门家访 1/10。" in t for t in texts)
    visit = await _saved_visit(db)
    assert (visit.visit_date, visit.form, visit.category, visit.met, visit.channel) == (
        date(2026, 11, 16),
        VisitForm.HOME,
        VisitCategory.KEY,
        "奶奶",
        "wecom",
    )
    clicks = wecom.server.calls_to("message/update_template_card")
    assert clicks, "a clicked card shows what was chosen"
    assert any(c.body["button"]["replace_name"] == "✓ 上门家访" for c in clicks)
    await wecom.deliver()
    assert wecom.messages_to(ADMIN), "the flagged problem reaches the 德育处 admin on WeCom"


async def test_a_visit_is_logged_by_typing_the_numbers_only(
    wecom: WecomHarness, db: Database
) -> None:
    await wecom.steps(TEACHER, *VISIT, cards=False)
    visit = await _saved_visit(db)
    assert (visit.form, visit.category, visit.channel) == (
        VisitForm.HOME,
        VisitCategory.KEY,
        "wecom",
    )
    assert wecom.server.calls_to("message/update_template_card") == []


async def test_the_chinese_keyword_starts_the_visit_and_choices_come_as_a_card(
    wecom: WecomHarness,
) -> None:
    await wecom.say(TEACHER, "家访")
    card = wecom.last_card(TEACHER)
    assert card["card_type"] == "button_interaction"
    assert "三(2)班" in [b["text"] for b in card["button_list"]]


async def test_a_member_the_roster_names_is_recognised_on_the_first_message(
    wecom: WecomHarness, db: Database
) -> None:
    texts = await wecom.say(TEACHER, "帮助")
    assert texts and "/visit" in texts[0]
    async with db.session() as session:
        account = (
            await session.exec(
                select(ChannelAccount).where(
                    ChannelAccount.channel == "wecom", ChannelAccount.external_id == "wangfang"
                )
            )
        ).one()
    assert account.chat_id == "wangfang"


async def test_a_stranger_gets_an_explanation_and_no_data(wecom: WecomHarness) -> None:
    texts = await wecom.say("stranger", "家访")
    assert texts and "企业微信账号还没有与学校名册关联" in texts[0]
    assert "分享本机手机号" not in texts[0]  # a Telegram button WeCom does not have
    assert "张小明" not in "".join(texts)


async def test_a_click_wecom_sends_twice_is_handled_once(wecom: WecomHarness) -> None:
    await wecom.steps(TEACHER, "/visit", "三(2)班", "张小明")
    card = wecom.last_card(TEACHER)
    xml = event_xml(
        TEST_APP,
        user=TEACHER,
        event="template_card_event",
        create_time=int(wecom.clock().timestamp()),
        EventKey=card["button_list"][0]["key"],
        TaskId=card["task_id"],
        CardType="button_interaction",
        ResponseCode=wecom.server.response_codes[card["task_id"]],
    )
    before = len(wecom.messages_to(TEACHER))
    assert await wecom.post(xml) == 200
    after_first = len(wecom.messages_to(TEACHER))
    assert await wecom.post(xml) == 200  # WeCom re-sends when it thinks we were slow
    assert len(wecom.messages_to(TEACHER)) == after_first > before


async def test_a_voice_message_gets_a_polite_answer(wecom: WecomHarness) -> None:
    ts = int(wecom.clock().timestamp())
    xml = (
        f"<xml><ToUserName><![CDATA[{TEST_APP.corp_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{TEACHER}]]></FromUserName><CreateTime>{ts}</CreateTime>"
        "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId>"
        "<Format><![CDATA[amr]]></Format><MsgId>77001</MsgId><AgentID>1</AgentID></xml>"
    )
    before = len(wecom.server.calls)
    assert await wecom.post(xml) == 200
    texts = wecom.texts_since(before, TEACHER)
    assert texts and "只能读懂文字" in texts[0]


async def test_help_without_the_slash_lists_the_commands(wecom: WecomHarness) -> None:
    texts = await wecom.say(TEACHER, "help")
    assert texts and "/visit" in texts[0] and "/quota" in texts[0]


async def test_a_click_on_an_old_card_is_refused_and_leaves_that_card_alone(
    wecom: WecomHarness,
) -> None:
    await wecom.steps(TEACHER, "/visit")
    old_card = wecom.last_card(TEACHER)
    await wecom.say(TEACHER, "1")  # answered by typing: the card's question is over
    before = len(wecom.server.calls_to("message/update_template_card"))
    xml = event_xml(
        TEST_APP,
        user=TEACHER,
        event="template_card_event",
        create_time=int(wecom.clock().timestamp()),
        EventKey=old_card["button_list"][0]["key"],
        TaskId=old_card["task_id"],
        CardType="button_interaction",
        ResponseCode=wecom.server.response_codes[old_card["task_id"]],
    )
    assert await wecom.post(xml) == 200
    assert "已过期" in wecom.texts_since(0, TEACHER)[-1]
    assert len(wecom.server.calls_to("message/update_template_card")) == before
