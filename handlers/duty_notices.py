"""What teachers and 德育处 are told about immediate-visit duties, and queueing it.

Shared by the flows that open duties (/absence, /flag) and the duty jobs
(`scheduler/jobs/duties.py`). Every message is an outbox row with a deterministic key, rendered
in each recipient's language, and held until the end of quiet hours (duties are not urgent
incidents). Keys: `duty-new:{duty}`, `duty-reminder:{duty}:{n}`, `duty-overdue:{date}`,
each followed by `:staff:{id}:{channel}` per bound account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.i18n import Translator
from handlers.notify import notify_keyed
from handlers.types import Reply
from models.absences.queries import duty_teachers, staff_by_id
from models.accounts.tables import PersonKind
from models.duties.queries import DutyRow, DutySpec, duty_rows_by_id, open_duties
from models.duties.tables import TRIGGER_LABELS, Duty, DutyTrigger
from models.roster.tables import Student
from models.school.rules import DEFAULT_RULES, SchoolRules, next_waking_moment


def format_day(t: Translator, day: date) -> str:
    return t._("{year}年{month}月{day}日").format(year=day.year, month=day.month, day=day.day)


def format_moment(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """`11月17日 10:00` in the school's zone."""
    local = moment.astimezone(zone)
    return t._("{month}月{day}日 {time}").format(
        month=local.month, day=local.day, time=local.strftime("%H:%M")
    )


def reason_text(t: Translator, duty: Duty) -> str:
    """`无故缺席旷课`, or `家庭重大变故：父母离异` when the duty carries a note."""
    label = t._(TRIGGER_LABELS[duty.trigger])
    if not duty.reason:
        return label
    return t._("{label}：{reason}").format(label=label, reason=duty.reason)


def new_duty_text(t: Translator, row: DutyRow, zone: ZoneInfo) -> str:
    return t._(
        "【立即家访任务】{student}：{reason}。请于 {due} 前上门家访；"
        "记录这次上门家访后，任务即完成。发送 /pending 查看全部待办。"
    ).format(
        student=row.student_label,
        reason=reason_text(t, row.duty),
        due=format_moment(t, row.duty.due_at, zone),
    )


def reminder_text(t: Translator, row: DutyRow, zone: ZoneInfo) -> str:
    return t._("【提醒】立即家访尚未完成：{student}（{reason}），请于 {due} 前上门家访。").format(
        student=row.student_label,
        reason=t._(TRIGGER_LABELS[row.duty.trigger]),
        due=format_moment(t, row.duty.due_at, zone),
    )


