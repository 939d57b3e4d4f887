"""One step function per state of /absence, and the two ways it ends: an absence recorded, or
the child's return recorded. Every id is checked again (scope, the absence still running)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handlers.absence.questions import (
    BACK,
    CONFIRM,
    EDITABLE,
    FIELD,
    KIND,
    OTHER_DAY,
    PICKER,
    RETURNED,
    SUMMARY,
    TODAY,
    YESTERDAY,
    ask,
    chosen,
    kind_name,
    missed_so_far,
    proceed,
    staff_of,
)
from handlers.absence.states import AbsenceDraft, State
from handlers.context import Context
from handlers.duty_notices import format_day, open_now
from handlers.hints import button_note
from handlers.student_picker import Ask, Empty, Outcome, Picked
from handlers.summary import CANCEL
from handlers.types import Inbound, Reply, Transition
from models.absences.queries import (
    TRIGGER_OF_ABSENCE,
    absence_source,
    duty_due_now,
    open_absence,
    record_absence,
    record_return,
    sick_visit_due,
    withdraw_open_duties,
)
from models.absences.tables import Absence, AbsenceKind
from models.roster.tables import Student
from models.visits.message_rules import parse_visit_text
from models.visits.queries import DateProblem, school_year_first_day, visit_date_problem

#: Longest text read as a date.
DATE_LIMIT = 50


async def button_only(
    state: State, inbound: Inbound, draft: AbsenceDraft, ctx: Context
) -> Transition:
    return await ask(state, draft, ctx, button_note(inbound, ctx))


def ended(ctx: Context) -> Transition:
    return Transition.end(Reply(ctx.t._("已取消，缺勤记录没有改动。")))


# -- the student -------------------------------------------------------------------------------


async def start(inbound: Inbound, draft: AbsenceDraft, ctx: Context, args: str) -> Transition:
    """`/absence` asks for the student; `/absence 张小明` searches that name first."""
    intro = ctx.t._("记录学生缺勤（病假或无故缺席），或登记缺勤学生已返校。")
    return await picked(await PICKER.begin(draft.picker, ctx, args), draft, ctx, intro)


async def choose_student(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    return await picked(await PICKER.answer(inbound, draft.picker, ctx), draft, ctx)


async def picked(outcome: Outcome, draft: AbsenceDraft, ctx: Context, *notes: str) -> Transition:
    if isinstance(outcome, Empty):
        return Transition.end(Reply("\n".join([*notes, outcome.text])))
    if isinstance(outcome, Ask):
        return await ask(State.STUDENT, draft, ctx, *notes, *outcome.notes)
    assert isinstance(outcome, Picked)
    draft.student_id = outcome.pupil.id
    running = await open_absence(session=ctx.session, student_id=outcome.pupil.id)
    draft.open_absence_id = running.id if running is not None else None
    draft.returning, draft.back_on = False, None
    line = ctx.t._("学生：{student}").format(student=outcome.pupil.label)
    return await proceed(draft, ctx, *notes, line)


# -- a running absence: the return ---------------------------------------------------------------


async def choose_open(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    if inbound.callback == RETURNED:
        draft.returning = True
        return await proceed(draft, ctx)
    if inbound.callback == CANCEL:
        return ended(ctx)
    return await button_only(State.OPEN, inbound, draft, ctx)


# -- kind and dates ----------------------------------------------------------------------------


async def choose_kind(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    value = inbound.callback.removeprefix(KIND) if inbound.callback else None
    if value not in {k.value for k in AbsenceKind}:
        return await button_only(State.KIND, inbound, draft, ctx)
    draft.kind = AbsenceKind(value)
    return await proceed(draft, ctx)


@dataclass(frozen=True)
class DayAnswer:
    day: date | None = None
    #: Shown above the question when no day was read (already translated).
    note: str = ""
    #: 其他日期 was pressed: ask for a typed date, without the buttons.
    prompt: bool = False


def read_day(inbound: Inbound, ctx: Context) -> DayAnswer:
    _ = ctx.t._
    data = inbound.callback
    if data == OTHER_DAY:
        return DayAnswer(prompt=True)
    if data == TODAY:
        return DayAnswer(ctx.today)
    if data == YESTERDAY:
        return DayAnswer(ctx.today - timedelta(days=1))
    text = (inbound.text or "").strip()
    if data is None and text:
        parsed = (
            parse_visit_text(text, today=ctx.today, names=()) if len(text) <= DATE_LIMIT else None
        )
        if parsed is None or parsed.visit_date is None:
            return DayAnswer(
                note=_("没能看懂这个日期。请按 11月20日 或 2026-11-20 的格式输入，或点下面的按钮。")
            )
        return DayAnswer(parsed.visit_date)
    return DayAnswer(note=button_note(inbound, ctx))


def day_problem(ctx: Context, day: date) -> str | None:
    """Why a day cannot start (or end) an absence: in the future, or before the school year."""
    _ = ctx.t._
    problem = visit_date_problem(day, today=ctx.today, school=ctx.school)
    if problem is DateProblem.FUTURE:
        return _("日期不能晚于今天（{today}）。").format(today=format_day(ctx.t, ctx.today))
    if problem is DateProblem.BEFORE_SCHOOL_YEAR:
        start = school_year_first_day(today=ctx.today, school=ctx.school)
        return _("日期不能早于本学年开始的 {start}。").format(start=format_day(ctx.t, start))
    return None


def date_prompt(state: State, ctx: Context) -> Transition:
    return Transition.to(state, Reply(ctx.t._("请输入日期，例如 11月12日 或 2026-11-12：")))


async def choose_since(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    answer = read_day(inbound, ctx)
    if answer.prompt:
        return date_prompt(State.SINCE, ctx)
    if answer.day is None:
        return await ask(State.SINCE, draft, ctx, answer.note)
    problem = day_problem(ctx, answer.day)
    if problem is not None:
        return await ask(State.SINCE, draft, ctx, problem)
    draft.since = answer.day
    return await proceed(draft, ctx)


async def choose_back_on(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    answer = read_day(inbound, ctx)
    if answer.prompt:
        return date_prompt(State.BACK_ON, ctx)
    if answer.day is None:
        return await ask(State.BACK_ON, draft, ctx, answer.note)
    absence = await ctx.session.get(Absence, draft.open_absence_id or 0)
    problem = day_problem(ctx, answer.day)
    if problem is None and absence is not None and answer.day <= absence.since:
        problem = ctx.t._("返校日期要晚于开始缺勤的 {since}。").format(
            since=format_day(ctx.t, absence.since)
        )
    if problem is not None:
        return await ask(State.BACK_ON, draft, ctx, problem)
    draft.back_on = answer.day
    return await proceed(draft, ctx)


# -- confirming, editing -------------------------------------------------------------------------


async def confirm_back(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    if inbound.callback == CONFIRM:
        return await save_return(draft, ctx)
    if inbound.callback == CANCEL:
        return ended(ctx)
    return await button_only(State.CONFIRM_BACK, inbound, draft, ctx)


async def edit(inbound: Inbound, draft: AbsenceDraft, ctx: Context) -> Transition:
    if inbound.callback == BACK:
        return await ask(State.CONFIRM, draft, ctx)
    value = inbound.callback.removeprefix(FIELD) if inbound.callback else None
    field = next((s for s in EDITABLE if s.value == value), None)
    if field is State.STUDENT:
        draft.forget_student()
        return await proceed(draft, ctx)
    if field is State.KIND:
        draft.kind = None
        return await proceed(draft, ctx)
    if field is State.SINCE:
        draft.since = None
        return await proceed(draft, ctx)
    return await button_only(State.EDIT, inbound, draft, ctx)


# -- saving ------------------------------------------------------------------------------------


async def save_absence(draft: AbsenceDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    me = staff_of(ctx)
    pupil = await chosen(draft, ctx)
    if pupil is None:
        draft.forget_student()
        note = _("这位学生已不在您任教或负责的范围内，不能记录。请重新选择学生。")
        return await proceed(draft, ctx, note)
    if draft.kind is None or draft.since is None:
        return await proceed(draft, ctx)
    problem = day_problem(ctx, draft.since)
    if problem is not None:
        draft.since = None
        return await proceed(draft, ctx, problem)
    running = await open_absence(session=ctx.session, student_id=pupil.id)
    if running is not None:
        # Someone else recorded one meanwhile: offer the return instead of a second absence.
        draft.open_absence_id, draft.returning = running.id, False
        return await proceed(draft, ctx, _("这位学生已有一条还没有返校的缺勤记录。"))
    absence = await record_absence(
        session=ctx.session,
        student=pupil.student,
        kind=draft.kind,
        since=draft.since,
        reporter=me,
        now=ctx.now,
    )
    lines = [
        _("已记录：{student}自 {since} 起{kind}。").format(
            student=pupil.label,
            since=format_day(ctx.t, draft.since),
            kind=kind_name(ctx, draft.kind),
        )
    ]
    missed = await missed_so_far(ctx, draft.since)
    if duty_due_now(draft.kind, missed, ctx.rules):
        lines += await open_for(absence, pupil.student, ctx, with_reporter=True)
    else:
        lines.append(
            _("如病假满 {days} 个上学日仍未返校，系统会为班主任生成立即家访任务。").format(
                days=ctx.rules.sick_absence_school_days
            )
        )
    lines.append(_("孩子返校后，请再发送 /absence 登记返校。"))
    return Transition.end(Reply("\n".join(lines)))


async def open_for(
    absence: Absence, student: Student, ctx: Context, *, with_reporter: bool
) -> list[str]:
    """Open the absence's duties now and say what was done (or why nothing could be)."""
    return await open_now(
        ctx,
        student=student,
        trigger=TRIGGER_OF_ABSENCE[absence.kind],
        source_key=absence_source(absence.id or 0),
        with_reporter=with_reporter and absence.kind is AbsenceKind.UNEXCUSED,
    )


