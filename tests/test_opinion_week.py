"""Opinion week 民意访问周 (scheduler/jobs/opinion_week.py), driven as `jobs run opinion_week
--now …` drives it: on the first school day of each month's last school week, a quarter of the
families not asked yet this semester get the opinion-week form, once a month, every family once
a semester; nothing in a break; invitations in waking hours.

The test school (tests/helpers/factories.py) has 17 families (刘梅's two children are one); at
the default share of 25 each opinion week asks ceil(17 × 25 %) = 5 of them. The 2026-27 calendar
(tests/helpers/quota.YEAR_2026): the autumn semester from 1 September 2026 to 22 January 2027, the
winter break, the spring semester from 23 February 2027. Opinion weeks of the autumn semester:
28 September, 26 October, 30 November, 28 December, 18 January.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from handlers.types import Reply
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.school.tables import TermKind
from models.surveys.scheduled import claim_once
from models.surveys.tables import (
    FormPurpose,
    Survey,
    SurveyForm,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import copy_form, ensure_templates
from scheduler.jobs.opinion_week import OPINION_WEEK, month_claim
from scheduler.run import Outcome, RunStatus, run_job
from tests.helpers.cli import run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.quota import YEAR_2026, add_terms
from tests.helpers.scheduler import config, local

FAMILIES = 17
#: ceil(17 × 25 %).
A_WEEK = 5
#: A guardian left without a bound account.
UNBOUND = "李华家长"
AUTUMN_WEEKS = (
    "2026-09-28 09:00",
    "2026-10-26 09:00",
    "2026-11-30 09:00",
    "2026-12-28 09:00",
    "2027-01-18 09:00",
)


async def _school(db: Database, clock: FakeClock, *, calendar: bool = True) -> TestSchool:
    ts = await seed_school(db)
    if calendar:
        await add_terms(db, ts, *YEAR_2026)
    for name, guardian in ts.guardians.items():
        if name != UNBOUND:
            await bind(db, clock, guardian)
    return ts


async def _run(db: Database, at: str) -> Outcome:
    """`jobs run opinion_week --now <at>`: the slot is the moment itself."""
    moment = local(at)
    return await run_job(db, config(), OPINION_WEEK, slot=moment, now=moment)


async def _surveys(db: Database) -> list[tuple[Survey, list[SurveyRecipient]]]:
    async with db.session() as session:
        surveys = (await session.exec(select(Survey).order_by(col(Survey.id)))).all()
        found = []
        for survey in surveys:
            query = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey.id)
            found.append((survey, list((await session.exec(query)).all())))
        return found


def _families(recipients: list[SurveyRecipient]) -> set[int]:
    return {r.household for r in recipients}


async def test_each_opinion_week_asks_five_families_not_yet_asked_and_invites_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    first = await _run(db, "2026-09-28 09:00")
    second = await _run(db, "2026-10-26 09:00")
    [(september, asked_first), (october, asked_second)] = await _surveys(db)
    assert (len(asked_first), len(asked_second)) == (A_WEEK, A_WEEK)
    assert _families(asked_first).isdisjoint(_families(asked_second))
    assert september.deadline == local("2026-10-04 20:00")  # the week's Sunday evening
    assert october.deadline == local("2026-11-01 20:00")
    for survey in (september, october):
        assert survey.status is SurveyStatus.SENT
        assert survey.share == 25 and survey.created_by is None
    async with db.session() as session:
        form = await session.get(SurveyForm, september.form_id)
        assert form is not None and form.purpose is FormPurpose.OPINION_WEEK
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "survey.opinion_week"))
        ).all()
    assert [(e.actor, e.subject) for e in entries] == [
        ("job", f"survey:{september.id}"),
        ("job", f"survey:{october.id}"),
    ]
    assert f"seed={september.seed}" in entries[0].detail
    invited = await outbox(db, prefix=f"survey:{september.id}:invite")
    bound = {r.guardian_id for r in asked_first} - {ts.guardians[UNBOUND].id}
    assert len(invited) == len(bound) == first.queued
    assert second.queued > 0
    assert {row.kind for row in invited} == {"survey_invite"}
    assert {row.due_at for row in invited} == {local("2026-09-28 09:00")}
    reply = reply_of(invited[0])
    assert reply.text.startswith("学校邀请您填写问卷：民意访问周满意度调查")
    assert "请在 10月4日" in reply.text and "20:00 前填写。" in reply.text
    assert [[b.data for b in row] for row in reply.buttons] == [[f"!svs:{september.id}"]]


async def test_over_the_semester_every_family_is_asked_once_and_a_week_with_nobody_left_sends_nothing(
    db: Database, clock: FakeClock
) -> None:
    await _school(db, clock)
    for at in AUTUMN_WEEKS:
        assert (await _run(db, at)).status is RunStatus.DONE
    surveys = await _surveys(db)
    # 5 + 5 + 5 + 2: January finds every family asked and makes no survey.
    assert [len(recipients) for _survey, recipients in surveys] == [5, 5, 5, 2]
    asked = [r.household for _survey, recipients in surveys for r in recipients]
    assert len(asked) == len(set(asked)) == FAMILIES


async def test_the_spring_semester_asks_every_family_afresh(db: Database, clock: FakeClock) -> None:
    await _school(db, clock)
    for at in AUTUMN_WEEKS:
        await _run(db, at)
    await _run(db, "2027-02-23 09:00")  # the spring semester's first day, in its first week
    *_autumn, (spring, asked) = await _surveys(db)
    assert spring.created_at == local("2027-02-23 09:00")
    assert len(asked) == A_WEEK


async def test_a_second_run_or_a_second_day_in_the_month_creates_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    await _run(db, "2026-09-28 09:00")
    again = await _run(db, "2026-09-28 09:00")
    assert again.status is RunStatus.SKIPPED
    later = await _run(db, "2026-09-29 09:00")
    assert (later.status, later.queued) == (RunStatus.DONE, 0)
    [(_survey, asked)] = await _surveys(db)
    rows = await outbox(db, kind="survey_invite")
    assert len(rows) == len(asked) - (ts.guardians[UNBOUND].id in {r.guardian_id for r in asked})


async def test_a_run_missed_on_the_weeks_first_day_catches_up_on_a_later_school_day(
    db: Database, clock: FakeClock
) -> None:
    await _school(db, clock)
    assert (await _run(db, "2026-09-30 09:00")).queued > 0
    [(survey, _asked)] = await _surveys(db)
    assert survey.deadline == local("2026-10-04 20:00")


@pytest.mark.parametrize(
    "at",
    [
        "2026-09-25 09:00",  # the Friday before the opinion week
        "2026-10-01 09:00",  # the week goes on into October, a holiday, not September's
        "2027-02-22 09:00",  # the winter break's last Monday (the week is February's)
        "2027-07-30 09:00",  # the summer break
        "2026-10-03 09:00",  # a Saturday
    ],
)
async def test_outside_the_months_opinion_week_or_in_a_break_nothing_is_sent(
    db: Database, clock: FakeClock, at: str
) -> None:
    await _school(db, clock)
    outcome = await _run(db, at)
    assert (outcome.status, outcome.queued) == (RunStatus.DONE, 0)
    assert await _surveys(db) == []


async def test_a_school_with_no_semester_on_record_still_has_its_monthly_opinion_week(
    db: Database, clock: FakeClock
) -> None:
    await _school(db, clock, calendar=False)
    await _run(db, "2026-09-28 09:00")
    await _run(db, "2026-10-26 09:00")
    [(_sep, first), (_oct, second)] = await _surveys(db)
    assert len(first) == len(second) == A_WEEK
    assert _families(first).isdisjoint(_families(second))


async def test_invitations_of_a_run_in_quiet_hours_wait_for_the_morning(
    db: Database, clock: FakeClock
) -> None:
    await _school(db, clock)
    await _run(db, "2026-09-28 06:00")
    rows = await outbox(db, kind="survey_invite")
    assert rows and {row.due_at for row in rows} == {local("2026-09-28 07:00")}


async def test_the_schools_own_copy_of_the_opinion_week_form_is_sent(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    async with db.session() as session:
        _parent, template = await ensure_templates(session, ts.school.id or 0, now=clock())
        copy = await copy_form(
            session, template.id or 0, by=ts.staff["赵敏"].id or 0, name="本校民意问卷"
        )
        copy_id = copy.id
    await _run(db, "2026-09-28 09:00")
    [(survey, _asked)] = await _surveys(db)
    assert survey.form_id == copy_id
    [row, *_] = await outbox(db, kind="survey_invite")
    assert Reply.from_dict(row.payload).text.startswith("学校邀请您填写问卷：本校民意问卷")


async def test_a_run_finding_the_month_claimed_by_another_run_makes_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    async with db.session() as session:
        # Another run of the same month committed its claim first.
        assert await claim_once(
            session,
            ts.school.id or 0,
            month_claim(date(2026, 9, 1)),
            local("2026-09-01 00:00"),
            now=clock(),
        )
    outcome = await _run(db, "2026-09-28 09:00")
    assert outcome.queued == 0
    assert await _surveys(db) == []


async def test_through_the_command_line_the_month_gets_one_opinion_week(
    db: Database, clock: FakeClock, cli_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIMEZONE", raising=False)
    await _school(db, clock)
    for at in ("2026-09-28T09:00", "2026-09-28T09:00", "2026-09-29T09:00", "2026-10-26T09:00"):
        assert await run_main("jobs", "run", "opinion_week", "--now", at) == 0
    surveys = await _surveys(db)
    assert [s.created_at for s, _asked in surveys] == [
        local("2026-09-28 09:00"),
        local("2026-10-26 09:00"),
    ]
    async with db.session() as session:
        invited = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "survey_invite"))
        ).all()
    assert len(invited) == len({row.key for row in invited}) > 0


async def test_a_break_on_record_over_the_opinion_week_sends_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock, calendar=False)
    await add_terms(db, ts, (TermKind.WINTER_BREAK, date(2026, 9, 21), date(2026, 10, 8)))
    outcome = await _run(db, "2026-09-28 09:00")
    assert outcome.queued == 0
    assert await _surveys(db) == []
