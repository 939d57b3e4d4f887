"""The digest's survey line (models/digest/surveys.py): while a survey is open (sent, its
deadline not reached) the digest says how many of its families have submitted, one line per
survey; nothing once it has closed or its deadline has passed; and the digest's statements stay
the fixed number."""

from __future__ import annotations

from datetime import timedelta

from benchmarks.digest import counting_statements
from handlers.digest import digest_text
from handlers.i18n import translator
from models.db.engine import Database
from models.digest.queries import QUERIES, gather_digest
from models.digest.surveys import OpenSurvey, open_surveys
from models.school.tables import School
from scheduler.jobs.surveys import close_due_surveys
from tests.helpers.clock import FakeClock
from tests.helpers.digest import ZONE
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool
from tests.test_survey_answer_chat import sent_survey
from tests.test_survey_results import answer_survey, by_class_answers


async def _digest_text(db: Database, ts: TestSchool, clock: FakeClock) -> str:
    async with db.session() as session:
        figures = await gather_digest(
            session=session,
            school_id=ts.school.id or 0,
            school_name=ts.school.name,
            now=clock(),
            zone=ZONE,
        )
    return digest_text(figures, translator("zh"), ZONE)


async def test_an_open_survey_has_its_response_rate_in_the_digest_until_it_closes(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    survey_id = await sent_survey(db, clock, school)  # deadline 23 November, 10:00
    await answer_survey(
        db, clock, school, survey_id, by_class_answers, submit=lambda k, _n: k == "三(1)班"
    )
    text = await _digest_text(db, school, clock)
    assert (
        f"· 问卷 #{survey_id} 家长问卷（情况调查和征求意见表）：已提交 6/17（35%），11月23日截止"
        in (text.splitlines())
    )

    clock.advance(days=7)  # the deadline has passed, the survey not yet closed by the job
    assert "问卷 #" not in await _digest_text(db, school, clock)
    await run_at(db, school.school, close_due_surveys, clock())
    assert "问卷 #" not in await _digest_text(db, school, clock)


async def test_each_open_survey_of_the_school_is_one_line_by_deadline(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    later = await sent_survey(db, clock, school, named=True, deadline=timedelta(days=20))
    sooner = await sent_survey(db, clock, school, classes=("三(1)班",))
    async with db.session() as session:
        other = School(name="别的小学")
        session.add(other)
        await session.flush()
        assert await open_surveys(session, other.id or 0, clock()) == []
        found = await open_surveys(session, school.school.id or 0, clock())
    assert [(s.survey_id, s.drawn, s.submitted) for s in found] == [(sooner, 6, 0), (later, 17, 0)]
    assert all(isinstance(s, OpenSurvey) for s in found)


async def test_the_digest_still_runs_its_fixed_number_of_statements_with_surveys_open(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await sent_survey(db, clock, school)
    await sent_survey(db, clock, school, named=True)
    async with db.session() as session:
        await session.connection()
        with counting_statements(db) as seen:
            figures = await gather_digest(
                session=session,
                school_id=school.school.id or 0,
                school_name=school.school.name,
                now=clock(),
                zone=ZONE,
            )
    assert len(figures.surveys) == 2
    assert len(seen) == QUERIES
