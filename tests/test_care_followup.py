"""The care room's follow-up jobs (continuity): a worker is reminded once a day of the cases
whose next contact is due by the plan, in waking hours; a severe case with no contact for two
school days is told to the principal, once for that silence. The messages name the case and the
student, never its content."""

from __future__ import annotations

from datetime import UTC

from handlers.care import buttons as b
from models.db.engine import Database
from models.school.rules import DEFAULT_RULES
from scheduler.jobs.care import CARE_REMINDERS, CARE_SEVERE_ALERTS
from scheduler.registry import all_jobs
from tests.helpers.care import NOTICED, add_care_staff, cases, refer
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, run_at
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher, person


async def _planned_case(
    db: Database, school: TestSchool, clock: FakeClock, severity: str = "中"
) -> tuple[ChatUser, int]:
    """A case referred, taken, assessed and planned (every 7 days) on Monday 16 November."""
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, care.principal)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher)
    worker = await person(db, clock, dispatcher, care.worker)
    [case] = await cases(db)
    await worker.send(f"/cases {case.id}")
    await worker.steps("接手", "评估", "家庭", severity, "帮扶计划", ">每周谈心", "跳过")
    await worker.steps("跳过", ">周心", "每7天")
    assert "已保存帮扶计划。" in worker.text
    return worker, case.id or 0


async def test_the_worker_is_reminded_once_a_day_when_the_plans_contact_is_due(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    worker, case_id = await _planned_case(db, school, clock)
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-22 08:00")) == 0
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-23 08:00")) == 1
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-23 08:00")) == 0
    [reminder] = await outbox(db, kind="care_reminder")
    assert reminder.chat_id == worker.user_id and reminder.due_at == local("2026-11-23 08:00")
    message = reply_of(reminder)
    assert f"个案 #{case_id}（三(2)班 张小明）：11月23日应联系" in message.text
    assert NOTICED[:6] not in message.text and "每周谈心" not in message.text
    assert message.choices() == [f"!{b.OPEN}:{case_id}"]
    await worker.callback(message.choices()[0])
    assert "记录辅导" in worker.labels
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-24 08:00")) == 1
    clock.now = local("2026-11-24 10:00").astimezone(UTC)
    await worker.send(f"/cases {case_id}")
    await worker.steps("记录辅导", "就是现在", ">电话", ">情绪", ">聊天", ">好转")
    assert "12月1日应联系" in worker.text
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-25 08:00")) == 0
    assert await run_at(db, school.school, CARE_REMINDERS.func, local("2026-12-01 08:00")) == 1


async def test_a_reminder_in_quiet_hours_waits_for_the_morning(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _planned_case(db, school, clock)
    await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-23 05:30"))
    [reminder] = await outbox(db, kind="care_reminder")
    assert reminder.due_at == local("2026-11-23 07:00")


async def test_a_severe_case_silent_for_two_school_days_is_told_to_the_principal_once(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    worker, case_id = await _planned_case(db, school, clock, severity="重")
    run = CARE_SEVERE_ALERTS.func
    assert await run_at(db, school.school, run, local("2026-11-18 08:00")) == 0
    assert await run_at(db, school.school, run, local("2026-11-19 08:00")) == 1
    assert await run_at(db, school.school, run, local("2026-11-19 08:00")) == 0
    assert await run_at(db, school.school, run, local("2026-11-20 08:00")) == 0
    [alert] = await outbox(db, kind="care_severe")
    principal = school.staff["高远"]
    assert alert.chat_id == f"staff-{principal.id}"
    text = reply_of(alert).text
    assert f"重度个案 #{case_id}（三(2)班 张小明）受理后已超过2个上学日没有辅导记录" in text
    assert "跟进人：周心" in text and "每周谈心" not in text
    clock.now = local("2026-11-20 15:00").astimezone(UTC)
    await worker.send(f"/cases {case_id}")
    await worker.steps("记录辅导", "就是现在", ">关爱室", ">情绪", ">谈心", ">平稳")
    # Friday's contact: Monday and Tuesday are the two school days after it.
    assert await run_at(db, school.school, run, local("2026-11-24 08:00")) == 0
    assert await run_at(db, school.school, run, local("2026-11-25 08:00")) == 1
    second = (await outbox(db, kind="care_severe"))[-1]
    assert "已超过2个上学日没有辅导记录" in reply_of(second).text


async def test_a_mild_case_is_not_told_to_the_principal(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _planned_case(db, school, clock, severity="轻")
    assert await run_at(db, school.school, CARE_SEVERE_ALERTS.func, local("2026-11-26 08:00")) == 0


async def test_the_jobs_are_scheduled_daily_at_the_care_reminder_time() -> None:
    jobs = {job.name: job for job in all_jobs()}
    rules = DEFAULT_RULES.model_copy(update={"care_reminder_time": DEFAULT_RULES.digest_time})
    for name in ("care_reminders", "care_severe_alerts"):
        assert jobs[name].schedule(DEFAULT_RULES) == {"hour": 8, "minute": 0}
        moment = rules.digest_time
        assert jobs[name].schedule(rules) == {"hour": moment.hour, "minute": moment.minute}
