"""The care room's follow-up (continuity, seed 002), daily at `rules.care_reminder_time`
(08:00 by default):

* `care_reminders`: each care worker is reminded, once a day, of the open cases they follow
  whose next contact is due — the plan's interval since the last contact, or since the plan
  when there was none (`models.care.rules.contact_due_on`). One message per worker, listing
  the cases (class and name: the worker may read them), each with a button that opens it; key
  `care-reminder:{date}:{worker}`.
* `care_severe_alerts`: a severe (重) open case with no contact for
  `rules.care_severe_school_days` school days (the stored calendar; since its last contact, or
  since it was opened) is told to the principal, once for that silence; key
  `care-severe:{case}:{moment of the last contact or the opening}` — a later contact and a new
  silence tell again.

Messages name the case and the student only, never its content; they wait for the end of
quiet hours. Two statements each (the severe alert two more for the calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from functools import partial

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import col

from handlers.care.buttons import open_button
from handlers.care.render import day_label
from handlers.i18n import Translator
from handlers.notify import Render, notify_keyed, notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.care.rules import contact_due_on
from models.care.tables import CareCase, CaseSeverity, CaseStatus
from models.care.views import planned_at, principal_ids
from models.digest.ledger import late_cutoff
from models.roster.tables import Staff, Student
from models.school.calendar_store import stored_calendar
from models.school.tables import SchoolClass
from scheduler.base import Job, JobContext, daily_at

REMINDER_KIND = "care_reminder"
SEVERE_KIND = "care_severe"
#: Cases listed in one reminder (the rest: /cases lists them all).
CASES_PER_MESSAGE = 10


@dataclass(frozen=True)
class DueCase:
    case_id: int
    worker_id: int
    class_name: str
    student_name: str
    due_on: date


async def cases_due(jc: JobContext, today: date) -> list[DueCase]:
    """The open, planned cases with a worker whose next contact is due by `today`."""
    query = (
        sa_select(CareCase, col(Student.name), col(SchoolClass.name), planned_at())
        .join(Student, col(Student.id) == col(CareCase.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(CareCase.school_id) == jc.school.id,
            col(CareCase.status) != CaseStatus.CLOSED.value,
            col(CareCase.worker_id).is_not(None),
            col(CareCase.plan_every_days).is_not(None),
        )
        .order_by(col(CareCase.id))
    )
    result = await jc.session.exec(query)  # type: ignore[call-overload]
    found = []
    for case, student, klass, planned in result.all():
        last = case.last_contact_at
        due = contact_due_on(
            last_contact=last.astimezone(jc.zone).date() if last is not None else None,
            planned=planned.astimezone(jc.zone).date() if planned is not None else None,
            every_days=case.plan_every_days,
        )
        if due is not None and due <= today:
            found.append(DueCase(case.id, case.worker_id, str(klass or ""), str(student), due))
    return sorted(found, key=lambda d: (d.due_on, d.case_id))


def reminder_reply(t: Translator, cases: Sequence[DueCase], more: int) -> Reply:
    _ = t._
    lines = [_("【关爱室提醒】以下个案到了该联系学生的时候：")]
    for due in cases:
        lines.append(
            _("· 个案 #{id}（{klass} {student}）：{day}应联系").format(
                id=due.case_id,
                klass=due.class_name,
                student=due.student_name,
                day=day_label(t, due.due_on),
            )
        )
    if more > 0:
        lines.append(_("……另有 {n} 个，发送 /cases 查看全部。").format(n=more))
    lines.append(_("联系后请在个案中“记录辅导”。"))
    buttons = [[open_button(_("个案 #{id}").format(id=due.case_id), due.case_id)] for due in cases]
    return Reply.with_buttons("\n".join(lines), buttons)


async def care_reminders(jc: JobContext) -> int:
    """Queue each worker's reminder for today; returns the rows queued."""
    today = jc.slot_day
    due = await cases_due(jc, today)
    by_worker: dict[int, list[DueCase]] = {}
    for case in due:
        by_worker.setdefault(case.worker_id, []).append(case)
    messages: list[tuple[tuple[PersonKind, int], str, Render]] = []
    for worker, cases in by_worker.items():
        shown = cases[:CASES_PER_MESSAGE]
        render = partial(reminder_reply, cases=shown, more=len(cases) - len(shown))
        key = f"care-reminder:{today.isoformat()}:{worker}"
        messages.append(((PersonKind.STAFF, worker), key, render))
    notified = await notify_keyed(
        session=jc.session,
        school_id=jc.school.id or 0,
        items=messages,
        kind=REMINDER_KIND,
        due_at=jc.waking,
    )
    return notified.queued


async def care_severe_alerts(jc: JobContext) -> int:
    """Tell the principal of each severe open case silent for the rule's school days."""
    school_id = jc.school.id or 0
    today = jc.slot_day
    calendar = (await stored_calendar(session=jc.session, school_id=school_id)).rules
    days = jc.rules.care_severe_school_days
    cutoff = late_cutoff(today, days, calendar, jc.zone)
    last = col(CareCase.last_contact_at)
    query = (
        sa_select(CareCase, col(Student.name), col(SchoolClass.name), col(Staff.name))
        .join(Student, col(Student.id) == col(CareCase.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .outerjoin(Staff, col(Staff.id) == col(CareCase.worker_id))
        .where(
            col(CareCase.school_id) == school_id,
            col(CareCase.status) != CaseStatus.CLOSED.value,
            col(CareCase.severity) == CaseSeverity.SEVERE.value,
            or_(last < cutoff, and_(last.is_(None), col(CareCase.opened_at) < cutoff)),
        )
        .order_by(col(CareCase.id))
    )
    rows = (await jc.session.exec(query)).all()  # type: ignore[call-overload]
    if not rows:
        return 0
    principals = [
        (PersonKind.STAFF, i) for i in await principal_ids(jc.session, school_id=school_id)
    ]
    due_at = jc.waking
    queued = 0
    for case, student, klass, worker in rows:
        since = (case.last_contact_at or case.opened_at).astimezone(UTC)

        def render(
            t: Translator,
            case_id: int = case.id,
            who: str = f"{klass or ''} {student}".strip(),
            worker: str = str(worker or ""),
            contacted: bool = case.last_contact_at is not None,
        ) -> Reply:
            text = (
                t._(
                    "【关爱室】重度个案 #{id}（{who}）已超过{days}个上学日没有辅导记录，跟进人：{worker}。"
                )
                if contacted
                else t._(
                    "【关爱室】重度个案 #{id}（{who}）受理后已超过{days}个上学日没有辅导记录，跟进人：{worker}。"
                )
            ).format(id=case_id, who=who, days=days, worker=worker or t._("（待接手）"))
            return Reply.with_buttons(text, [[open_button(t._("查看个案"), case_id)]])

        notified = await notify_people(
            session=jc.session,
            school_id=school_id,
            people=principals,
            key=f"care-severe:{case.id}:{since:%Y%m%dT%H%M}",
            kind=SEVERE_KIND,
            render=render,
            due_at=due_at,
        )
        queued += notified.queued
    return queued


CARE_REMINDERS = Job(
    name="care_reminders",
    func=care_reminders,
    schedule=daily_at(lambda rules: rules.care_reminder_time),
    describe="关爱室：提醒跟进人联系到期的个案（按帮扶计划的间隔）",
)

CARE_SEVERE_ALERTS = Job(
    name="care_severe_alerts",
    func=care_severe_alerts,
    schedule=daily_at(lambda rules: rules.care_reminder_time),
    describe="关爱室：重度个案超过规定上学日没有辅导记录时告知校长",
)
