"""Each state's question, rebuilt from the draft every time (after bad input, a restart, 修改)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from handlers.absence.states import AbsenceDraft, State, next_state
from handlers.context import Context
from handlers.duty_notices import format_day, planned_duty_line
from handlers.i18n import N_
from handlers.student_picker import TEACHER_PICKER, Pupil, StudentPicker
from handlers.summary import CANCEL, Summary
from handlers.types import Button, Reply, Transition
from models.absences.queries import days_missed, duty_due_now, school_calendar
from models.absences.tables import Absence, AbsenceKind
from models.roster.tables import Staff

#: The teacher's own students: a teacher records absences only for students in their scope.
PICKER: StudentPicker = TEACHER_PICKER

# Callback data (never the picker's prefixes); checked again by the steps.
KIND = "kind:"
TODAY, YESTERDAY, OTHER_DAY = "day:today", "day:yesterday", "day:other"
RETURNED, CONFIRM, BACK = "returned", "confirm", "back"
FIELD = "field:"

KIND_NAMES: dict[AbsenceKind, str] = {
    AbsenceKind.SICK: N_("病假"),
    AbsenceKind.UNEXCUSED: N_("无故缺席"),
}
#: The summary's 确认 / 修改 / 取消 (a return is confirmed with 确认 / 取消 only).
SUMMARY = Summary(N_("确认"), CONFIRM, cancelled=N_("已取消，这次缺勤没有记录。"))
#: What 修改 offers, with the draft field each one clears.
EDITABLE: dict[State, str] = {
    State.STUDENT: N_("学生"),
    State.KIND: N_("缺勤类型"),
    State.SINCE: N_("开始日期"),
}

Question = tuple[str, list[list[Button]]]


def staff_of(ctx: Context) -> Staff:
    if ctx.staff is None:
        raise PermissionError("the absence flow needs a staff member")
    return ctx.staff


async def ask(state: State, draft: AbsenceDraft, ctx: Context, *notes: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: AbsenceDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft), draft, ctx, *notes)


async def question(state: State, draft: AbsenceDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def chosen(draft: AbsenceDraft, ctx: Context) -> Pupil | None:
    """The chosen student, if still in the teacher's scope."""
    return await PICKER.pupil(ctx, draft.student_id)


def kind_name(ctx: Context, kind: AbsenceKind) -> str:
    return ctx.t._(KIND_NAMES[kind])


async def missed_so_far(ctx: Context, since: date, back_on: date | None = None) -> int:
    calendar = await school_calendar(session=ctx.session, school_id=ctx.school.id or 0)
    return days_missed(since=since, back_on=back_on, today=ctx.today, calendar=calendar)


def day_buttons(ctx: Context) -> list[list[Button]]:
    _ = ctx.t._
    return [
        [Button(_("今天"), TODAY), Button(_("昨天"), YESTERDAY), Button(_("其他日期"), OTHER_DAY)]
    ]


# -- the questions -----------------------------------------------------------------------------


async def _student(draft: AbsenceDraft, ctx: Context) -> Question:
    return await PICKER.question(draft.picker, ctx)


async def _open(draft: AbsenceDraft, ctx: Context) -> Question:
    _ = ctx.t._
    pupil = await chosen(draft, ctx)
    absence = await ctx.session.get(Absence, draft.open_absence_id or 0)
    if pupil is None or absence is None:
        return _("请发送 /cancel 后重新开始。"), []
    missed = await missed_so_far(ctx, absence.since)
    text = _(
        "{student}自 {since} 起{kind}，还没有登记返校（已缺课 {missed} 个上学日）。孩子返校了吗？"
    ).format(
        student=pupil.label,
        since=format_day(ctx.t, absence.since),
        kind=kind_name(ctx, absence.kind),
        missed=missed,
    )
    return text, [[Button(_("已返校"), RETURNED), Button(_("取消"), CANCEL)]]


async def _kind(draft: AbsenceDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(kind_name(ctx, k), f"{KIND}{k.value}") for k in AbsenceKind]
    return _("请选择缺勤类型："), [buttons]


async def _since(draft: AbsenceDraft, ctx: Context) -> Question:
    return ctx.t._("从哪一天开始缺勤？"), day_buttons(ctx)


async def _back_on(draft: AbsenceDraft, ctx: Context) -> Question:
    return ctx.t._("孩子是哪一天返校的？"), day_buttons(ctx)


async def consequence(draft: AbsenceDraft, ctx: Context, pupil: Pupil) -> str:
    """What confirming will do about an immediate visit, said before the teacher confirms."""
    _ = ctx.t._
    if draft.kind is None or draft.since is None:
        return ""
    missed = await missed_so_far(ctx, draft.since)
    if not duty_due_now(draft.kind, missed, ctx.rules):
        return _("病假满 {days} 个上学日仍未返校时，将为班主任生成立即家访任务。").format(
            days=ctx.rules.sick_absence_school_days
        )
    return await planned_duty_line(
        ctx, pupil.student, with_reporter=draft.kind is AbsenceKind.UNEXCUSED
    )


async def _confirm(draft: AbsenceDraft, ctx: Context) -> Question:
    _ = ctx.t._
    pupil = await chosen(draft, ctx)
    if pupil is None or draft.kind is None or draft.since is None:
        return _("请发送 /cancel 后重新开始。"), []
    missed = await missed_so_far(ctx, draft.since)
    lines = [
        _("请核对缺勤记录："),
        _("学生：{student}").format(student=pupil.label),
        _("缺勤类型：{kind}").format(kind=kind_name(ctx, draft.kind)),
        _("开始日期：{day}（至今缺课 {missed} 个上学日）").format(
            day=format_day(ctx.t, draft.since), missed=missed
        ),
        await consequence(draft, ctx, pupil),
    ]
    return "\n".join(lines), [SUMMARY.buttons(ctx)]


async def _confirm_back(draft: AbsenceDraft, ctx: Context) -> Question:
    _ = ctx.t._
    pupil = await chosen(draft, ctx)
    absence = await ctx.session.get(Absence, draft.open_absence_id or 0)
    if pupil is None or absence is None or draft.back_on is None:
        return _("请发送 /cancel 后重新开始。"), []
    missed = await missed_so_far(ctx, absence.since, draft.back_on)
    text = _(
        "确认登记：{student}于 {day} 返校（自 {since} 起{kind}，共缺课 {missed} 个上学日）？"
    ).format(
        student=pupil.label,
        day=format_day(ctx.t, draft.back_on),
        since=format_day(ctx.t, absence.since),
        kind=kind_name(ctx, absence.kind),
        missed=missed,
    )
    return text, [[Button(_("确认"), CONFIRM), Button(_("取消"), CANCEL)]]


async def _edit(draft: AbsenceDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(name), f"{FIELD}{state.value}") for state, name in EDITABLE.items()]
    return _("要修改哪一项？"), [buttons, [Button(_("返回核对"), BACK)]]


_QUESTIONS: dict[State, Callable[[AbsenceDraft, Context], Awaitable[Question]]] = {
    State.STUDENT: _student,
    State.OPEN: _open,
    State.KIND: _kind,
    State.SINCE: _since,
    State.BACK_ON: _back_on,
    State.CONFIRM: _confirm,
    State.CONFIRM_BACK: _confirm_back,
    State.EDIT: _edit,
}
