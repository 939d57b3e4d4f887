"""Quota reminders: the weekly nudge, the month-end reminder and the break-start message.

Each is a plain function of a `JobContext`. It reads the whole school's standing in a fixed
number of queries (`models.quota.standing`; the weekly nudge only each teacher's month,
`school_months`), picks only the teachers who need the message, and
queues one outbox row per bound account with a key per (job, period, teacher), so a slot run
twice, or a job run again by hand in the same period, sends nothing twice. Messages wait for the
end of quiet hours.

Keys: `weekly-nudge:{monday}`, `month-end:{yyyy-mm}`, `break-start:{first day}`, each followed by
`:staff:{id}:{channel}`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from handlers.i18n import Translator
from handlers.notify import Render, notify_each
from handlers.quota import BREAK_NAMES, name_list, tagged_shown, visits_name
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.audit.tables import TAGS_READ, audit_all, student_entries
from models.quota.rules import BREAK_KINDS, month_end_reminder_day
from models.quota.standing import BreakStanding, MonthStanding, school_months, school_standing
from models.school.rules import SchoolRules
from models.school.tables import Term, TermKind
from scheduler.base import Job, JobContext, daily_at

#: Names listed in a break-start message before "等 N 人" (the list should be complete).
NAMES_SHOWN = 60


# -- the words ----------------------------------------------------------------------------------


def nudge_text(t: Translator, month: MonthStanding) -> str:
    lines = [t._("【家访进度提醒】本月进度偏慢：")]
    if month.visits is not None:
        visits = t._("本月{visits} {done}/{target}").format(
            visits=visits_name(t, month.routine_forms),
            done=month.visits.done,
            target=month.visits.target,
        )
        if month.visits_behind:
            visits += t._("（按进度此时应有 {expected} 次）").format(expected=month.visits_expected)
        lines.append(visits)
    contacts = t._("本月联系家长 {done}/{target} 人次").format(
        done=month.contacts.done, target=month.contacts.target
    )
    if month.contacts_behind:
        contacts += t._("（按进度此时应有 {expected} 人次）").format(
            expected=month.contacts_expected
        )
    lines.append(contacts)
    lines.append(
        t._("本月还有 {days} 天。发送 /visit 记录家访，发送 /quota 查看详情。").format(
            days=month.remaining_days
        )
    )
    return "\n".join(lines)


def month_end_text(t: Translator, month: MonthStanding) -> str:
    lines = [
        t._("【月底家访提醒】本月还有 {days} 天，指标尚未完成：").format(days=month.remaining_days)
    ]
    if month.visits is not None and not month.visits.met:
        lines.append(
            t._("本月{visits} {done}/{target}，还差 {short} 次").format(
                visits=visits_name(t, month.routine_forms),
                done=month.visits.done,
                target=month.visits.target,
                short=month.visits.short,
            )
        )
    if not month.contacts.met:
        lines.append(
            t._("本月联系家长 {done}/{target} 人次，还差 {short} 人次").format(
                done=month.contacts.done, target=month.contacts.target, short=month.contacts.short
            )
        )
    lines.append(t._("发送 /visit 记录家访，发送 /quota 查看详情。"))
    return "\n".join(lines)


def break_start_text(t: Translator, standing: BreakStanding, *, with_class: bool) -> str:
    lines = [
        t._("【{season}家访】{season}从 {first} 开始，到 {last} 结束。").format(
            season=t._(BREAK_NAMES[standing.kind]),
            first=standing.first.isoformat(),
            last=standing.last.isoformat(),
        )
    ]
    if standing.visits is not None:
        lines.append(
            t._("{season}家访指标：至少 {target} 次。").format(
                season=t._(BREAK_NAMES[standing.kind]), target=standing.visits.target
            )
        )
    if standing.pending:
        count = len(standing.pending)
        names = name_list(t, standing.pending, with_class=with_class, limit=NAMES_SHOWN)
        if standing.kind == TermKind.WINTER_BREAK:
            line = t._("必访名单（特殊类型学生，寒假期间每人至少家访一次，共 {count} 人）：{names}")
        else:
            line = t._("新接手的学生暑假期间每人至少家访一次，共 {count} 人：{names}")
        lines.append(line.format(count=count, names=names))
    lines.append(t._("发送 /visit 记录家访，发送 /quota 查看进度。"))
    return "\n".join(lines)


def _month_render(
    month: MonthStanding, words: Callable[[Translator, MonthStanding], str]
) -> Render:
    return lambda t: Reply(words(t, month))


def _break_render(standing: BreakStanding, with_class: bool) -> Render:
    return lambda t: Reply(break_start_text(t, standing, with_class=with_class))


# -- the jobs -----------------------------------------------------------------------------------


async def weekly_nudge(jc: JobContext) -> int:
    """To each teacher behind pace for the month, on a term day with term days still ahead."""
    day = jc.today
    span, months = await school_months(
        session=jc.session, school_id=jc.school.id or 0, day=day, rules=jc.rules
    )
    if not span.in_term(day):
        return 0
    messages = {
        (PersonKind.STAFF, staff_id): _month_render(month, nudge_text)
        for staff_id, month in months
        if month.behind
    }
    week = day - timedelta(days=day.weekday())
    result = await notify_each(
        session=jc.session,
        school_id=jc.school.id or 0,
        messages=messages,
        key=f"weekly-nudge:{week.isoformat()}",
        kind="quota_nudge",
        due_at=jc.waking,
    )
    return result.queued


async def month_end_reminder(jc: JobContext) -> int:
    """On its day, to each teacher still short of the month's target while term days remain."""
    day = jc.today
    if day != month_end_reminder_day(day, jc.rules):
        return 0
    standing = await school_standing(
        session=jc.session, school_id=jc.school.id or 0, day=day, rules=jc.rules
    )
    if standing.span.remaining == 0:
        return 0
    messages = {
        (PersonKind.STAFF, teacher.staff_id): _month_render(teacher.month, month_end_text)
        for teacher in standing.teachers
        if teacher.month is not None and not teacher.month.met
    }
    result = await notify_each(
        session=jc.session,
        school_id=jc.school.id or 0,
        messages=messages,
        key=f"month-end:{day:%Y-%m}",
        kind="quota_month_end",
        due_at=jc.waking,
    )
    return result.queued


