"""Surveys close at their deadline (job `close_due_surveys`): no more answers, an anonymous
form's answers unlinked from the families, a named form's kept, once however often it runs."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.surveys.tables import Survey, SurveyAnswer, SurveyStatus
from scheduler.jobs.surveys import close_due_surveys
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.test_survey_answer_chat import PARENT_ANSWERS, _mother, sent_survey


async def _answers(db: Database, survey_id: int) -> list[SurveyAnswer]:
    async with db.session() as session:
        query = select(SurveyAnswer).where(SurveyAnswer.survey_id == survey_id)
        return list((await session.exec(query.order_by(col(SurveyAnswer.id)))).all())


async def _status(db: Database, survey_id: int) -> SurveyStatus:
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        return survey.status


async def test_a_survey_closes_at_its_deadline_and_its_anonymous_answers_lose_their_family(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    anonymous = await sent_survey(db, clock, ts)
    named = await sent_survey(db, clock, ts, named=True, deadline=timedelta(days=30))
    await mother.callback(f"!svs:{anonymous}")
    await mother.press(PARENT_ANSWERS[0])
    assert all(a.recipient_id is not None for a in await _answers(db, anonymous))

    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=6))
    assert await _status(db, anonymous) is SurveyStatus.SENT  # not yet

    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    assert await _status(db, anonymous) is SurveyStatus.CLOSED
    assert await _status(db, named) is SurveyStatus.SENT
    [answer] = await _answers(db, anonymous)
    assert (answer.value, answer.recipient_id, answer.answered_at) == (
        PARENT_ANSWERS[0],
        None,
        None,
    )
    await run_at(db, ts.school, close_due_surveys, clock() + timedelta(days=8))
    async with db.session() as session:
        closings = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "survey.close"))
        ).all()
    assert [c.subject for c in closings] == [f"survey:{anonymous}"]
    clock.advance(days=8)
    await mother.callback(f"!svs:{anonymous}")
    assert mother.text == "这份问卷已于 11月23日 10:00 截止，不能再填写或修改了。谢谢您的关心。"
