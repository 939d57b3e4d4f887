"""确认为病假 / 不是病假: the head teacher decides a parent's leave, once.

确认为病假 records the absence exactly as /absence does (`models.absences.queries.record_absence`,
by the head teacher, from the day the parent's message named), so the immediate-visit rule then
applies alike: a sick absence already past `rules.sick_absence_school_days` opens the head
teacher's duty at once, a younger one is picked up by the morning check
(`scheduler.jobs.duties.sick_absence_check`). A child with an absence still running gets no
second one. The parent is told the leave was recorded; 不是病假 records nothing and tells no one.

Callback data can be forged: only the staff member the message was forwarded to (with no head
teacher, 德育处) gets anything but "这个按钮已失效".
"""

from __future__ import annotations

from handlers.absence.steps import open_for
from handlers.actions import action_button
from handlers.context import Context
from handlers.duty_notices import format_day
from handlers.i18n import Translator
from handlers.notice.converse import tell
from handlers.notice.render import format_clock
from handlers.parent_messages.common import ANSWER, greeting
from handlers.types import Inbound, Reply
from models.absences.queries import (
    days_missed,
    duty_due_now,
    open_absence,
    record_absence,
    school_calendar,
)
from models.absences.tables import AbsenceKind
from models.accounts.tables import PersonKind
from models.notices.publishing import Child
from models.parents.queries import children_with_relation, decide_leave, get_message
from models.parents.tables import LeaveDecision, ParentMessage, ParentMessageKind
from models.roster.scope import has_whole_school_scope
from models.roster.tables import Student
from models.school.tables import SchoolClass


def _gone(ctx: Context) -> list[Reply]:
    return [Reply(ctx.t._("这个按钮已失效。"))]


async def addressed_message(argument: str, ctx: Context) -> ParentMessage | None:
    """The parent's message if it was forwarded to this staff member (with no head teacher,
    to 德育处)."""
    staff = ctx.staff
    if staff is None:
        return None
    message = await get_message(
        session=ctx.session, school_id=ctx.school.id or 0, message_id=int(argument)
    )
    if message is None:
        return None
    if message.head_teacher_id is not None:
        allowed = message.head_teacher_id == staff.id
    else:
        allowed = has_whole_school_scope(staff)
    return message if allowed else None


def _decided(ctx: Context, message: ParentMessage) -> list[Reply]:
    _ = ctx.t._
    when = format_clock(message.decided_at, ctx.zone) if message.decided_at else ""
    if message.decision is LeaveDecision.SICK:
        return [Reply(_("这条请假已于 {time} 确认为病假。").format(time=when))]
    return [Reply(_("这条请假已于 {time} 标记为不是病假。").format(time=when))]


async def _student(ctx: Context, message: ParentMessage) -> tuple[Student, SchoolClass] | None:
    student = await ctx.session.get(Student, message.student_id)
    if student is None:
        return None
    klass = await ctx.session.get(SchoolClass, student.class_id)
    return (student, klass) if klass is not None else None


async def confirm_sick(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    message = await addressed_message(argument, ctx)
    staff = ctx.staff
    if message is None or staff is None or message.kind is not ParentMessageKind.SICK_LEAVE:
        return _gone(ctx)
    if message.decided_at is not None:
        return _decided(ctx, message)
    found = await _student(ctx, message)
    if found is None:
        return _gone(ctx)
    student, klass = found
    label = f"{klass.name} {student.name}"
    since = message.leave_from or ctx.today
    if not await decide_leave(
        session=ctx.session,
        message_id=message.id or 0,
        decision=LeaveDecision.SICK,
        staff_id=staff.id or 0,
        now=ctx.now,
    ):
        await ctx.session.refresh(message)
        return _decided(ctx, message)
    await ctx.session.refresh(message)
    running = await open_absence(session=ctx.session, student_id=student.id or 0)
    if running is not None:
        message.absence_id = running.id
        ctx.session.add(message)
        return [
            Reply(
                _(
                    "{student}已有一条自 {since} 起还没有返校的缺勤记录，没有重复登记。"
                    "孩子返校后，请发送 /absence 登记返校。"
                ).format(student=label, since=format_day(ctx.t, running.since))
            )
        ]
    absence = await record_absence(
        session=ctx.session,
        student=student,
        kind=AbsenceKind.SICK,
        since=since,
        reporter=staff,
        now=ctx.now,
    )
    message.absence_id = absence.id
    ctx.session.add(message)
    lines = [
        _("已记录：{student}自 {since} 起{kind}。").format(
            student=label, since=format_day(ctx.t, since), kind=_("病假")
        )
    ]
    calendar = await school_calendar(session=ctx.session, school_id=ctx.school.id or 0)
    missed = days_missed(since=since, back_on=None, today=ctx.today, calendar=calendar)
    if duty_due_now(AbsenceKind.SICK, missed, ctx.rules):
        lines += await open_for(absence, student, ctx, with_reporter=False)
    else:
        lines.append(
            _("如病假满 {days} 个上学日仍未返校，系统会为班主任生成立即家访任务。").format(
                days=ctx.rules.sick_absence_school_days
            )
        )
    lines.append(_("孩子返校后，请再发送 /absence 登记返校。"))
    await _tell_parent(ctx, message, student)
    buttons = (
        [[action_button(_("回复家长"), ANSWER, message.id or 0)]]
        if message.answered_at is None
        else []
    )
    return [Reply.with_buttons("\n".join(lines), buttons)]


async def _tell_parent(ctx: Context, message: ParentMessage, student: Student) -> None:
    children: list[Child] = await children_with_relation(
        session=ctx.session, guardian_id=message.guardian_id
    )
    since = message.leave_from or ctx.today

    def render(t: Translator) -> Reply:
        return Reply(
            greeting(t, children)
            + t._("班主任已登记{student}自 {since} 起病假。祝孩子早日康复！").format(
                student=student.name, since=format_day(t, since)
            )
        )

    await tell(
        ctx,
        people=[(PersonKind.GUARDIAN, message.guardian_id)],
        key=f"parent-leave:{message.id}",
        kind="parent_leave",
        render=render,
    )


async def not_sick(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    message = await addressed_message(argument, ctx)
    staff = ctx.staff
    if message is None or staff is None or message.kind is not ParentMessageKind.SICK_LEAVE:
        return _gone(ctx)
    if message.decided_at is not None:
        return _decided(ctx, message)
    if not await decide_leave(
        session=ctx.session,
        message_id=message.id or 0,
        decision=LeaveDecision.NOT_SICK,
        staff_id=staff.id or 0,
        now=ctx.now,
    ):
        await ctx.session.refresh(message)
        return _decided(ctx, message)
    buttons = (
        [[action_button(_("回复家长"), ANSWER, message.id or 0)]]
        if message.answered_at is None
        else []
    )
    return [
        Reply.with_buttons(
            _("已记下：这条不是病假，没有登记缺勤。如需答复家长，请点“回复家长”。"), buttons
        )
    ]
