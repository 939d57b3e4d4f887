"""The duty jobs with a fixed clock: the sick-absence check, reminders and overdue alerts.

The test school has no terms entered, so every weekday is a school day; 14–15 November 2026 is a
weekend. 赵敏 is 德育处.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.absences.tables import Absence, AbsenceKind
from models.db.engine import Database
from models.duties.queries import fulfil_duties, overdue_duties
from models.duties.tables import DutyTrigger
from models.school.rules import SchoolRules
from models.visits.queries import save_visit
from models.visits.tables import VisitCategory, VisitCreate, VisitForm
from scheduler.jobs.duties import (
    DUTY_OVERDUE_ALERTS,
    DUTY_REMINDERS,
    SICK_ABSENCE_CHECK,
    duty_overdue_alerts,
    duty_reminders,
    reminder_number,
    sick_absence_check,
)
from scheduler.registry import all_jobs
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.duties import ZONE, duties, local, open_duty, run_at
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox
from tests.helpers.statements import counting_selects


async def sick_absence(
    db: Database, ts: factories.TestSchool, name: str, since: date, back_on: date | None = None
) -> Absence:
    async with db.session() as session:
        absence = Absence(
            school_id=ts.school.id or 0,
            student_id=ts.students[name].id or 0,
            kind=AbsenceKind.SICK,
            since=since,
            back_on=back_on,
            reported_by=ts.staff["王芳"].id or 0,
        )
        session.add(absence)
        await session.flush()
        return absence


async def home_visit(
    db: Database, ts: factories.TestSchool, teacher: str, student: str, day: date, at: datetime
) -> None:
    async with db.session() as session:
        visit = await save_visit(
            session=session,
            visit=VisitCreate(
                visit_date=day,
                form=VisitForm.HOME,
                category=VisitCategory.IMMEDIATE,
                student_id=ts.students[student].id or 0,
            ),
            school_id=ts.school.id or 0,
            teacher_id=ts.staff[teacher].id or 0,
            channel="console",
            now=at,
        )
        await fulfil_duties(session=session, visit=visit, zone=ZONE, now=at)


# -- the sick-absence check --------------------------------------------------------------------


async def test_a_sick_absence_opens_exactly_one_duty_on_its_second_school_day(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["王芳"])
    await sick_absence(db, ts, "张小明", since=date(2026, 11, 13))  # Friday
    # Friday: one day; the weekend adds none.
    for day in ("2026-11-13", "2026-11-14", "2026-11-15"):
        assert await run_at(db, ts.school, sick_absence_check, local(f"{day} 06:30")) == 0
    assert await duties(db) == []
    # Monday: Friday and Monday → two school days, 两天以上 (以上 includes the second day).
    # Then more runs change nothing.
    assert await run_at(db, ts.school, sick_absence_check, local("2026-11-16 06:30")) == 1
    for moment in ("2026-11-16 06:30", "2026-11-16 12:00", "2026-11-17 06:30"):
        assert await run_at(db, ts.school, sick_absence_check, local(moment)) == 0
    [duty] = await duties(db)
    assert (duty.teacher_id, duty.student_id, duty.trigger) == (
        ts.staff["王芳"].id,
        ts.students["张小明"].id,
        DutyTrigger.SICK_ABSENCE,
    )
    assert duty.due_at == local("2026-11-17 06:30")
    [notice] = await outbox(db, kind="duty_new")
    # Found at 06:30, in quiet hours: the teacher is told at 07:00.
    assert notice.due_at == local("2026-11-16 07:00")
    assert "三(2)班 张小明：因病缺课两天以上" in notice.payload["text"]
    assert notice.key == f"duty-new:{duty.id}:staff:{ts.staff['王芳'].id}:console"


async def test_the_sick_check_leaves_children_who_are_back_alone(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await sick_absence(db, ts, "李娜", since=date(2026, 11, 9), back_on=date(2026, 11, 12))
    await sick_absence(db, ts, "王磊", since=date(2026, 11, 16))  # today: one day so far
    assert await run_at(db, ts.school, sick_absence_check, local("2026-11-16 06:30")) == 0
    assert await duties(db) == []


async def test_the_threshold_is_the_schools_rule(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await sick_absence(db, ts, "王磊", since=date(2026, 11, 13))  # Friday and Monday: two days
    rules = SchoolRules(sick_absence_school_days=3)
    await run_at(db, ts.school, sick_absence_check, local("2026-11-16 06:30"), rules)
    assert await duties(db) == []
    await run_at(db, ts.school, sick_absence_check, local("2026-11-16 06:30"))
    assert len(await duties(db)) == 1


# -- reminders ---------------------------------------------------------------------------------


async def test_reminders_come_every_four_hours_in_waking_hours_only(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["孙丽"])
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 10:00"), source_key="absence:1")
    moment = local("2026-11-16 10:00")
    while moment <= local("2026-11-17 12:00"):
        await run_at(db, ts.school, duty_reminders, moment)
        moment += timedelta(hours=1)
    sent = await outbox(db, kind="duty_reminder")
    # 14:00 and 18:00; 22:00, 02:00 and 06:00 fall in quiet hours → one at 07:00; due at 10:00.
    assert [m.due_at for m in sent] == [
        local("2026-11-16 14:00"),
        local("2026-11-16 18:00"),
        local("2026-11-17 07:00"),
    ]
    assert [m.key.split(":")[2] for m in sent] == ["1", "2", "5"]
    assert (
        (sent[0].payload["text"])
        == "【提醒】立即家访尚未完成：四(1)班 赵刚（无故缺席旷课），请于 11月17日 10:00 前上门家访。"
    )


async def test_a_done_duty_is_no_longer_reminded(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["孙丽"])
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 10:00"), source_key="absence:1")
    await home_visit(db, ts, "孙丽", "赵刚", date(2026, 11, 16), local("2026-11-16 13:00"))
    assert await run_at(db, ts.school, duty_reminders, local("2026-11-16 14:00")) == 0


def test_the_reminder_number_counts_whole_intervals_since_the_trigger() -> None:
    rules = SchoolRules(duty_reminder_hours=4)
    assert [reminder_number(timedelta(hours=h), rules) for h in (0, 3.9, 4, 7, 8, 21)] == [
        0,
        0,
        1,
        1,
        2,
        5,
    ]
    assert reminder_number(timedelta(hours=30), SchoolRules(duty_reminder_hours=0)) == 0


# -- overdue alerts ------------------------------------------------------------------------------


async def test_a_duty_overdue_for_two_days_alerts_moral_education_twice(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 10:00"), source_key="absence:1")
    # Due Tuesday 10:00: nothing at Tuesday 08:00; Wednesday and Thursday once each.
    for moment in ("2026-11-17 08:00", "2026-11-18 08:00", "2026-11-18 09:30", "2026-11-19 08:00"):
        await run_at(db, ts.school, duty_overdue_alerts, local(moment))
    await home_visit(db, ts, "孙丽", "赵刚", date(2026, 11, 19), local("2026-11-19 15:00"))
    assert await run_at(db, ts.school, duty_overdue_alerts, local("2026-11-20 08:00")) == 0
    alerts = await outbox(db, kind="duty_overdue")
    assert [a.key for a in alerts] == [
        f"duty-overdue:2026-11-18:staff:{ts.staff['赵敏'].id}:console",
        f"duty-overdue:2026-11-19:staff:{ts.staff['赵敏'].id}:console",
    ]
    assert alerts[0].payload["text"] == (
        "【立即家访逾期】以下 1 项立即家访已过期限，尚未完成：\n"
        "1. 孙丽老师：四(1)班 赵刚（无故缺席旷课），11月17日 10:00 到期"
    )


async def test_overdue_duties_reach_each_admin_as_one_message_listing_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-14 10:00"), source_key="absence:1")
    await open_duty(db, ts, "王芳", "张小明", local("2026-11-15 09:00"), source_key="absence:2")
    await run_at(db, ts.school, duty_overdue_alerts, local("2026-11-18 08:00"))
    [alert] = await outbox(db, kind="duty_overdue")
    assert alert.payload["text"].splitlines() == [
        "【立即家访逾期】以下 2 项立即家访已过期限，尚未完成：",
        "1. 孙丽老师：四(1)班 赵刚（无故缺席旷课），11月15日 10:00 到期",
        "2. 王芳老师：三(2)班 张小明（无故缺席旷课），11月16日 09:00 到期",
    ]


async def test_overdue_duties_lists_what_the_digest_needs(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-14 10:00"), source_key="absence:1")
    await open_duty(db, ts, "王芳", "张小明", local("2026-11-15 09:00"), source_key="absence:2")
    await open_duty(
        db, ts, "李强", "李华", local("2026-11-16 09:00"), source_key="absence:3"
    )  # not yet due
    async with db.session() as session:
        rows = await overdue_duties(
            session=session, school_id=ts.school.id or 0, now=local("2026-11-16 10:00")
        )
    assert [(r.teacher.name, r.student_label) for r in rows] == [
        ("孙丽", "四(1)班 赵刚"),
        ("王芳", "三(2)班 张小明"),
    ]


# -- a fixed number of queries -------------------------------------------------------------------


async def test_each_job_reads_a_fixed_number_of_queries_however_many_duties(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    for name in ("王芳", "李强", "孙丽", "赵敏"):
        await bind(db, clock, ts.staff[name])
    await sick_absence(db, ts, "张小明", since=date(2026, 11, 12))
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-13 10:00"), source_key="absence:a")
    reads: dict[str, list[int]] = {"sick": [], "remind": [], "overdue": []}
    for round_ in range(2):
        if round_:
            for name in ("李娜", "王磊", "刘洋"):
                await sick_absence(db, ts, name, since=date(2026, 11, 12))
            for student, teacher in (("李华", "李强"), ("周杰", "李强"), ("孙悦", "孙丽")):
                await open_duty(
                    db, ts, teacher, student, local("2026-11-13 10:00"), source_key=student
                )
                await open_duty(
                    db, ts, teacher, student, local("2026-11-16 09:00"), source_key=f"{student}+"
                )
        day = f"2026-11-{16 + round_}"
        with counting_selects(db) as sick:
            assert await run_at(db, ts.school, sick_absence_check, local(f"{day} 06:30")) > 0
        with counting_selects(db) as remind:
            await run_at(db, ts.school, duty_reminders, local(f"{day} 13:00"))
        with counting_selects(db) as overdue:
            assert await run_at(db, ts.school, duty_overdue_alerts, local(f"{day} 08:00")) > 0
        reads["sick"].append(len(sick))
        reads["remind"].append(len(remind))
        reads["overdue"].append(len(overdue))
    assert all(first == second for first, second in reads.values()), reads


def test_the_three_jobs_are_registered_with_their_schedules() -> None:
    jobs = {job.name: job for job in all_jobs()}
    rules = SchoolRules()
    assert jobs["sick_absence_check"] is SICK_ABSENCE_CHECK
    assert SICK_ABSENCE_CHECK.schedule(rules) == {"hour": 6, "minute": 30}
    assert jobs["duty_reminders"] is DUTY_REMINDERS
    assert DUTY_REMINDERS.schedule(rules) == {"minute": 0}
    assert jobs["duty_overdue_alerts"] is DUTY_OVERDUE_ALERTS
    assert DUTY_OVERDUE_ALERTS.schedule(
        SchoolRules.model_validate({"duty_overdue_alert_time": "09:15"})
    ) == {"hour": 9, "minute": 15}
