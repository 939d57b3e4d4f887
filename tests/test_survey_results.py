"""A survey's results (models/surveys/results.py, handlers/surveys/results.py): the response rate
per class, each question's distribution school-wide and (a named form) per class exactly as the
families answered, classes under five submissions merged into 其他, an anonymous form shown
school-wide only and only once closed, free texts without names, one chart per question, all in
a fixed number of statements.

The test school (tests/helpers/factories.py): three classes of six children; 刘梅 is the mother of
张小明 (三(2)班) and 张小红 (四(1)班), one family, so the whole school is 17 families. The
surveys are drawn at 100 % (`tests.test_survey_answer_chat.sent_survey`) and answered here with
the model functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from handlers.i18n import translator
from handlers.surveys.chart import chart_specs, survey_charts
from models.db.engine import Database
from models.surveys.queries import save_answer, submit_answers
from models.surveys.results import (
    OTHER,
    STATEMENTS,
    ClassTally,
    SurveyResults,
    Withheld,
    group_classes,
    survey_results,
)
from models.surveys.tables import (
    Survey,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from scheduler.jobs.surveys import close_due_surveys
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool
from tests.helpers.visits import full_dispatcher, person
from tests.test_survey_answer_chat import sent_survey

#: What would trace an answer back to 刘梅's family (her name, phone, children, student numbers).
HER_FAMILY = ("刘梅", "13700000000", "张小明", "张小红", "S007", "S013")

#: (class, the n-th family drawn in it) → the value it gives to a question of this kind.
Answerer = Callable[[str, int, SurveyQuestion], str | None]


async def answer_survey(
    db: Database,
    clock: FakeClock,
    ts: TestSchool,
    survey_id: int,
    answerer: Answerer,
    *,
    submit: Callable[[str, int], bool] = lambda _klass, _n: True,
) -> dict[str, int]:
    """Every family drawn answers each question as `answerer` says (None: not at all) and
    submits if `submit` says so; the families answering per class."""
    names = {c.id: name for name, c in ts.classes.items()}
    seen: dict[str, int] = {}
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        form = await session.get(SurveyForm, survey.form_id)
        assert form is not None
        questions = (
            await session.exec(
                select(SurveyQuestion)
                .where(SurveyQuestion.form_id == form.id)
                .order_by(col(SurveyQuestion.position))
            )
        ).all()
        recipients = (
            await session.exec(
                select(SurveyRecipient)
                .where(SurveyRecipient.survey_id == survey_id)
                .order_by(col(SurveyRecipient.id))
            )
        ).all()
        for recipient in recipients:
            klass = names[recipient.class_id]
            n = seen.get(klass, 0)
            seen[klass] = n + 1
            for question in questions:
                value = answerer(klass, n, question)
                if value is not None:
                    await save_answer(
                        session, recipient, question, value, anonymous=form.anonymous, now=clock()
                    )
            if submit(klass, n):
                await submit_answers(session, recipient, clock())
    return seen


async def results_of(db: Database, ts: TestSchool, survey_id: int) -> SurveyResults:
    async with db.session() as session:
        found = await survey_results(session, ts.school.id or 0, survey_id)
    assert found is not None
    return found


def by_class_answers(klass: str, n: int, question: SurveyQuestion) -> str | None:
    """三(1)班 all 满意; 三(2)班 满意 for the first two, then 不满意; 四(1)班 基本满意; texts
    numbered by class."""
    if question.kind.value == "text":
        return f"{klass}第{n + 1}户的建议" if n < 2 else ""
    if klass == "三(1)班":
        return "满意"
    if klass == "三(2)班":
        return "满意" if n < 2 else "不满意"
    return "基本满意"


# -- the groups ------------------------------------------------------------------------------


def _tallies(*submitted: int) -> list[ClassTally]:
    return [ClassTally(n + 1, f"C{n + 1}", 10, s) for n, s in enumerate(submitted)]


@pytest.mark.parametrize(
    ("submitted", "shown", "other"),
    [
        ((5, 6, 7), ["C1", "C2", "C3"], None),  # every class big enough: no 其他
        ((5, 0, 7), ["C1", "C3"], 0),  # nobody in C2: 其他 holds it, with nothing to tell
        ((2, 3, 9), ["C3"], 5),  # two small classes together reach five
        ((9, 6, 2), ["C1"], 8),  # 其他 would hold 2: the smallest class (C2) folds in
        ((6, 6, 1), ["C1"], 7),  # a tie: the later class folds in
        ((4, 5), [], 9),  # 其他 would hold 4: C2 folds in, nothing is shown per class
        ((0, 0), [], 0),
    ],
)
def test_classes_under_five_and_a_small_other_are_merged(
    submitted: tuple[int, ...], shown: list[str], other: int | None
) -> None:
    groups = group_classes(_tallies(*submitted))
    assert [g.name for g in groups if not g.merged] == shown
    merged = [g.submitted for g in groups if g.merged]
    assert merged == ([] if other is None else [other])
    assert sum(g.submitted for g in groups) == sum(submitted)
    assert sum(g.drawn for g in groups) == 10 * len(submitted)
    assert all(g.submitted >= 5 for g in groups if not g.merged)


# -- a named form: per class and school-wide ---------------------------------------------------


async def test_a_named_surveys_distributions_are_exactly_what_the_families_answered(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    # 四(1)班's families answer but none submits: its class is 其他, its answers are not counted.
    drawn = await answer_survey(
        db, clock, school, survey_id, by_class_answers, submit=lambda k, _n: k != "四(1)班"
    )
    results = await results_of(db, school, survey_id)

    assert {g.name: (g.submitted, g.drawn) for g in results.groups} == {
        "三(1)班": (drawn["三(1)班"], drawn["三(1)班"]),
        "三(2)班": (drawn["三(2)班"], drawn["三(2)班"]),
        OTHER: (0, drawn["四(1)班"]),
    }
    assert (results.submitted, results.drawn) == (drawn["三(1)班"] + drawn["三(2)班"], 17)
    assert results.withheld is None and results.per_group
    first = results.questions[0]
    assert first.school is not None
    unhappy = drawn["三(2)班"] - 2
    assert first.school.counts == (
        ("满意", drawn["三(1)班"] + 2),
        ("基本满意", 0),
        ("不满意", unhappy),
    )
    assert {g.name: d.counts for g, d in first.by_group} == {
        "三(1)班": (("满意", drawn["三(1)班"]), ("基本满意", 0), ("不满意", 0)),
        "三(2)班": (("满意", 2), ("基本满意", 0), ("不满意", unhappy)),
        OTHER: (("满意", 0), ("基本满意", 0), ("不满意", 0)),
    }
    texts = results.questions[-1]
    assert texts.is_text and texts.school is None
    assert texts.texts == tuple(
        sorted(f"{k}第{n}户的建议" for k in ("三(1)班", "三(2)班") for n in (1, 2))
    )
    assert texts.texts[0] < texts.texts[-1]  # sorted by their words, not by who wrote when


async def test_a_small_other_takes_the_class_with_the_fewest_submissions_with_it(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    # 四(1)班: four submit. 其他 with four would be 全校 minus the classes shown, so the smaller of
    # the others (a tie: the later, 三(2)班) joins it.
    drawn = await answer_survey(
        db, clock, school, survey_id, by_class_answers, submit=lambda k, n: k != "四(1)班" or n < 4
    )
    results = await results_of(db, school, survey_id)
    assert [(g.name, g.submitted, g.drawn) for g in results.groups] == [
        ("三(1)班", drawn["三(1)班"], drawn["三(1)班"]),
        (OTHER, drawn["三(2)班"] + 4, drawn["三(2)班"] + drawn["四(1)班"]),
    ]
    first = results.questions[0]
    assert {g.name: d.counts for g, d in first.by_group} == {
        "三(1)班": (("满意", drawn["三(1)班"]), ("基本满意", 0), ("不满意", 0)),
        OTHER: (("满意", 2), ("基本满意", 4), ("不满意", drawn["三(2)班"] - 2)),
    }
    assert first.school is not None and first.school.answered == results.submitted


async def test_results_run_a_fixed_number_of_statements(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    await answer_survey(db, clock, school, survey_id, by_class_answers)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            seen.append(statement)

    async with db.session() as session:
        await session.connection()
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            await survey_results(session, school.school.id or 0, survey_id)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == STATEMENTS


async def test_fewer_than_five_submissions_show_no_distribution(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    await answer_survey(
        db, clock, school, survey_id, by_class_answers, submit=lambda k, n: k == "三(1)班" and n < 4
    )
    results = await results_of(db, school, survey_id)
    assert results.withheld is Withheld.TOO_FEW and results.questions == ()
    assert [(g.name, g.submitted) for g in results.groups] == [(OTHER, 4)]


async def test_another_schools_or_an_unsent_survey_has_no_results(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    async with db.session() as session:
        assert await survey_results(session, (school.school.id or 0) + 1, survey_id) is None
        assert await survey_results(session, school.school.id or 0, survey_id + 99) is None
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        survey.status = SurveyStatus.DRAWN
        session.add(survey)
    async with db.session() as session:
        assert await survey_results(session, school.school.id or 0, survey_id) is None


# -- an anonymous form: school-wide, once closed -----------------------------------------------


async def _closed_anonymous(db: Database, clock: FakeClock, ts: TestSchool) -> int:
    survey_id = await sent_survey(db, clock, ts)
    await answer_survey(db, clock, ts, survey_id, by_class_answers)
    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    return survey_id


async def test_an_anonymous_survey_shows_nothing_per_question_until_it_closes(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school)
    await answer_survey(db, clock, school, survey_id, by_class_answers)
    open_results = await results_of(db, school, survey_id)
    assert open_results.withheld is Withheld.OPEN_ANONYMOUS
    assert open_results.questions == ()
    assert open_results.submitted == 17  # the response rate is shown all along

    await run_at(db, school.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    results = await results_of(db, school, survey_id)
    assert results.withheld is None and not results.per_group
    satisfaction = results.questions[1]  # 作业份量: every satisfaction question is answered alike
    assert satisfaction.by_group == ()
    assert satisfaction.school is not None
    assert dict(satisfaction.school.counts) == {"满意": 8, "基本满意": 5, "不满意": 4}
    assert results.questions[-1].texts == tuple(
        sorted(f"{k}第{n}户的建议" for k in ("三(1)班", "三(2)班", "四(1)班") for n in (1, 2))
    )


async def test_nothing_an_anonymous_surveys_results_show_traces_a_family(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school)

    def her_words(klass: str, n: int, question: SurveyQuestion) -> str | None:
        return "希望多组织户外活动" if question.kind.value == "text" else "满意"

    await answer_survey(db, clock, school, survey_id, her_words)
    await run_at(db, school.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    results = await results_of(db, school, survey_id)
    t = translator("zh")
    charts = chart_specs(results, t)
    assert len(charts) == 7  # the seven questions with options
    shown = repr(results) + repr(charts)
    assert "希望多组织户外活动" in shown
    assert not any(trace in shown for trace in HER_FAMILY)


# -- the chart -----------------------------------------------------------------------------


async def test_each_question_with_options_gets_a_chart_of_its_counts(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    drawn = await answer_survey(db, clock, school, survey_id, by_class_answers)
    results = await results_of(db, school, survey_id)
    t = translator("zh")
    specs = chart_specs(results, t)
    assert len(specs) == 4  # the opinion-week form's four satisfaction questions
    first = specs[0]
    assert first.title.startswith("第1题 ")
    assert first.rows == ("全校", "三(1)班", "三(2)班", "四(1)班")
    assert first.options == ("满意", "基本满意", "不满意")
    assert first.counts == (
        (drawn["三(1)班"] + 2, drawn["四(1)班"], drawn["三(2)班"] - 2),
        (drawn["三(1)班"], 0, 0),
        (2, 0, drawn["三(2)班"] - 2),
        (0, drawn["四(1)班"], 0),
    )
    [png, *_rest] = survey_charts(results, t)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


# -- in the chat ---------------------------------------------------------------------------


async def test_the_results_button_shows_the_text_and_one_picture_per_question(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    drawn = await answer_survey(db, clock, school, survey_id, by_class_answers)
    office = await person(db, clock, full_dispatcher(db, clock), school.staff["赵敏"])
    await office.send("/survey results")
    await office.press(f"结果 #{survey_id}")
    replies = office.replies
    text = replies[0].text
    assert "回收：已提交 17/17（100%）" in text
    assert f"三(1)班 {drawn['三(1)班']}/{drawn['三(1)班']}（100%）" in text
    assert "全校：满意 " in text and "三(2)班：满意 2（" in text
    assert "三(1)班第1户的建议" in text
    pictures = [r for r in replies[1:] if r.image is not None]
    assert [r.text for r in pictures] == [f"问卷 #{survey_id} 第{n}题" for n in (1, 2, 3, 4)]
    assert not any(trace in r.text for r in replies for trace in HER_FAMILY)
