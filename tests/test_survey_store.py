"""Survey forms, households and the draw in the database (models/surveys/templates.py, queries.py):
the built-in templates, copying a form, the test school's households, a survey's draw, and
detaching an anonymous form's answers when the survey closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from models.db.engine import Database
from models.surveys.errors import SurveyRefused
from models.surveys.queries import (
    asked_since,
    audience_classes,
    detach_anonymous_answers,
    draw_survey,
    households,
)
from models.surveys.tables import (
    FormPurpose,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyAudience,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import copy_form, ensure_templates, questions_of
from tests.helpers.factories import TestSchool

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)

#: Seed 003 附2, questions 1–8 as the seed words them: (kind, prompt, misconduct, required).
SEED_003_PARENT_FORM = [
    (
        QuestionKind.YES_NO,
        "教师有没有体罚或变相体罚、辱骂学生、歧视差生、令学生身心受损的现象。",
        True,
        True,
    ),
    (QuestionKind.SATISFACTION, "你对教师给学生布置的家庭作业份量是否满意。", False, True),
    (QuestionKind.SATISFACTION, "你对教师给学生作业的批改是否满意。", False, True),
    (QuestionKind.YES_NO, "教师是否有举办有偿家教或违规补课现象。", True, True),
    (QuestionKind.YES_NO, "教师有无不按时上课、拖堂或随意调课、旷课现象。", True, True),
    (QuestionKind.YES_NO, "教师是否有乱买资料、乱收费现象?", True, True),
    (QuestionKind.SATISFACTION, "你对学校保护学生安全方面的工作满意还是不满意?", False, True),
    (
        QuestionKind.TEXT,
        "您对学校整体工作、班主任管理工作、任课教师教学工作的意见建议。",
        False,
        False,
    ),
]


async def test_the_seed_003_parent_form_is_written_with_the_seeds_wording(
    db: Database, school: TestSchool
) -> None:
    async with db.session() as session:
        forms = await ensure_templates(session, school.school.id or 0, now=NOW)
        parent = forms[0]
        assert parent.purpose is FormPurpose.SEMESTER
        assert parent.anonymous
        assert parent.created_by is None
        questions = await questions_of(session, parent.id or 0)
    assert [(q.kind, q.prompt, q.misconduct, q.required) for q in questions] == (
        SEED_003_PARENT_FORM
    )
    assert [q.position for q in questions] == list(range(1, 9))
    assert [q.counts_satisfaction for q in questions] == [
        q.kind is QuestionKind.SATISFACTION for q in questions
    ]
    assert questions[1].option_list() == ["满意", "基本满意", "不满意"]
    assert questions[0].option_list() == ["是", "否"]


async def test_the_opinion_week_form_is_short_named_and_about_satisfaction(
    db: Database, school: TestSchool
) -> None:
    async with db.session() as session:
        opinion = (await ensure_templates(session, school.school.id or 0, now=NOW))[1]
        questions = await questions_of(session, opinion.id or 0)
    assert opinion.purpose is FormPurpose.OPINION_WEEK
    assert not opinion.anonymous
    assert 4 <= len(questions) <= 5
    assert [q.kind for q in questions[:-1]] == [QuestionKind.SATISFACTION] * (len(questions) - 1)
    assert questions[-1].kind is QuestionKind.TEXT
    assert not questions[-1].required


async def test_writing_the_templates_twice_adds_nothing(db: Database, school: TestSchool) -> None:
    school_id = school.school.id or 0
    async with db.session() as session:
        first = await ensure_templates(session, school_id, now=NOW)
    async with db.session() as session:
        second = await ensure_templates(session, school_id, now=NOW)
        forms = (await session.exec(select(func.count()).select_from(SurveyForm))).one()
        questions = (await session.exec(select(func.count()).select_from(SurveyQuestion))).one()
    assert [f.id for f in second] == [f.id for f in first]
    assert (forms, questions) == (2, 13)


async def test_a_school_cannot_hold_the_same_template_twice(
    db: Database, school: TestSchool
) -> None:
    school_id = school.school.id or 0
    async with db.session() as session:
        await ensure_templates(session, school_id, now=NOW)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(
                SurveyForm(
                    school_id=school_id,
                    name="又一份",
                    purpose=FormPurpose.SEMESTER,
                    created_at=NOW,
                    template_key="seed003_parent",
                )
            )
            await session.flush()


async def test_a_copied_form_has_the_same_questions_and_leaves_the_template_alone(
    db: Database, school: TestSchool
) -> None:
    staff_id = school.staff["赵敏"].id or 0
    async with db.session() as session:
        template = (await ensure_templates(session, school.school.id or 0, now=NOW))[0]
        copy = await copy_form(session, template.id or 0, by=staff_id, name=" 三年级问卷 ", now=NOW)
        copied = await questions_of(session, copy.id or 0)
        copied[7].prompt = "您还有什么建议?"
        session.add(copied[7])
        await session.flush()
        original = await questions_of(session, template.id or 0)
    assert (copy.name, copy.copied_from, copy.created_by) == ("三年级问卷", template.id, staff_id)
    assert (copy.purpose, copy.anonymous, copy.template_key) == (FormPurpose.SEMESTER, True, None)
    assert [(q.kind, q.prompt, q.misconduct) for q in copied[:7]] == [
        (q.kind, q.prompt, q.misconduct) for q in original[:7]
    ]
    assert original[7].prompt == SEED_003_PARENT_FORM[7][1]


@pytest.mark.parametrize(("form_id", "name"), [(999, "问卷"), (None, "  ")])
async def test_copying_an_unknown_form_or_without_a_name_is_refused(
    db: Database, school: TestSchool, form_id: int | None, name: str
) -> None:
    async with db.session() as session:
        template = (await ensure_templates(session, school.school.id or 0, now=NOW))[0]
        with pytest.raises(SurveyRefused):
            await copy_form(session, form_id or template.id or 0, by=1, name=name, now=NOW)


async def test_the_test_school_has_seventeen_households_the_siblings_sharing_one(
    db: Database, school: TestSchool
) -> None:
    async with db.session() as session:
        found = await households(session, school.school.id or 0)
    assert len(found) == 17
    mother = school.guardians["刘梅"].id
    shared = [h for h in found if h.key == mother]
    assert len(shared) == 1
    assert {c.student_id for c in shared[0].children} == {
        school.students["张小明"].id,
        school.students["张小红"].id,
    }
    assert shared[0].class_ids() == {school.classes["三(2)班"].id, school.classes["四(1)班"].id}
    per_class = {
        name: sum(1 for h in found if klass.id in h.class_ids())
        for name, klass in school.classes.items()
    }
    assert per_class == {"三(1)班": 6, "三(2)班": 6, "四(1)班": 6}


async def test_a_student_who_left_is_no_longer_a_household(
    db: Database, school: TestSchool
) -> None:
    async with db.session() as session:
        student = school.students["李华"]
        student.active = False
        session.add(student)
        await session.flush()
        found = await households(session, school.school.id or 0)
    assert len(found) == 16


@pytest.mark.parametrize(
    ("audience", "ids", "expected"),
    [
        (SurveyAudience.SCHOOL, [], ["三(1)班", "三(2)班", "四(1)班"]),
        (SurveyAudience.GRADES, [3], ["三(1)班", "三(2)班"]),
        (SurveyAudience.GRADES, [6], []),
    ],
)
async def test_an_audience_names_its_classes(
    db: Database, school: TestSchool, audience: SurveyAudience, ids: list[int], expected: list[str]
) -> None:
    async with db.session() as session:
        found = await audience_classes(session, school.school.id or 0, audience, ids)
    assert found == sorted(school.classes[name].id or 0 for name in expected)


async def _survey(db: Database, ts: TestSchool, *, share: int = 30, seed: int = 7) -> Survey:
    async with db.session() as session:
        form = (await ensure_templates(session, ts.school.id or 0, now=NOW))[0]
        survey = Survey(
            school_id=ts.school.id or 0,
            form_id=form.id or 0,
            share=share,
            seed=seed,
            deadline=NOW + timedelta(days=7),
            created_by=ts.staff["赵敏"].id,
            created_at=NOW,
        )
        session.add(survey)
        await session.flush()
        return survey


async def test_drawing_a_survey_writes_one_recipient_per_family_drawn(
    db: Database, school: TestSchool
) -> None:
    survey = await _survey(db, school, share=100)
    async with db.session() as session:
        survey = await session.get(Survey, survey.id) or survey
        draw = await draw_survey(session, survey, minimum=30)
    async with db.session() as session:
        rows = (await session.exec(select(SurveyRecipient))).all()
        stored = await session.get(Survey, survey.id)
    assert stored is not None and stored.status is SurveyStatus.DRAWN
    assert len(rows) == len(draw.picks) == 17
    mother = school.guardians["刘梅"].id
    [family] = [r for r in rows if r.household == mother]
    assert family.guardian_id == mother
    assert family.student_id in (school.students["张小明"].id, school.students["张小红"].id)
    assert {t.drawn for t in draw.per_class.values()} == {6}


async def test_the_same_seed_draws_the_same_families_again(
    db: Database, school: TestSchool
) -> None:
    first = await _survey(db, school, seed=11)
    second = await _survey(db, school, seed=11)
    async with db.session() as session:
        drawn = []
        for made in (first, second):
            survey = await session.get(Survey, made.id)
            assert survey is not None
            draw = await draw_survey(session, survey, minimum=30)
            drawn.append(sorted(p.household.key for p in draw.picks))
            assert all(t.drawn >= 2 for t in draw.per_class.values())
    assert drawn[0] == drawn[1]


async def test_a_survey_is_drawn_once(db: Database, school: TestSchool) -> None:
    made = await _survey(db, school)
    async with db.session() as session:
        survey = await session.get(Survey, made.id)
        assert survey is not None
        await draw_survey(session, survey, minimum=30)
        with pytest.raises(SurveyRefused):
            await draw_survey(session, survey, minimum=30)


async def test_a_share_below_the_schools_minimum_draws_no_one(
    db: Database, school: TestSchool
) -> None:
    made = await _survey(db, school, share=20)
    async with db.session() as session:
        survey = await session.get(Survey, made.id)
        assert survey is not None
        with pytest.raises(SurveyRefused):
            await draw_survey(session, survey, minimum=30)
        count = (await session.exec(select(func.count()).select_from(SurveyRecipient))).one()
    assert count == 0


async def test_a_family_answers_each_question_once(db: Database, school: TestSchool) -> None:
    made = await _survey(db, school, share=100)
    async with db.session() as session:
        survey = await session.get(Survey, made.id)
        assert survey is not None
        await draw_survey(session, survey, minimum=30)
        recipient = (await session.exec(select(SurveyRecipient))).first()
        question = (await questions_of(session, survey.form_id))[0]
        assert recipient is not None
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            for value in ("是", "否"):
                session.add(
                    SurveyAnswer(
                        school_id=survey.school_id,
                        survey_id=survey.id or 0,
                        recipient_id=recipient.id,
                        question_id=question.id or 0,
                        value=value,
                    )
                )
                await session.flush()


async def _answered(db: Database, ts: TestSchool, *, anonymous: bool) -> int:
    made = await _survey(db, ts, share=100)
    async with db.session() as session:
        survey = await session.get(Survey, made.id)
        assert survey is not None
        form = await session.get(SurveyForm, survey.form_id)
        assert form is not None
        form.anonymous = anonymous
        session.add(form)
        await draw_survey(session, survey, minimum=30)
        question = (await questions_of(session, survey.form_id))[1]
        for recipient in (await session.exec(select(SurveyRecipient))).all()[:3]:
            session.add(
                SurveyAnswer(
                    school_id=survey.school_id,
                    survey_id=survey.id or 0,
                    recipient_id=recipient.id,
                    question_id=question.id or 0,
                    value="满意",
                    answered_at=None if anonymous else NOW,
                )
            )
        await session.flush()
        return survey.id or 0


async def test_closing_an_anonymous_survey_unlinks_every_answer_from_its_family(
    db: Database, school: TestSchool
) -> None:
    survey_id = await _answered(db, school, anonymous=True)
    async with db.session() as session:
        assert await detach_anonymous_answers(session, survey_id) == 3
    async with db.session() as session:
        answers = (await session.exec(select(SurveyAnswer))).all()
    assert [(a.recipient_id, a.answered_at, a.value) for a in answers] == [(None, None, "满意")] * 3


async def test_closing_a_named_survey_keeps_its_answers_linked(
    db: Database, school: TestSchool
) -> None:
    survey_id = await _answered(db, school, anonymous=False)
    async with db.session() as session:
        assert await detach_anonymous_answers(session, survey_id) == 0
        linked = (
            await session.exec(
                select(func.count())
                .select_from(SurveyAnswer)
                .where(col(SurveyAnswer.recipient_id).is_not(None))
            )
        ).one()
    assert linked == 3


async def test_the_families_asked_this_semester_are_those_drawn_for_its_opinion_weeks(
    db: Database, school: TestSchool
) -> None:
    semester_survey = await _survey(db, school, share=100)
    async with db.session() as session:
        opinion = (await ensure_templates(session, school.school.id or 0, now=NOW))[1]
        recipients = []
        for created_at, share in ((NOW - timedelta(days=120), 100), (NOW, 30)):
            survey = Survey(
                school_id=school.school.id or 0,
                form_id=opinion.id or 0,
                share=share,
                seed=3,
                deadline=created_at + timedelta(days=7),
                created_at=created_at,
            )
            session.add(survey)
            await session.flush()
            await draw_survey(session, survey, minimum=30)
            recipients.append(
                {
                    r.household
                    for r in (
                        await session.exec(
                            select(SurveyRecipient).where(SurveyRecipient.survey_id == survey.id)
                        )
                    ).all()
                }
            )
        old = await session.get(Survey, semester_survey.id)
        assert old is not None
        await draw_survey(session, old, minimum=30)
        asked = await asked_since(
            session, school.school.id or 0, FormPurpose.OPINION_WEEK, NOW - timedelta(days=30)
        )
    assert len(recipients[0]) == 17
    assert asked == recipients[1]
    assert 5 <= len(asked) < 17
