"""Immediate-visit duty jobs: the sick-absence check, reminders to teachers, overdue alerts.

Each is a plain function of a `JobContext`: it reads with a fixed number of queries (whatever the
number of duties) and queues outbox rows with deterministic keys, so running a slot twice, or
every hour, sends each message once. Nothing here is an urgent incident: messages wait for the end
of quiet hours.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from handlers.duty_notices import (
    Message,
    open_and_announce,
    overdue_text,
    reminder_text,
    send_to_staff,
)
from models.absences.queries import absence_source, sick_absences_past_threshold
from models.duties.queries import DutySpec, overdue_duties, pending_duty_rows
from models.duties.tables import TRIGGER_LABELS, Duty, DutyTrigger
from models.ledger.queries import NewItem, record_items
from models.ledger.tables import LedgerSource
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.rules import SchoolRules, in_quiet_hours
from scheduler.base import Job, JobContext, daily_at


async def sick_absence_check(jc: JobContext) -> int:
    """Open a duty for the head teacher of every running sick absence past the threshold.

    Once per absence and teacher, however often it runs (the duty's unique source key).
    """
    school_id = jc.school.id or 0
    candidates = await sick_absences_past_threshold(
        session=jc.session, school_id=school_id, today=jc.today, rules=jc.rules
    )
    specs = [
        DutySpec(
            school_id=school_id,
            student_id=c.student.id or 0,
            teacher_id=c.head_teacher_id,
            trigger=DutyTrigger.SICK_ABSENCE,
            source_key=absence_source(c.absence.id or 0),
            triggered_at=jc.now,
        )
        for c in candidates
    ]
    opened = await open_and_announce(
        session=jc.session,
        school_id=school_id,
        specs=specs,
        now=jc.now,
        zone=jc.zone,
        rules=jc.rules,
    )
    return opened.sent.queued


def reminder_number(elapsed: timedelta, rules: SchoolRules) -> int:
    """How many reminder intervals have passed since the trigger (0: none due yet)."""
    if rules.duty_reminder_hours <= 0 or elapsed <= timedelta(0):
        return 0
    return int(elapsed // timedelta(hours=rules.duty_reminder_hours))


async def duty_reminders(jc: JobContext) -> int:
    """Remind each teacher of an open, not yet overdue duty every `duty_reminder_hours`.

    Runs hourly. In quiet hours it sends nothing; the first waking run then sends the latest
    reminder that fell due (key `duty-reminder:{duty}:{n}`), once.
    """
    if in_quiet_hours(jc.now, zone=jc.zone, rules=jc.rules):
        return 0
    rows = await pending_duty_rows(session=jc.session, school_id=jc.school.id or 0, now=jc.now)
    messages = []
    for row in rows:
        number = reminder_number(jc.now - row.duty.triggered_at, jc.rules)
        if number >= 1:
            messages.append(
                Message(
                    staff_id=row.duty.teacher_id,
                    key=f"duty-reminder:{row.duty.id}:{number}",
                    render=partial(reminder_text, row=row, zone=jc.zone),
                )
            )
    sent = await send_to_staff(
        session=jc.session,
        school_id=jc.school.id or 0,
        messages=messages,
        kind="duty_reminder",
        due_at=jc.now,
    )
    return sent.queued


def overdue_item(duty: Duty) -> NewItem:
    """An overdue duty as a problem in the ledger: its reason, or else why it was due."""
    return NewItem(
        school_id=duty.school_id,
        source=LedgerSource.DUTY_OVERDUE,
        source_id=duty.id,
        student_id=duty.student_id,
        description=duty.reason or TRIGGER_LABELS[duty.trigger],
    )


async def duty_overdue_alerts(jc: JobContext) -> int:
    """Alert every 德育处 admin about the duties past due and not done: one message a day
    listing them all (key `duty-overdue:{date}`). Each such duty is also an item in the problem
    ledger, once however often this runs."""
    school_id = jc.school.id or 0
    rows = await overdue_duties(session=jc.session, school_id=school_id, now=jc.now)
    if not rows:
        return 0
    await record_items(jc.session, [overdue_item(row.duty) for row in rows], now=jc.now)
    admins = await staff_with_role(session=jc.session, school_id=school_id, role=StaffRole.ADMIN)
    day = jc.today.isoformat()
    messages = [
        Message(
            staff_id=admin.id or 0,
            key=f"duty-overdue:{day}",
            render=partial(overdue_text, rows=rows, zone=jc.zone),
        )
        for admin in admins
    ]
    sent = await send_to_staff(
        session=jc.session,
        school_id=school_id,
        messages=messages,
        kind="duty_overdue",
        due_at=jc.waking,
    )
    return sent.queued


def _hourly(rules: SchoolRules) -> dict[str, Any]:
    return {"minute": 0}


SICK_ABSENCE_CHECK = Job(
    name="sick_absence_check",
    func=sick_absence_check,
    schedule=daily_at(lambda rules: rules.sick_check_time),
    describe="病假满规定上学日数的学生：生成立即家访任务",
)
DUTY_REMINDERS = Job(
    name="duty_reminders",
    func=duty_reminders,
    schedule=_hourly,
    describe="每隔几小时提醒教师未完成的立即家访（静默时段除外）",
)
DUTY_OVERDUE_ALERTS = Job(
    name="duty_overdue_alerts",
    func=duty_overdue_alerts,
    schedule=daily_at(lambda rules: rules.duty_overdue_alert_time),
    describe="立即家访逾期：每天向德育处报告一次",
)