def overdue_text(t: Translator, rows: Sequence[DutyRow], zone: ZoneInfo) -> str:
    """Every duty past due and not done, in one message (a line each)."""
    lines = [
        t._("【立即家访逾期】以下 {count} 项立即家访已过期限，尚未完成：").format(count=len(rows))
    ]
    for number, row in enumerate(rows, start=1):
        line = t._("{teacher}老师：{student}（{reason}），{due} 到期").format(
            teacher=row.teacher.name,
            student=row.student_label,
            reason=t._(TRIGGER_LABELS[row.duty.trigger]),
            due=format_moment(t, row.duty.due_at, zone),
        )
        lines.append(f"{number}. {line}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Message:
    """One message for one member of staff: the key prefix and how to word it."""

    staff_id: int
    key: str
    render: Callable[[Translator], str]


@dataclass
class Sent:
    #: Outbox rows added (0 when every key already existed).
    queued: int = 0
    #: Recipients with no bound account (nothing could be queued for them).
    unreachable: set[int] = field(default_factory=set)


async def send_to_staff(
    *,
    session: AsyncSession,
    school_id: int,
    messages: Sequence[Message],
    kind: str,
    due_at: datetime,
) -> Sent:
    """Queue each message on every account its recipient has bound: one read for all of them."""
    notified = await notify_keyed(
        session=session,
        school_id=school_id,
        items=[((PersonKind.STAFF, m.staff_id), m.key, _as_reply(m.render)) for m in messages],
        kind=kind,
        due_at=due_at,
    )
    return Sent(queued=notified.queued, unreachable={person for _, person in notified.unreachable})


def _as_reply(render: Callable[[Translator], str]) -> Callable[[Translator], Reply]:
    return lambda t: Reply(render(t))


async def announce_new_duties(
    *,
    session: AsyncSession,
    school_id: int,
    rows: Sequence[DutyRow],
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules = DEFAULT_RULES,
    told: int | None = None,
) -> Sent:
    """Tell each teacher about their new duty (at once, or when quiet hours end).

    `told` is the member of staff who opened it in a conversation and reads about it in the
    reply; they get no second message.
    """
    messages = [
        Message(
            staff_id=row.duty.teacher_id,
            key=f"duty-new:{row.duty.id}",
            render=partial(new_duty_text, row=row, zone=zone),
        )
        for row in rows
        if row.duty.teacher_id != told
    ]
    return await send_to_staff(
        session=session,
        school_id=school_id,
        messages=messages,
        kind="duty_new",
        due_at=next_waking_moment(now, zone=zone, rules=rules),
    )


@dataclass(frozen=True)
class Opened:
    #: The duties created now (those that existed already are left out).
    rows: list[DutyRow]
    sent: Sent


async def open_and_announce(
    *,
    session: AsyncSession,
    school_id: int,
    specs: Sequence[DutySpec],
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules = DEFAULT_RULES,
    told: int | None = None,
) -> Opened:
    """Open the duties that do not exist yet and tell their teachers."""
    ids = await open_duties(session=session, specs=specs, rules=rules)
    rows = await duty_rows_by_id(session=session, ids=ids)
    sent = await announce_new_duties(
        session=session, school_id=school_id, rows=rows, now=now, zone=zone, rules=rules, told=told
    )
    return Opened(rows, sent)


def opened_lines(t: Translator, opened: Opened, *, me: int, zone: ZoneInfo) -> list[str]:
    """What the reporter reads about the duties their report opened."""
    lines = []
    for row in opened.rows:
        due = format_moment(t, row.duty.due_at, zone)
        if row.duty.teacher_id == me:
            lines.append(t._("已为您生成立即家访任务，请于 {due} 前上门家访。").format(due=due))
        elif row.duty.teacher_id in opened.sent.unreachable:
            lines.append(
                t._(
                    "已为{name}生成立即家访任务（{due} 前）；{name}还没有绑定本机器人，"
                    "请当面或电话转告。"
                ).format(name=row.teacher.name, due=due)
            )
        else:
            lines.append(
                t._("已为{name}生成立即家访任务（{due} 前），并已通知。").format(
                    name=row.teacher.name, due=due
                )
            )
    return lines


async def open_now(
    ctx: Context,
    *,
    student: Student,
    trigger: DutyTrigger,
    source_key: str,
    with_reporter: bool,
    reason: str = "",
) -> list[str]:
    """Open the immediate-visit duties a report made in a conversation calls for (the head
    teacher's, and the reporter's when asked and they teach the child), tell the teachers, and
    say to the reporter what was done, or why nothing could be."""
    me = ctx.staff
    if me is None:
        raise PermissionError("only a member of staff opens duties")
    teachers = await duty_teachers(
        session=ctx.session, student=student, reporter=me, with_reporter=with_reporter
    )
    if not teachers:
        return [ctx.t._("该班在名册中没有班主任，无法生成立即家访任务，请告知德育处。")]
    specs = [
        DutySpec(
            school_id=ctx.school.id or 0,
            student_id=student.id or 0,
            teacher_id=teacher,
            trigger=trigger,
            source_key=source_key,
            triggered_at=ctx.now,
            reason=reason,
        )
        for teacher in teachers
    ]
    opened = await open_and_announce(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        specs=specs,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
        told=me.id,
    )
    ctx.queued += opened.sent.queued
    return opened_lines(ctx.t, opened, me=me.id or 0, zone=ctx.zone)


async def planned_duty_line(ctx: Context, student: Student, *, with_reporter: bool) -> str:
    """Said before the reporter confirms: who will get an immediate-visit duty."""
    _ = ctx.t._
    if ctx.staff is None:
        return ""
    teachers = await duty_teachers(
        session=ctx.session, student=student, reporter=ctx.staff, with_reporter=with_reporter
    )
    if not teachers:
        return _("该班在名册中没有班主任，无法生成立即家访任务，请告知德育处。")
    names = {s.id: s.name for s in await staff_by_id(session=ctx.session, ids=teachers)}
    who = [
        _("您")
        if teacher == ctx.staff.id
        else _("班主任{name}").format(name=names.get(teacher, ""))
        for teacher in teachers
    ]
    return _("确认后将生成立即家访任务（{hours} 小时内上门家访）：{who}。").format(
        who=_("、").join(who), hours=ctx.rules.duty_due_hours
    )
