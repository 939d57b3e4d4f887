"""The 大走访's left-behind households (`campaign_left_behind_reminders`): from the first of the
month's last seven days, each responsible teacher whose 留守 households had no contact of any
form this month is reminded once a month, listing those students; a contact by anyone, in any
form, is a contact; nothing before the last week, nothing in quiet hours (the message waits),
nothing for a campaign without the monthly rule. Runs on SQLite and PostgreSQL.

The campaign is `tests.helpers.campaign_figures.november_campaign` (1–30 November, generated
包保表): the 张 household (张小明 留守, contacted in November) is 孙丽's, 杨帆 (留守, not contacted)
is 王芳's; here 吴迪 (三(1)班, 李强's) is tagged 留守 too. November's last seven days begin on the
24th.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from models.campaigns import queries
from models.campaigns.rules import check_campaign
from models.campaigns.tables import Campaign
from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.roster.tables import Student
from models.visits.tables import VisitForm
from scheduler.jobs.campaigns import campaign_left_behind_reminders
from scheduler.registry import all_jobs
from tests.helpers.campaign_figures import NOW, add_visit, november_campaign
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, run_at
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.outbox import outbox, reply_of

KIND = "campaign_left_behind"


async def _school(db: Database, clock: FakeClock) -> tuple[TestSchool, Campaign]:
    ts = await seed_school(db)
    campaign = await november_campaign(db, ts)
    async with db.session() as session:
        wu = (await session.exec(select(Student).where(Student.name == "吴迪"))).one()
        wu.tags = "留守"
        session.add(wu)
    for name in ("王芳", "李强", "孙丽", "赵敏"):
        await bind(db, clock, ts.staff[name])
    return ts, campaign


def _by_chat(ts: TestSchool, rows: list[OutboxMessage]) -> dict[str, str]:
    names = {f"staff-{s.id}": name for name, s in ts.staff.items()}
    return {names[r.chat_id]: reply_of(r).text for r in rows}


async def _run(db: Database, ts: TestSchool, moment: str) -> int:
    return await run_at(db, ts.school, campaign_left_behind_reminders, local(moment))


async def test_the_job_is_registered_daily() -> None:
    [job] = [j for j in all_jobs() if j.name == "campaign_left_behind_reminders"]
    assert job.func is campaign_left_behind_reminders


async def test_each_teacher_is_reminded_once_a_month_of_households_not_contacted(
    db: Database, clock: FakeClock
) -> None:
    ts, campaign = await _school(db, clock)
    assert await _run(db, ts, "2026-11-23 08:00") == 0  # not the last week yet
    assert await outbox(db, kind=KIND) == []

    assert await _run(db, ts, "2026-11-24 08:00") == 2
    rows = await outbox(db, kind=KIND)
    texts = _by_chat(ts, rows)
    # 孙丽's 张 household was visited in November: nothing for her.
    assert set(texts) == {"王芳", "李强"}
    assert texts["王芳"].startswith(
        "【大走访·留守家庭】「秋季大走访」：您包保的 1 户留守儿童家庭本月（11月）还没有联系：\n"
        "· 三(2)班杨帆\n"
    )
    assert "· 三(1)班吴迪" in texts["李强"]
    assert "杨帆" not in texts["李强"]
    keys = {r.key for r in rows}
    assert f"campaign-left-behind:{campaign.id}:2026-11:teacher:{ts.staff['王芳'].id}" in {
        key.rsplit(":staff:", 1)[0] for key in keys
    }

    # The next days of the week, and the same slot again: nothing more.
    assert await _run(db, ts, "2026-11-24 08:00") == 0
    assert await _run(db, ts, "2026-11-25 08:00") == 0
    assert await _run(db, ts, "2026-11-30 08:00") == 0
    assert len(await outbox(db, kind=KIND)) == 2


async def test_a_contact_of_any_form_by_anyone_this_month_is_a_contact(
    db: Database, clock: FakeClock
) -> None:
    ts, _campaign = await _school(db, clock)
    await add_visit(db, ts, "李强", "杨帆", date(2026, 11, 20), VisitForm.PHONE)
    await add_visit(db, ts, "李强", "吴迪", date(2026, 10, 30), VisitForm.HOME)  # October
    assert await _run(db, ts, "2026-11-26 08:00") == 1
    assert set(_by_chat(ts, await outbox(db, kind=KIND))) == {"李强"}


async def test_nobody_is_reminded_when_every_left_behind_household_was_contacted(
    db: Database, clock: FakeClock
) -> None:
    ts, _campaign = await _school(db, clock)
    await add_visit(db, ts, "王芳", "杨帆", date(2026, 11, 24), VisitForm.LETTER)
    await add_visit(db, ts, "李强", "吴迪", date(2026, 11, 2), VisitForm.PHONE)
    assert await _run(db, ts, "2026-11-24 08:00") == 0
    assert await outbox(db, kind=KIND) == []


async def test_a_run_in_quiet_hours_waits_for_the_morning(db: Database, clock: FakeClock) -> None:
    ts, _campaign = await _school(db, clock)
    assert await _run(db, ts, "2026-11-24 22:30") == 2
    for row in await outbox(db, kind=KIND):
        assert row.due_at == local("2026-11-25 07:00")


async def test_each_month_of_a_longer_campaign_has_its_reminder(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    spec = check_campaign("冬季大走访", date(2026, 11, 1), date(2026, 12, 31))
    async with db.session() as session:
        campaign = await queries.create_campaign(session, ts.school.id or 0, spec, by=None, now=NOW)
        # 张小明's household (留守) is 王芳's.
        await queries.move_household(
            session,
            campaign,
            ts.students["张小明"].id or 0,
            ts.staff["王芳"].id or 0,
            by=None,
            now=NOW,
        )
    await bind(db, clock, ts.staff["王芳"])
    assert await _run(db, ts, "2026-11-24 08:00") == 1
    assert await _run(db, ts, "2026-12-24 08:00") == 0  # December's last week starts on the 25th
    assert await _run(db, ts, "2026-12-25 08:00") == 1
    rows = await outbox(db, kind=KIND)
    assert "本月（11月）还没有联系" in reply_of(rows[0]).text
    assert "本月（12月）还没有联系" in reply_of(rows[1]).text


async def test_a_campaign_without_the_monthly_rule_or_no_campaign_reminds_nobody(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["王芳"])
    assert await _run(db, ts, "2026-11-24 08:00") == 0
    spec = check_campaign(
        "秋季大走访", date(2026, 11, 1), date(2026, 11, 30), left_behind_monthly=False
    )
    async with db.session() as session:
        campaign = await queries.create_campaign(session, ts.school.id or 0, spec, by=None, now=NOW)
        await queries.move_household(
            session,
            campaign,
            ts.students["张小明"].id or 0,
            ts.staff["王芳"].id or 0,
            by=None,
            now=NOW,
        )
    assert await _run(db, ts, "2026-11-24 08:00") == 0
    assert await outbox(db, kind=KIND) == []
