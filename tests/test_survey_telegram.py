"""A survey end to end through the real Telegram `Application` over the fake Bot API: 德育处 draws
and sends the anonymous parent form to every family, a mother answers half of it, the bot
restarts, she continues where she stopped and answers 是 to 体罚; at the deadline the survey closes
and the finding reaches the ledger without naming her family. And a named opinion-week survey
with two 不满意 gives her children's head teacher a key visit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from models.duties.tables import Duty
from models.ledger.tables import LedgerItem
from models.surveys.tables import Survey, SurveyAnswer, SurveyStatus
from scheduler.jobs.surveys import close_due_surveys
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool, bind, seed_school

MOTHER = TgUser(5401, "梅")
OFFICE = TgUser(5402, "敏")
HEAD = TgUser(5403, "芳")
#: What would trace an answer back to 刘梅's family.
HER_FAMILY = ("刘梅", "张小明", "张小红", "13700000000", "20263201")


@pytest.fixture
async def school(db: Database, clock: FakeClock) -> TestSchool:
    ts = await seed_school(db)
    for user, who in (
        (MOTHER, ts.guardians["刘梅"]),
        (OFFICE, ts.staff["赵敏"]),
        (HEAD, ts.staff["王芳"]),
    ):
        await bind(db, clock, who, channel="telegram", external_id=str(user.id))
    return ts


@pytest.fixture
async def tg(db: Database, clock: FakeClock, school: TestSchool) -> AsyncIterator[TelegramHarness]:
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


async def _send(tg: TelegramHarness, form: str) -> Survey:
    await tg.steps(OFFICE, "/survey", form, "全校", "100%", "1周")
    texts = await tg.press_label(OFFICE, "发送")
    assert any("已发送 1 户" in t for t in texts)
    await tg.settle()
    async with tg.db.session() as session:
        return (await session.exec(select(Survey).order_by(col(Survey.id).desc()))).first()  # type: ignore[return-value]


async def test_an_anonymous_survey_is_answered_across_a_restart_and_its_finding_names_no_family(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: TestSchool
) -> None:
    survey = await _send(tg, "家长问卷（情况调查和征求意见表）")
    [invitation] = tg.api.sent_texts(MOTHER.id)
    assert "学校邀请您填写问卷" in invitation and "匿名问卷" in invitation

    await tg.press_label(MOTHER, "开始填写")
    await tg.steps(MOTHER, "是", "满意", "基本满意")
    await tg.stop()
    clock.advance(hours=3)
    await tg.start()  # a restart: the conversation and the answers are in the database

    texts = await tg.say(MOTHER, "/answer")
    assert any("从第 4 题继续" in t for t in texts)
    await tg.steps(MOTHER, "否", "否", "否", "不满意", ">希望放学时校门口多一位老师")
    texts = await tg.press_label(MOTHER, "提交")
    assert any("问卷已提交" in t for t in texts)

    await run_at(db, school.school, close_due_surveys, clock() + timedelta(days=8))
    async with db.session() as session:
        closed = await session.get(Survey, survey.id)
        answers = (await session.exec(select(SurveyAnswer))).all()
        items = (await session.exec(select(LedgerItem))).all()
    assert closed is not None and closed.status is SurveyStatus.CLOSED
    assert len(answers) == 8 and all(a.recipient_id is None for a in answers)
    [item] = items
    assert "有 1 户反映" in item.description and "体罚" in item.description
    assert item.student_id is None and item.class_id is None
    assert not any(name in item.description for name in HER_FAMILY)

    texts = await tg.say(OFFICE, "/ledger")
    shown = "\n".join(texts + await tg.say(OFFICE, f"/ledger {item.id}"))
    assert "问卷" in shown
    assert not any(name in shown for name in HER_FAMILY)


async def test_a_named_opinion_week_answer_with_two_dissatisfied_gives_a_key_visit(
    tg: TelegramHarness, db: Database, clock: FakeClock
) -> None:
    await _send(tg, "民意访问周满意度调查")
    await tg.press_label(MOTHER, "开始填写")
    await tg.steps(MOTHER, "不满意", "不满意", "满意", "基本满意", "跳过")
    await tg.press_label(MOTHER, "提交")
    await tg.settle()

    async with db.session() as session:
        duties = (await session.exec(select(Duty))).all()
    [duty] = duties
    assert duty.due_at - clock() <= timedelta(days=7)
    told = "\n".join(tg.api.sent_texts(HEAD.id))
    assert "张小明" in told or "张小红" in told
