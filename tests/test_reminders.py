"""The quota reminder jobs (scheduler/jobs/reminders.py), called with a fixed `now`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.school.rules import SchoolRules
from scheduler.base import JobContext, JobFunction
from scheduler.jobs.reminders import (
    BREAK_START_REMINDER,
    MONTH_END_REMINDER,
    WEEKLY_NUDGE,
    break_start_reminder,
    month_end_reminder,
    weekly_nudge,
)
from scheduler.registry import all_jobs
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.quota import (
    YEAR_2026,
    add_subject_teacher,
    add_terms,
    add_visits,
    move_student,
    record_heads_on,
)
from tests.helpers.statements import counting_selects

ZONE = ZoneInfo("Asia/Shanghai")
#: Monday 15 March 2027, a 31-day month in term.
MONDAY_15TH = date(2027, 3, 15)


def local(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


async def run(
    db: Database,
    ts: factories.TestSchool,
    job: JobFunction,
    now: datetime,
    rules: SchoolRules | None = None,
) -> int:
    async with db.session() as session:
        return await job(
            JobContext(
                session=session,
                now=now.astimezone(UTC),
                school=ts.school,
                zone=ZONE,
                rules=rules or SchoolRules(),
            )
        )


async def outbox_by_key(db: Database) -> list[OutboxMessage]:
    """Every outbox row, in the order of their keys (not the order written)."""
    async with db.session() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.key))
        return list((await session.exec(query)).all())


async def school_with_accounts(
    db: Database, clock: FakeClock, *names: str, english: tuple[str, ...] = ()
) -> factories.TestSchool:
    ts = await seed_school(db)
    if "周婷" in names:
        await add_subject_teacher(db, ts)
    for name in names:
        await bind(db, clock, ts.staff[name], language="en" if name in english else "zh")
    return ts


def staff_key(prefix: str, ts: factories.TestSchool, name: str) -> str:
    return f"{prefix}:staff:{ts.staff[name].id}:console"


#: Ten visits to eight families: 李强 is on target for visits and parent contacts.
ON_TARGET = ["李华", "周杰", "吴迪", "郑爽", "冯雪", "陈晨", "张小明", "李娜", "李华", "周杰"]


# -- the weekly nudge --------------------------------------------------------------------------


async def test_a_head_teacher_at_four_of_ten_on_the_fifteenth_is_nudged_and_one_at_ten_is_not(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳", "李强")
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "刘洋"], day=date(2027, 3, 8))
    await add_visits(db, ts, "李强", ON_TARGET, day=date(2027, 3, 8))
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 1
    [row] = await outbox_by_key(db)
    assert row.key == staff_key("weekly-nudge:2027-03-15", ts, "王芳")
    assert "本月上门家访 4/10（按进度此时应有 5 次）" in row.payload["text"]
    assert row.due_at == local(MONDAY_15TH)


async def test_the_weekly_nudge_run_twice_in_a_week_queues_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 1
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 0
    assert await run(db, ts, weekly_nudge, local(date(2027, 3, 17), 15)) == 0
    assert len(await outbox_by_key(db)) == 1


async def test_a_nudge_at_ten_at_night_waits_until_seven_in_the_morning(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH, 22)) == 1
    [row] = await outbox_by_key(db)
    assert row.due_at == local(date(2027, 3, 16), 7)


async def test_a_coach_behind_on_parent_contacts_is_nudged_about_them_only(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "钱进")
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 1
    [row] = await outbox_by_key(db)
    assert "本月联系家长 0/8 人次（按进度此时应有 4 人次）" in row.payload["text"]
    assert "本月家访" not in row.payload["text"]


async def test_staff_without_a_quota_and_teachers_on_pace_get_no_nudge(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "赵敏", "李强")
    await add_visits(db, ts, "李强", ON_TARGET, day=date(2027, 3, 8))
    assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 0
    assert await outbox_by_key(db) == []


async def test_nobody_is_nudged_during_a_break(db: Database, clock: FakeClock) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    await add_terms(db, ts, *YEAR_2026)
    assert await run(db, ts, weekly_nudge, local(date(2027, 1, 25))) == 0
    assert await run(db, ts, weekly_nudge, local(date(2027, 2, 1))) == 0


async def test_the_nudge_is_in_the_teachers_language(db: Database, clock: FakeClock) -> None:
    ts = await school_with_accounts(db, clock, "王芳", english=("王芳",))
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "刘洋"], day=date(2027, 3, 8))
    await run(db, ts, weekly_nudge, local(MONDAY_15TH))
    [row] = await outbox_by_key(db)
    assert "4/10" in row.payload["text"]
    assert "本月" not in row.payload["text"]


# -- the month-end reminder --------------------------------------------------------------------


async def test_three_days_before_the_month_ends_those_still_short_are_reminded(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳", "李强")
    pupils = ["张小明", "李娜", "王磊", "刘洋", "陈静", "杨帆", "李华"]
    await add_visits(db, ts, "王芳", pupils, day=date(2026, 11, 20))
    await add_visits(db, ts, "李强", ON_TARGET, day=date(2026, 11, 20))
    assert await run(db, ts, month_end_reminder, local(date(2026, 11, 26))) == 0
    assert await run(db, ts, month_end_reminder, local(date(2026, 11, 27))) == 1
    assert await run(db, ts, month_end_reminder, local(date(2026, 11, 27), 9)) == 0
    [row] = await outbox_by_key(db)
    assert row.key == staff_key("month-end:2026-11", ts, "王芳")
    text = row.payload["text"]
    assert "本月还有 4 天" in text
    assert "本月上门家访 7/10，还差 3 次" in text
    assert "本月联系家长 7/8 人次，还差 1 人次" in text


async def test_no_month_end_reminder_when_the_months_term_days_are_over(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    await add_terms(db, ts, *YEAR_2026)
    assert await run(db, ts, month_end_reminder, local(date(2027, 1, 28))) == 0


async def test_the_month_end_reminder_follows_the_schools_number_of_days(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    rules = SchoolRules(month_end_days_before=5)
    assert await run(db, ts, month_end_reminder, local(date(2026, 11, 25)), rules) == 1


# -- the start of a break ----------------------------------------------------------------------


async def test_on_the_first_day_of_winter_a_head_teacher_gets_the_quota_and_must_visit_list(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳", "周婷", "钱进")
    await add_terms(db, ts, *YEAR_2026)
    first_day = date(2027, 1, 23)
    assert await run(db, ts, break_start_reminder, local(date(2027, 1, 22))) == 0
    assert await run(db, ts, break_start_reminder, local(first_day)) == 2
    assert await run(db, ts, break_start_reminder, local(first_day, 12)) == 0
    rows = {row.key: row.payload["text"] for row in await outbox_by_key(db)}
    head = rows[staff_key("break-start:2027-01-23", ts, "王芳")]
    assert "寒假家访指标：至少 6 次。" in head
    assert "必访名单（特殊类型学生，寒假期间每人至少家访一次，共 2 人）：张小明、王磊" in head
    subject = rows[staff_key("break-start:2027-01-23", ts, "周婷")]
    assert "寒假家访指标：至少 4 次。" in subject
    assert "必访" not in subject
    assert staff_key("break-start:2027-01-23", ts, "钱进") not in rows


async def test_on_the_first_day_of_summer_only_teachers_with_something_to_do_hear_of_it(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳", "李强", "周婷")
    await add_terms(db, ts, *YEAR_2026)
    # Next year's roster, imported on 1 July, moves 李华 from 李强's class to 王芳's.
    await record_heads_on(db, ts, date(2026, 9, 1))
    await move_student(db, ts, "李华", "三(2)班")
    await record_heads_on(db, ts, date(2027, 7, 1))
    assert await run(db, ts, break_start_reminder, local(date(2027, 7, 4))) == 2
    rows = {row.key: row.payload["text"] for row in await outbox_by_key(db)}
    head = rows[staff_key("break-start:2027-07-04", ts, "王芳")]
    assert "新接手的学生暑假期间每人至少家访一次，共 1 人：李华" in head
    assert "暑假家访指标：至少 6 次。" in rows[staff_key("break-start:2027-07-04", ts, "周婷")]
    assert staff_key("break-start:2027-07-04", ts, "李强") not in rows


# -- the registry and the number of queries ----------------------------------------------------


def test_the_reminders_are_scheduled_in_the_schools_rules() -> None:
    names = {job.name for job in all_jobs()}
    assert {"weekly_nudge", "month_end_reminder", "break_start_reminder"} <= names
    rules = SchoolRules()
    assert WEEKLY_NUDGE.schedule(rules) == {"day_of_week": "mon", "hour": 8, "minute": 0}
    assert MONTH_END_REMINDER.schedule(rules) == {"hour": 8, "minute": 0}
    assert BREAK_START_REMINDER.schedule(
        SchoolRules.model_validate({"break_start_time": "09:30"})
    ) == {
        "hour": 9,
        "minute": 30,
    }


async def test_the_weekly_nudge_reads_a_fixed_number_of_queries_however_many_are_behind(
    db: Database, clock: FakeClock
) -> None:
    ts = await school_with_accounts(db, clock, "王芳")
    with counting_selects(db) as one:
        assert await run(db, ts, weekly_nudge, local(MONDAY_15TH)) == 1
    for name in ("李强", "孙丽", "钱进"):
        await bind(db, clock, ts.staff[name])
    with counting_selects(db) as four:
        assert await run(db, ts, weekly_nudge, local(date(2027, 3, 22))) == 4
    # The calendar, the staff with their roles, the month's visits per teacher, the accounts.
    assert len(one) == len(four) == 4
