"""Acting on survey answers (models/surveys/findings.py): a named form's misconduct 是 becomes a
ledger item with the family's student and its low satisfaction a key visit for the head
teacher, once per family when it submits; an anonymous form's answers are counted per class
into ledger items only when the survey closes, the small classes counted school-wide, nothing
pointing at a family.

The test school (tests/helpers/factories.py) has 三(1)班 (head teacher 李强), 三(2)班 (王芳) and
四(1)班 (孙丽), six children each; 刘梅 is the mother of 张小明 (三(2)班) and 张小红 (四(1)班).
The parent form's questions 1, 4, 5, 6 are misconduct questions (1: 体罚), 2, 3, 7 count toward
low satisfaction; the opinion-week form's 1–4 all count.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from models.db.engine import Database
from models.duties.tables import Duty, DutyTrigger
from models.ledger.tables import LedgerItem, LedgerSource
from models.school.rules import SchoolRules
from models.surveys.queries import save_answer, submit_answers
from models.surveys.tables import (
    FindingKind,
    Survey,
    SurveyAnswer,
    SurveyFinding,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
)
from scheduler.jobs.surveys import close_due_surveys
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool
from tests.test_survey_answer_chat import (
    PARENT_ANSWERS,
    _mother,
    recipient_of_mother,
    sent_survey,
)

#: The parent form's answers with no problem (the free text left out).
CONTENT = PARENT_ANSWERS
#: 体罚 answered 是, everything else content.
CORPORAL = ("是", *PARENT_ANSWERS[1:])
#: Questions 2 and 3 不满意: low satisfaction at the default threshold (2).
UNHAPPY = ("否", "不满意", "不满意", "否", "否", "否", "满意")


async def _set_anonymous(db: Database, survey_id: int, anonymous: bool) -> None:
    """Make the survey's form named or anonymous (the parent form is anonymous as built in)."""
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        form = await session.get(SurveyForm, survey.form_id)
        assert form is not None
        form.anonymous = anonymous
        session.add(form)


async def _answer(
    db: Database,
    clock: FakeClock,
    recipient_id: int,
    values: tuple[str, ...],
    *,
    submit: bool = True,
    rules: SchoolRules | None = None,
) -> None:
    """The family answers the form's questions in order with `values` and submits, as the chat
    and the page do (the free text left unanswered)."""
    async with db.session() as session:
        recipient = await session.get(SurveyRecipient, recipient_id)
        assert recipient is not None
        survey = await session.get(Survey, recipient.survey_id)
        assert survey is not None
        form = await session.get(SurveyForm, survey.form_id)
        assert form is not None
        query = (
            select(SurveyQuestion)
            .where(SurveyQuestion.form_id == form.id)
            .order_by(col(SurveyQuestion.position))
        )
        questions = (await session.exec(query)).all()
        for question, value in zip(questions, values, strict=False):
            await save_answer(
                session, recipient, question, value, anonymous=form.anonymous, now=clock()
            )
        if submit:
            await submit_answers(session, recipient, clock(), rules=rules or SchoolRules())


async def _items(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        query = select(LedgerItem).where(LedgerItem.source == LedgerSource.SURVEY)
        return list((await session.exec(query.order_by(col(LedgerItem.id)))).all())


async def _findings(db: Database) -> list[SurveyFinding]:
    async with db.session() as session:
        query = select(SurveyFinding).order_by(col(SurveyFinding.id))
        return list((await session.exec(query)).all())


async def _duties(db: Database) -> list[Duty]:
    async with db.session() as session:
        return list((await session.exec(select(Duty))).all())


async def _recipients(db: Database, survey_id: int) -> list[SurveyRecipient]:
    async with db.session() as session:
        query = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey_id)
        return list((await session.exec(query.order_by(col(SurveyRecipient.id)))).all())


def _identifying(ts: TestSchool) -> list[str]:
    """Whatever names a family: guardians' names and phones, students' names."""
    words = [g.name for g in ts.guardians.values()] + [g.phone for g in ts.guardians.values()]
    return words + list(ts.students)