async def save_return(draft: AbsenceDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    me = staff_of(ctx)
    pupil = await chosen(draft, ctx)
    absence = await ctx.session.get(Absence, draft.open_absence_id or 0)
    if pupil is None or absence is None or absence.student_id != pupil.id:
        draft.forget_student()
        note = _("这位学生已不在您任教或负责的范围内，不能记录。请重新选择学生。")
        return await proceed(draft, ctx, note)
    if absence.back_on is not None:
        return Transition.end(Reply(_("这条缺勤记录已经登记过返校，没有改动。")))
    if draft.back_on is None:
        return await proceed(draft, ctx)
    await record_return(session=ctx.session, absence=absence, back_on=draft.back_on, reporter=me)
    missed = await missed_so_far(ctx, absence.since, draft.back_on)
    lines = [
        _("已登记：{student}于 {day} 返校，共缺课 {missed} 个上学日。").format(
            student=pupil.label, day=format_day(ctx.t, draft.back_on), missed=missed
        )
    ]
    if absence.kind is AbsenceKind.SICK:
        if sick_visit_due(missed, ctx.rules):
            # Past the threshold before the daily check ran: the visit is still due.
            lines += await open_for(absence, pupil.student, ctx, with_reporter=False)
        elif await withdraw_open_duties(
            session=ctx.session,
            school_id=ctx.school.id or 0,
            source_key=absence_source(absence.id or 0),
        ):
            lines.append(
                _("缺课不满 {days} 个上学日，已撤销为这次病假生成的立即家访任务。").format(
                    days=ctx.rules.sick_absence_school_days
                )
            )
    return Transition.end(Reply("\n".join(lines)))


#: The summary's step: 确认 records the absence (defined here, after what it calls).
confirm = SUMMARY.step(state=State.CONFIRM, edit=State.EDIT, save=save_absence, ask=ask)