async def break_start_reminder(jc: JobContext) -> int:
    """On the first day of a winter or summer break: each teacher's break quota and list."""
    day = jc.today
    school_id = jc.school.id or 0
    starting = await jc.session.exec(
        select(Term.id).where(
            Term.school_id == school_id,
            Term.start_date == day,
            col(Term.kind).in_(list(BREAK_KINDS)),
        )
    )
    if starting.first() is None:
        return 0
    standing = await school_standing(
        session=jc.session, school_id=school_id, day=day, rules=jc.rules
    )
    told = [t for t in standing.teachers if t.on_break is not None and t.on_break.has_rule]
    messages = {
        (PersonKind.STAFF, teacher.staff_id): _break_render(
            teacher.on_break, len(teacher.classes) > 1
        )
        for teacher in told
        if teacher.on_break is not None
    }
    result = await notify_each(
        session=jc.session,
        school_id=school_id,
        messages=messages,
        key=f"break-start:{day.isoformat()}",
        kind="quota_break_start",
        due_at=jc.waking,
    )
    # Winter's must-visit list names special-type students: the teachers it reached read them
    # (one statement for every teacher's list; none when nothing was queued, as on a rerun).
    unreachable = set(result.unreachable) if result.queued else set(messages)
    await audit_all(
        jc.session,
        [
            entry
            for teacher in told
            if (PersonKind.STAFF, teacher.staff_id) not in unreachable
            for entry in student_entries(
                f"staff:{teacher.staff_id}",
                TAGS_READ,
                tagged_shown(teacher.on_break, NAMES_SHOWN),
                detail="break_start_reminder",
            )
        ],
    )
    return result.queued


# -- schedules ----------------------------------------------------------------------------------


def _weekly(rules: SchoolRules) -> dict[str, Any]:
    at = rules.weekly_nudge_time
    return {"day_of_week": rules.weekly_nudge_day, "hour": at.hour, "minute": at.minute}


WEEKLY_NUDGE = Job(
    name="weekly_nudge",
    func=weekly_nudge,
    schedule=_weekly,
    describe="每周提醒本月家访或家长联系进度偏慢的教师",
)
MONTH_END_REMINDER = Job(
    name="month_end_reminder",
    func=month_end_reminder,
    schedule=daily_at(lambda rules: rules.month_end_time),
    describe="月底前几天提醒仍未完成本月指标的教师",
)
BREAK_START_REMINDER = Job(
    name="break_start_reminder",
    func=break_start_reminder,
    schedule=daily_at(lambda rules: rules.break_start_time),
    describe="寒暑假第一天：发送假期家访指标和必访名单",
)