# -- a named form, when the family submits ------------------------------------------------------


async def test_a_named_familys_corporal_punishment_yes_becomes_one_ledger_item_with_its_student(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await _set_anonymous(db, survey_id, False)
    await mother.callback(f"!svs:{survey_id}")
    for label in CORPORAL:
        await mother.press(label)
    await mother.send("希望多组织户外活动")
    await mother.press("提交")
    assert "问卷已提交" in mother.text

    recipient = await recipient_of_mother(db, ts, survey_id)
    [item] = await _items(db)
    assert item.student_id == recipient.student_id
    assert item.class_id == recipient.class_id
    assert item.description == (
        "问卷《家长问卷（情况调查和征求意见表）》：家长反映"
        "“教师有没有体罚或变相体罚、辱骂学生、歧视差生、令学生身心受损的现象”（是）"
    )
    assert "户外活动" not in item.description  # never the free text
    [finding] = await _findings(db)
    assert (finding.kind, finding.student_id, finding.id) == (
        FindingKind.MISCONDUCT,
        recipient.student_id,
        item.source_id,
    )
    assert await _duties(db) == []  # content otherwise: no key visit


async def test_a_named_family_submitting_again_adds_no_second_item(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    await _set_anonymous(db, survey_id, False)
    recipient = await recipient_of_mother(db, ts, survey_id)
    await _answer(db, clock, recipient.id or 0, CORPORAL)
    clock.advance(hours=2)
    changed = ("是", "满意", "满意", "否", "否", "否", "满意")
    await _answer(db, clock, recipient.id or 0, changed)
    assert len(await _items(db)) == 1
    assert len(await _findings(db)) == 1


async def test_a_named_family_with_low_satisfaction_is_in_the_ledger_with_a_key_visit_due(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts, named=True)  # the opinion-week form
    await mother.callback(f"!svs:{survey_id}")
    await mother.steps("不满意", "不满意", "满意", "基本满意")
    await mother.steps("跳过", "提交")
    assert "问卷已提交" in mother.text

    recipient = await recipient_of_mother(db, ts, survey_id)
    [finding] = await _findings(db)
    assert (finding.kind, finding.student_id, finding.question_id) == (
        FindingKind.LOW_SATISFACTION,
        recipient.student_id,
        None,
    )
    [duty] = await _duties(db)
    student = next(s for s in ts.students.values() if s.id == recipient.student_id)
    heads = {c.id: c.head_teacher_id for c in ts.classes.values()}
    assert duty.teacher_id == heads[student.class_id]
    assert duty.student_id == recipient.student_id
    assert (duty.trigger, duty.reason, duty.source_key) == (
        DutyTrigger.OTHER,
        "问卷满意度低",
        f"survey:{finding.id}",
    )
    assert duty.due_at == clock() + timedelta(days=7)
    [item] = await _items(db)
    assert (item.source_id, item.student_id, item.description) == (
        finding.id,
        recipient.student_id,
        "问卷《民意访问周满意度调查》：家长满意度低，已安排班主任重点家访",
    )

    await _answer(db, clock, recipient.id or 0, ("不满意", "不满意", "不满意", "不满意"))
    assert len(await _duties(db)) == 1  # once per survey and family
    assert len(await _items(db)) == 1


async def test_a_named_family_below_the_threshold_gets_no_key_visit(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts, named=True)
    recipient = await recipient_of_mother(db, ts, survey_id)
    await _answer(db, clock, recipient.id or 0, ("不满意", "满意", "基本满意", "满意"))
    assert await _duties(db) == []
    assert await _findings(db) == []

    strict = SchoolRules(survey_low_satisfaction_threshold=1)
    await _answer(
        db, clock, recipient.id or 0, ("不满意", "满意", "基本满意", "满意"), rules=strict
    )
    assert len(await _duties(db)) == 1  # the school's threshold decides


# -- an anonymous form, when the survey closes --------------------------------------------------


async def test_an_anonymous_form_finds_nothing_at_submission_and_counts_per_class_at_closing(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _mother(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    by_class: dict[int, list[SurveyRecipient]] = {}
    for recipient in await _recipients(db, survey_id):
        by_class.setdefault(recipient.class_id, []).append(recipient)
    three_one = by_class[ts.classes["三(1)班"].id or 0]
    three_two = by_class[ts.classes["三(2)班"].id or 0]
    four_one = by_class[ts.classes["四(1)班"].id or 0]
    assert len(three_one) == 6 and len(three_two) >= 5 and len(four_one) >= 4
    plan = {
        # 三(1)班, six answers: two 体罚, one 有偿家教, two unhappy families
        three_one[0].id: CORPORAL,
        three_one[1].id: CORPORAL,
        three_one[2].id: ("否", "满意", "满意", "是", "否", "否", "满意"),
        three_one[3].id: UNHAPPY,
        three_one[4].id: UNHAPPY,
        three_one[5].id: CONTENT,
        # 三(2)班, five answers: one 体罚
        **{r.id: CONTENT for r in three_two[1:5]},
        three_two[0].id: CORPORAL,
        # 四(1)班, three answers (too few for a class of its own): one 体罚, one unhappy
        four_one[0].id: CORPORAL,
        four_one[1].id: UNHAPPY,
        four_one[2].id: CONTENT,
    }
    for recipient_id, values in plan.items():
        await _answer(db, clock, recipient_id or 0, values)
    # a family that answered 是 and never submitted is not counted
    await _answer(db, clock, four_one[3].id or 0, CORPORAL, submit=False)
    assert await _items(db) == []
    assert await _findings(db) == []

    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    form = "问卷《家长问卷（情况调查和征求意见表）》："
    corporal = "反映“教师有没有体罚或变相体罚、辱骂学生、歧视差生、令学生身心受损的现象”"
    tutoring = "反映“教师是否有举办有偿家教或违规补课现象”"
    unhappy = "满意度低（2 项及以上“不满意”）"
    small = "全校答卷不足 5 份的班级合计"
    items = await _items(db)
    assert [(i.class_id, i.description) for i in items] == [
        (ts.classes["三(1)班"].id, f"{form}三(1)班 有 2 户{corporal}"),
        (ts.classes["三(1)班"].id, f"{form}三(1)班 有 1 户{tutoring}"),
        (ts.classes["三(1)班"].id, f"{form}三(1)班 有 2 户{unhappy}"),
        (ts.classes["三(2)班"].id, f"{form}三(2)班 有 1 户{corporal}"),
        (None, f"{form}{small} 有 1 户{corporal}"),
        (None, f"{form}{small} 有 1 户{unhappy}"),
    ]
    assert all(i.student_id is None for i in items)
    findings = await _findings(db)
    assert [(f.class_id, f.student_id, f.count) for f in findings] == [
        (i.class_id, None, int(i.description.split(" 有 ")[1].split(" 户")[0])) for i in items
    ]
    assert [f.id for f in findings] == [i.source_id for i in items]
    assert await _duties(db) == []  # no family to visit
    async with db.session() as session:
        answers = (
            await session.exec(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey_id))
        ).all()
    assert answers and all(a.recipient_id is None for a in answers)  # detached after counting

    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=8))
    assert len(await _items(db)) == len(items)


async def test_no_survey_item_names_a_family(db: Database, clock: FakeClock) -> None:
    ts, _ = await _mother(db, clock)
    anonymous = await sent_survey(db, clock, ts)
    named = await sent_survey(db, clock, ts, deadline=timedelta(days=30))
    # Both surveys send the parent form: named while the second one's families submit.
    for survey_id in (anonymous, named):
        await _set_anonymous(db, named, survey_id == anonymous)
        for recipient in await _recipients(db, survey_id):
            await _answer(
                db, clock, recipient.id or 0, UNHAPPY if (recipient.id or 0) % 2 else CORPORAL
            )
    await _set_anonymous(db, named, True)
    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    items = await _items(db)
    assert len(items) > 3
    for item in items:
        for word in _identifying(ts):
            assert word not in item.description, (word, item.description)
