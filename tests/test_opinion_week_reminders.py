"""Halfway to a survey's deadline the families that have not submitted are reminded once, with the
invitation's 开始填写 button (job `survey_reminders`, scheduler/jobs/survey_checks.py): the
opinion week's survey mid-week, and any survey /survey sent; never in quiet hours, never twice,
not at all when the halfway point was missed until just before the deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select, update

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.surveys.tables import SurveyRecipient
from scheduler.jobs.opinion_week import OPINION_WEEK
from scheduler.jobs.survey_checks import SURVEY_REMINDERS
from scheduler.run import run_job
from tests.helpers.clock import FakeClock
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.scheduler import config, local
from tests.test_opinion_week import UNBOUND, _school, _surveys
from tests.test_survey_answer_chat import sent_survey


async def _remind(db: Database, at: datetime) -> int:
    outcome = await run_job(db, config(), SURVEY_REMINDERS, slot=at, now=at)
    return outcome.queued


async def _submit(db: Database, survey_id: int, guardian_id: int, at: datetime) -> None:
    async with db.session() as session:
        await session.exec(
            update(SurveyRecipient)
            .where(
                col(SurveyRecipient.survey_id) == survey_id,
                col(SurveyRecipient.guardian_id) == guardian_id,
            )
            .values(submitted_at=at)
        )


async def _recipients(db: Database, survey_id: int) -> list[SurveyRecipient]:
    async with db.session() as session:
        query = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey_id)
        return list((await session.exec(query.order_by(col(SurveyRecipient.id)))).all())


async def test_mid_week_the_opinion_weeks_families_that_have_not_submitted_are_reminded_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    sent_at = local("2026-09-28 09:00")
    await run_job(db, config(), OPINION_WEEK, slot=sent_at, now=sent_at)
    [(survey, asked)] = await _surveys(db)
    # Sent Monday 09:00, closing Sunday 20:00: halfway is Thursday 14:30.
    assert await _remind(db, local("2026-10-01 14:20")) == 0
    answered, *waiting = [r.guardian_id for r in asked]
    await _submit(db, survey.id or 0, answered, local("2026-09-29 19:00"))
    queued = await _remind(db, local("2026-10-01 14:30"))
    rows = await outbox(db, kind="survey_reminder")
    reached = set(waiting) - {ts.guardians[UNBOUND].id}
    assert queued == len(rows) == len(reached) > 0
    assert {row.key.split(":guardian:")[1].split(":")[0] for row in rows} == {
        str(g) for g in reached
    }
    assert {row.due_at for row in rows} == {local("2026-10-01 14:30")}
    reply = reply_of(rows[0])
    assert reply.text.startswith("【提醒】您的家庭还没有提交问卷：民意访问周满意度调查")
    assert [[b.data for b in row] for row in reply.buttons] == [[f"!svs:{survey.id}"]]
    assert await _remind(db, local("2026-10-01 14:40")) == 0
    assert await _remind(db, local("2026-10-03 10:00")) == 0
    assert len(await outbox(db, kind="survey_reminder")) == len(rows)
    async with db.session() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "survey.remind"))
        ).all()
    assert [(e.actor, e.subject) for e in entries] == [("job", f"survey:{survey.id}")]


async def test_a_halfway_point_in_quiet_hours_waits_for_the_morning_and_skips_who_answered_overnight(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    # A /survey survey sent Monday 16 November 10:00 to every family, due a week later: halfway
    # is Thursday 22:00, in quiet hours.
    survey_id = await sent_survey(db, clock, ts)
    assert await _remind(db, local("2026-11-19 22:00")) == 0
    mother = ts.guardians["刘梅"].id or 0
    await _submit(db, survey_id, mother, local("2026-11-19 23:30"))
    morning = local("2026-11-20 07:00")
    queued = await _remind(db, morning)
    rows = await outbox(db, kind="survey_reminder")
    everyone = {r.guardian_id for r in await _recipients(db, survey_id)}
    assert queued == len(everyone - {mother, ts.guardians[UNBOUND].id}) == len(rows)
    assert not any(f":guardian:{mother}:" in row.key for row in rows)
    assert {row.due_at for row in rows} == {morning}


async def test_a_halfway_point_missed_until_just_before_the_deadline_reminds_no_one(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    survey_id = await sent_survey(db, clock, ts, deadline=timedelta(days=2))
    deadline = clock() + timedelta(days=2)
    assert await _remind(db, deadline - timedelta(minutes=30)) == 0
    assert await _remind(db, deadline - timedelta(minutes=20)) == 0
    assert await outbox(db, kind="survey_reminder") == []
    assert len(await _recipients(db, survey_id)) > 0


async def test_a_closed_survey_reminds_no_one(db: Database, clock: FakeClock) -> None:
    ts = await _school(db, clock)
    await sent_survey(db, clock, ts, deadline=timedelta(days=2))
    assert await _remind(db, clock() + timedelta(days=2, hours=1)) == 0
    assert await outbox(db, kind="survey_reminder") == []
