"""The semester rule (job `survey_semester_check`, scheduler/jobs/survey_checks.py): from the
semester's midpoint, when the semester's surveys reached fewer than 30 % of the school's families,
德育处 is told the figure once a semester; not before the midpoint, not when a survey reached
enough families, and opinion weeks do not count.

The test school has 17 families (三(2)班 has six of them); the autumn semester of
tests/helpers/quota.YEAR_2026 runs from 1 September 2026 to 22 January 2027: its midpoint is
Wednesday 11 November.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import col, delete, select, update

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.surveys.tables import Survey, SurveyRecipient
from scheduler.jobs.opinion_week import OPINION_WEEK
from scheduler.jobs.survey_checks import SURVEY_SEMESTER_CHECK
from scheduler.run import RunStatus, run_job
from tests.helpers.cli import run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.scheduler import config, local
from tests.helpers.statements import counting_selects
from tests.test_opinion_week import _school
from tests.test_survey_answer_chat import sent_survey

MIDPOINT = "2026-11-11 08:00"
KIND = "survey_semester_check"


async def _check(db: Database, at: str) -> int:
    moment = local(at)
    return (await run_job(db, config(), SURVEY_SEMESTER_CHECK, slot=moment, now=moment)).queued


async def _staffed_school(db: Database, clock: FakeClock, *, calendar: bool = True) -> TestSchool:
    """The school with its families bound, 赵敏 (德育处) and 王芳 (a head teacher) too."""
    ts = await _school(db, clock, calendar=calendar)
    for name in ("赵敏", "王芳"):
        await bind(db, clock, ts.staff[name])
    return ts


async def _keep_only(db: Database, survey_id: int, families: int) -> None:
    """Leave the survey with its first `families` families (as if drawn at a smaller share)."""
    async with db.session() as session:
        query = select(SurveyRecipient.id).where(SurveyRecipient.survey_id == survey_id)
        ids = sorted(i for i in (await session.exec(query)).all() if i is not None)
        await session.exec(
            delete(SurveyRecipient).where(col(SurveyRecipient.id).in_(ids[families:]))
        )


async def test_nothing_is_said_before_the_semesters_midpoint(
    db: Database, clock: FakeClock
) -> None:
    await _staffed_school(db, clock)
    assert await _check(db, "2026-11-10 08:00") == 0
    assert await outbox(db, kind=KIND) == []


async def test_at_the_midpoint_with_no_survey_the_moral_education_office_is_told_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await _staffed_school(db, clock)
    assert await _check(db, MIDPOINT) == 1
    [row] = await outbox(db, kind=KIND)
    assert row.chat_id == f"staff-{ts.staff['赵敏'].id}"
    assert row.key == f"survey-semester-check:2026-09-01:staff:{ts.staff['赵敏'].id}:console"
    assert reply_of(row).text == (
        "【学期问卷提醒】本学期（2026-09-01 至 2027-01-22）已过半。\n"
        "本学期问卷已覆盖 0% 的家庭（0/17），不足 30%。\n"
        "请发送 /survey 发起学期问卷，每个班随机抽取不少于 30% 的家庭。"
    )
    again = await run_job(
        db, config(), SURVEY_SEMESTER_CHECK, slot=local(MIDPOINT), now=local(MIDPOINT)
    )
    assert again.status is RunStatus.SKIPPED
    assert await _check(db, "2026-11-12 08:00") == 0
    assert await _check(db, "2026-12-01 08:00") == 0
    assert len(await outbox(db, kind=KIND)) == 1
    async with db.session() as session:
        entries = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "survey.semester_check")
            )
        ).all()
    assert [(e.actor, e.subject) for e in entries] == [("job", "semester:2026-09-01")]


async def test_once_told_the_later_checks_stop_before_reading_the_families(
    db: Database, clock: FakeClock
) -> None:
    # The check runs every day to the semester's end: after 德育处 was told, a run finds each of
    # its accounts' rows of the semester and stops without reading the school's households.
    await _staffed_school(db, clock)
    with counting_selects(db) as told:
        assert await _check(db, MIDPOINT) == 1
    assert any("student_guardian" in statement for statement in told)
    with counting_selects(db) as later:
        assert await _check(db, "2026-11-12 08:00") == 0
    assert later and not any("student_guardian" in statement for statement in later)
    assert len(await outbox(db, kind=KIND)) == 1


async def test_an_account_bound_after_the_office_was_told_is_told_at_the_next_check(
    db: Database, clock: FakeClock
) -> None:
    ts = await _staffed_school(db, clock)
    assert await _check(db, MIDPOINT) == 1
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id="7001")
    assert await _check(db, "2026-11-12 08:00") == 1
    rows = await outbox(db, kind=KIND)
    assert sorted(row.channel for row in rows) == ["console", "telegram"]
    assert len({reply_of(row).text for row in rows}) == 1
    assert await _check(db, "2026-11-13 08:00") == 0


async def test_a_missed_midpoint_is_caught_up_on_the_next_run(
    db: Database, clock: FakeClock
) -> None:
    await _staffed_school(db, clock)
    assert await _check(db, "2026-11-20 08:00") == 1


async def test_opinion_weeks_do_not_count_toward_the_semester_rule(
    db: Database, clock: FakeClock
) -> None:
    await _staffed_school(db, clock)
    for at in ("2026-09-28 09:00", "2026-10-26 09:00"):
        await run_job(db, config(), OPINION_WEEK, slot=local(at), now=local(at))
    assert await _check(db, MIDPOINT) == 1
    [row] = await outbox(db, kind=KIND)
    assert "0% 的家庭（0/17）" in reply_of(row).text


@pytest.mark.parametrize(("families", "told"), [(6, 0), (5, 1)])
async def test_a_survey_reaching_30_percent_of_the_families_meets_the_rule(
    db: Database, clock: FakeClock, families: int, told: int
) -> None:
    ts = await _staffed_school(db, clock)
    # Sent on 16 November to 三(2)班's six families (6/17 = 35 %), or five of them (29 %).
    survey_id = await sent_survey(db, clock, ts, classes=("三(2)班",))
    await _keep_only(db, survey_id, families)
    assert await _check(db, "2026-11-17 08:00") == told
    if told:
        [row] = await outbox(db, kind=KIND)
        assert "29% 的家庭（5/17）" in reply_of(row).text


async def test_a_survey_sent_before_the_semester_does_not_count(
    db: Database, clock: FakeClock
) -> None:
    ts = await _staffed_school(db, clock)
    survey_id = await sent_survey(db, clock, ts)  # every family
    async with db.session() as session:
        await session.exec(
            update(Survey)
            .where(col(Survey.id) == survey_id)
            .values(sent_at=datetime.fromisoformat("2026-06-20T10:00:00+08:00"))
        )
    assert await _check(db, "2026-11-17 08:00") == 1


@pytest.mark.parametrize("at", ["2027-02-01 08:00", "2027-08-01 08:00"])
async def test_nothing_is_said_in_a_break(db: Database, clock: FakeClock, at: str) -> None:
    await _staffed_school(db, clock)
    assert await _check(db, at) == 0


async def test_a_school_with_no_semester_on_record_has_no_midpoint(
    db: Database, clock: FakeClock
) -> None:
    await _staffed_school(db, clock, calendar=False)
    assert await _check(db, "2026-11-20 08:00") == 0


async def test_through_the_command_line_the_midpoint_slot_runs_once(
    db: Database, clock: FakeClock, cli_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIMEZONE", raising=False)
    await _staffed_school(db, clock)
    for at in ("2026-11-11T08:00", "2026-11-11T08:00", "2026-11-12T08:00"):
        assert await run_main("jobs", "run", "survey_semester_check", "--now", at) == 0
    assert len(await outbox(db, kind=KIND)) == 1
