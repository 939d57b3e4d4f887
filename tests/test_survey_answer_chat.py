"""A family answering a survey in the chat (handlers/surveys/answer.py): one question a message
from the invitation's 填写问卷 (`!svs:<id>`) or /answer, each answer saved as it comes, resumed
after a restart, changed until the deadline, refused for surveys not theirs or closed.

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班) and 张小红
(四(1)班), one family; every other child has a guardian of its own; 赵敏 is 德育处. The clock:
Monday 16 November 2026, 10:00 in Shanghai. The surveys are made here directly with the model
functions: drawn at a share of 100 (every family asked) and marked sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, select

from handlers.types import Inbound
from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.surveys.queries import draw_survey
from models.surveys.tables import (
    Survey,
    SurveyAnswer,
    SurveyAudience,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import ensure_templates
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

#: The seed-003 parent form's answers, as pressed (the last one, free text, typed).
PARENT_ANSWERS = ("否", "满意", "基本满意", "否", "否", "否", "满意")
DEADLINE = timedelta(days=7)


async def sent_survey(
    db: Database,
    clock: FakeClock,
    ts: TestSchool,
    *,
    named: bool = False,
    classes: tuple[str, ...] = (),
    deadline: timedelta = DEADLINE,
) -> int:
    """A survey of the parent form (the opinion-week form when `named`) drawn at 100 % of the
    whole school (or of `classes`) and sent; its id."""
    async with db.session() as session:
        parent, opinion = await ensure_templates(session, ts.school.id or 0, now=clock())
        form = opinion if named else parent
        survey = Survey(
            school_id=ts.school.id or 0,
            form_id=form.id or 0,
            audience=SurveyAudience.CLASSES if classes else SurveyAudience.SCHOOL,
            audience_ids=",".join(str(ts.classes[c].id) for c in classes),
            share=100,
            seed=7,
            deadline=clock() + deadline,
            created_at=clock(),
        )
        session.add(survey)
        await session.flush()
        await draw_survey(session, survey, minimum=30)
        survey.status, survey.sent_at = SurveyStatus.SENT, clock()
        session.add(survey)
        return survey.id or 0


async def answers(db: Database) -> list[SurveyAnswer]:
    async with db.session() as session:
        query = select(SurveyAnswer).order_by(col(SurveyAnswer.question_id))
        return list((await session.exec(query)).all())


async def recipient_of_mother(db: Database, ts: TestSchool, survey_id: int) -> SurveyRecipient:
    async with db.session() as session:
        query = select(SurveyRecipient).where(
            SurveyRecipient.survey_id == survey_id,
            SurveyRecipient.guardian_id == ts.guardians["刘梅"].id,
        )
        return (await session.exec(query)).one()


async def _mother(db: Database, clock: FakeClock) -> tuple[TestSchool, ChatUser]:
    ts = await seed_school(db)
    return ts, await person(db, clock, full_dispatcher(db, clock), ts.guardians["刘梅"])


# -- answering ------------------------------------------------------------------------------------


async def test_a_family_answers_question_by_question_and_submits(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    assert "学校看不到是哪个家庭填写了什么" in mother.text
    assert "第 1/8 题" in mother.text
    assert mother.labels == ["是", "否"]
    for label in PARENT_ANSWERS:
        await mother.press(label)
    assert "第 8/8 题（选填）" in mother.text
    await mother.send("希望多组织户外活动")
    assert "您的回答" in mother.text
    assert mother.labels == ["提交", "修改某题"]
    await mother.press("提交")
    assert "问卷已提交" in mother.text
    saved = await answers(db)
    assert [a.value for a in saved] == [*PARENT_ANSWERS, "希望多组织户外活动"]
    assert all(a.answered_at is None for a in saved)  # an anonymous form
    recipient = await recipient_of_mother(db, ts, survey_id)
    assert recipient.submitted_at == clock()
    assert {a.recipient_id for a in saved} == {recipient.id}


async def test_an_optional_question_may_be_skipped_and_a_required_one_may_not(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    assert "跳过" not in mother.labels
    await mother.send("随便写")  # text where a button is asked
    assert "第 1/8 题" in mother.text
    assert await answers(db) == []
    await mother.steps(*PARENT_ANSWERS, "跳过", "提交")
    assert "问卷已提交" in mother.text
    assert (await answers(db))[-1].value == ""


async def test_a_family_that_stops_halfway_continues_after_a_restart_where_it_stopped(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    await mother.steps("是", "不满意", "满意")
    await mother.send("/cancel")
    assert len(await answers(db)) == 3
    clock.advance(hours=5)
    again = ChatUser(full_dispatcher(db, clock), mother.user_id)  # a restart
    await again.send("/answer")
    assert "从第 4 题继续" in again.text
    assert "第 4/8 题" in again.text
    await again.steps("否", "否", "否", "满意", "跳过")
    assert "1. " in again.text and "不满意" in again.text  # the summary, earlier answers too
    await again.press("提交")
    assert [a.value for a in await answers(db)] == [
        "是",
        "不满意",
        "满意",
        "否",
        "否",
        "否",
        "满意",
        "",
    ]


async def test_a_double_pressed_or_redelivered_answer_is_saved_once(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    [no] = [b.data for b in mother.buttons if b.label == "否"]
    await mother.callback(no)
    [satisfied] = [b.data for b in mother.buttons if b.label == "满意"]
    await mother.callback(no)  # pressed twice: the button has gone with its question
    assert "过期" in mother.text
    redelivered = Inbound(
        channel="console",
        user_id=mother.user_id,
        chat_id=mother.user_id,
        callback=satisfied,
        update_key="update-42",
    )
    await mother.dispatcher.handle(redelivered)
    await mother.dispatcher.handle(redelivered)
    assert [a.value for a in await answers(db)] == ["否", "满意"]


async def test_an_answer_is_changed_before_the_deadline_after_submitting(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    await mother.steps(*PARENT_ANSWERS, "跳过", "提交")
    submitted = (await recipient_of_mother(db, ts, survey_id)).submitted_at
    clock.advance(days=2)
    await mother.send("/answer")
    assert "您已提交" in mother.text and "基本满意" in mother.text
    await mother.steps("修改某题", "第 3 题")
    assert "已保存的回答：基本满意" in mother.text
    await mother.press("不满意")
    assert "已保存修改" in mother.text
    await mother.press("完成")
    saved = await answers(db)
    assert len(saved) == 8
    assert saved[2].value == "不满意"
    assert (await recipient_of_mother(db, ts, survey_id)).submitted_at == submitted


async def test_a_named_form_records_when_each_answer_was_given(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts, named=True)
    await mother.send("/answer")
    assert "实名" in mother.text
    await mother.steps("满意", "满意", "基本满意", "满意")
    assert [a.answered_at for a in await answers(db)] == [clock()] * 4
    assert survey_id


# -- refusals -------------------------------------------------------------------------------------


async def test_a_forged_button_for_a_survey_not_sent_to_the_family_or_unknown_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    elsewhere = await sent_survey(db, clock, ts, classes=("三(1)班",))
    for forged in (f"!svs:{elsewhere}", f"!svs:{elsewhere + 100}"):
        await mother.callback(forged)
        assert "没有找到发给您家的这份问卷" in mother.text
        assert mother.buttons == []
    await mother.send("/answer")
    assert "目前没有需要您填写的问卷" in mother.text
    assert await answers(db) == []


async def test_staff_cannot_answer_a_survey(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    survey_id = await sent_survey(db, clock, ts)
    office = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await office.callback(f"!svs:{survey_id}")
    assert "不适用" in office.text
    await office.send("/answer")
    assert "只对家长开放" in office.text


async def test_after_the_deadline_the_survey_is_closed_for_the_family(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts, deadline=timedelta(minutes=20))
    await mother.callback(f"!svs:{survey_id}")
    await mother.press("否")
    clock.advance(minutes=20)
    await mother.press("满意")
    assert "已于 11月16日 10:20 截止" in mother.text
    await mother.callback(f"!svs:{survey_id}")
    assert "截止" in mother.text and mother.buttons == []
    await mother.send("/answer")
    assert "目前没有需要您填写的问卷" in mother.text
    assert [a.value for a in await answers(db)] == ["否"]


async def test_a_closed_survey_is_refused_before_its_deadline(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        survey.status = SurveyStatus.CLOSED
        session.add(survey)
    await mother.callback(f"!svs:{survey_id}")
    assert "不能再填写或修改" in mother.text


# -- anonymity ------------------------------------------------------------------------------------


async def test_answering_an_anonymous_form_tells_staff_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    await mother.steps(*PARENT_ANSWERS)
    await mother.send("刘梅觉得作业太多")
    await mother.press("提交")
    async with db.session() as session:
        queued = (await session.exec(select(OutboxMessage))).all()
    assert queued == []
    assert all(a.answered_at is None for a in await answers(db))


async def test_the_invitations_start_button_opens_the_first_question(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    office = await person(db, clock, mother.dispatcher, ts.staff["赵敏"])
    await office.steps("/survey", "家长问卷（情况调查和征求意见表）", "全校", "100%", "1周", "发送")
    [invite] = [
        row for row in await outbox(db, kind="survey_invite") if row.chat_id == mother.user_id
    ]
    [start] = [b for row in reply_of(invite).buttons for b in row]
    await mother.callback(start.data)
    assert "第 1/8 题" in mother.text
    await mother.press("否")
    assert [a.value for a in await answers(db)] == ["否"]


async def test_cancel_says_the_answers_given_are_kept(db: Database, clock: FakeClock) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await mother.callback(f"!svs:{survey_id}")
    await mother.press(PARENT_ANSWERS[0])
    await mother.send("/cancel")
    assert mother.text == "已暂停填写。已回答的题目都已保存，发送 /answer 可以接着填写。"
    assert [a.value for a in await answers(db)] == [PARENT_ANSWERS[0]]
