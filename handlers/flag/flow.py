"""The `flag` flow: student → what happened (a trigger) → a short note → confirm.

On 确认上报 the flag is stored and, in the same transaction, an immediate-visit duty is opened
for the student's head teacher and for the reporter when they teach the student (a subject
teacher or coach); each is told through the outbox (quiet hours respected).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

from pydantic import BaseModel, Field

from handlers.context import Context
from handlers.draft_labels import about_student
from handlers.duty_notices import open_now, planned_duty_line
from handlers.flow import Flow, Step, is_staff, with_typed_labels
from handlers.hints import button_note, too_long
from handlers.i18n import N_
from handlers.student_picker import TEACHER_PICKER, Ask, Empty, Outcome, Picked, PickerState
from handlers.summary import Summary
from handlers.types import Button, Inbound, Reply, Transition
from models.absences.queries import flag_source, record_flag
from models.duties.tables import TRIGGER_LABELS, DutyTrigger
from models.roster.tables import Staff

#: The triggers a teacher reports with /flag (absences and incidents have their own commands).
FLAG_TRIGGERS: tuple[DutyTrigger, ...] = (
    DutyTrigger.FAMILY_CHANGE,
    DutyTrigger.PARENT_ACCIDENT,
    DutyTrigger.DISCIPLINE,
    DutyTrigger.AWARD,
    DutyTrigger.OTHER,
)
#: The note is shown with the duty (`Duty.reason` holds 200 characters).
NOTE_LIMIT = 200

PICKER = TEACHER_PICKER

# Callback data (never the picker's prefixes), checked again by the steps.
TRIGGER = "trg:"
CONFIRM, BACK, FIELD = "confirm", "back", "field:"

#: The summary's 确认上报 / 修改 / 取消.
SUMMARY = Summary(N_("确认上报"), CONFIRM, cancelled=N_("已取消，没有上报。"))


class FlagDraft(BaseModel):
    picker: PickerState = Field(default_factory=PickerState)
    student_id: int | None = None
    trigger: DutyTrigger | None = None
    note: str | None = None


class State(StrEnum):
    STUDENT = "student"
    TRIGGER = "trigger"
    NOTE = "note"
    CONFIRM = "confirm"
    EDIT = "edit"


#: What 修改 offers.
EDITABLE: dict[State, str] = {
    State.STUDENT: N_("学生"),
    State.TRIGGER: N_("情况"),
    State.NOTE: N_("说明"),
}


def next_state(draft: FlagDraft) -> State:
    if draft.student_id is None:
        return State.STUDENT
    if draft.trigger is None:
        return State.TRIGGER
    if draft.note is None:
        return State.NOTE
    return State.CONFIRM


def staff_of(ctx: Context) -> Staff:
    if ctx.staff is None:
        raise PermissionError("the flag flow needs a staff member")
    return ctx.staff


# -- questions ---------------------------------------------------------------------------------

Question = tuple[str, list[list[Button]]]


async def _student(draft: FlagDraft, ctx: Context) -> Question:
    return await PICKER.question(draft.picker, ctx)


async def _trigger(draft: FlagDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [[Button(_(TRIGGER_LABELS[t]), f"{TRIGGER}{t.value}")] for t in FLAG_TRIGGERS]
    return _("发生了什么情况？"), buttons


async def _note(draft: FlagDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = _("请用一两句话说明情况（最多 {limit} 字），需要家访的老师会看到。").format(
        limit=NOTE_LIMIT
    )
    if draft.note:
        text += "\n" + _("当前内容：{value}").format(value=draft.note)
    return text, []


async def _confirm(draft: FlagDraft, ctx: Context) -> Question:
    _ = ctx.t._
    pupil = await PICKER.pupil(ctx, draft.student_id)
    if pupil is None or draft.trigger is None:
        return _("请发送 /cancel 后重新开始。"), []
    lines = [
        _("请核对上报内容："),
        _("学生：{student}").format(student=pupil.label),
        _("情况：{trigger}").format(trigger=_(TRIGGER_LABELS[draft.trigger])),
        _("说明：{note}").format(note=draft.note or ""),
        await planned_duty_line(ctx, pupil.student, with_reporter=True),
    ]
    return "\n".join(lines), [SUMMARY.buttons(ctx)]


async def _edit(draft: FlagDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(name), f"{FIELD}{state.value}") for state, name in EDITABLE.items()]
    return _("要修改哪一项？"), [buttons, [Button(_("返回核对"), BACK)]]


_QUESTIONS: dict[State, Callable[[FlagDraft, Context], Awaitable[Question]]] = {
    State.STUDENT: _student,
    State.TRIGGER: _trigger,
    State.NOTE: _note,
    State.CONFIRM: _confirm,
    State.EDIT: _edit,
}


async def question(state: State, draft: FlagDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def ask(state: State, draft: FlagDraft, ctx: Context, *notes: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: FlagDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft), draft, ctx, *notes)


async def button_only(state: State, inbound: Inbound, draft: FlagDraft, ctx: Context) -> Transition:
    return await ask(state, draft, ctx, button_note(inbound, ctx))


# -- steps -------------------------------------------------------------------------------------


async def start(inbound: Inbound, draft: FlagDraft, ctx: Context, args: str) -> Transition:
    intro = ctx.t._(
        "上报需要立即家访的情况：家庭重大变故、家长重大事故、严重违规违纪、获突出进步或奖励等。"
    )
    return await picked(await PICKER.begin(draft.picker, ctx, args), draft, ctx, intro)


async def choose_student(inbound: Inbound, draft: FlagDraft, ctx: Context) -> Transition:
    return await picked(await PICKER.answer(inbound, draft.picker, ctx), draft, ctx)


async def picked(outcome: Outcome, draft: FlagDraft, ctx: Context, *notes: str) -> Transition:
    if isinstance(outcome, Empty):
        return Transition.end(Reply("\n".join([*notes, outcome.text])))
    if isinstance(outcome, Ask):
        return await ask(State.STUDENT, draft, ctx, *notes, *outcome.notes)
    assert isinstance(outcome, Picked)
    draft.student_id = outcome.pupil.id
    line = ctx.t._("学生：{student}").format(student=outcome.pupil.label)
    return await proceed(draft, ctx, *notes, line)


async def choose_trigger(inbound: Inbound, draft: FlagDraft, ctx: Context) -> Transition:
    value = inbound.callback.removeprefix(TRIGGER) if inbound.callback else None
    allowed = {t.value: t for t in FLAG_TRIGGERS}
    if value not in allowed:
        return await button_only(State.TRIGGER, inbound, draft, ctx)
    draft.trigger = allowed[value]
    return await proceed(draft, ctx)


async def write_note(inbound: Inbound, draft: FlagDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback is not None:
        return await ask(State.NOTE, draft, ctx, _("这个选项无效，请直接输入文字说明。"))
    text = (inbound.text or "").strip()
    if not text:
        return await ask(State.NOTE, draft, ctx, _("请用文字说明情况。"))
    if len(text) > NOTE_LIMIT:
        return await ask(State.NOTE, draft, ctx, too_long(ctx, NOTE_LIMIT, len(text)))
    draft.note = text
    return await proceed(draft, ctx)


async def edit(inbound: Inbound, draft: FlagDraft, ctx: Context) -> Transition:
    if inbound.callback == BACK:
        return await ask(State.CONFIRM, draft, ctx)
    value = inbound.callback.removeprefix(FIELD) if inbound.callback else None
    if value == State.STUDENT.value:
        draft.picker.reset()
        draft.student_id = None
        return await proceed(draft, ctx)
    if value == State.TRIGGER.value:
        draft.trigger = None
        return await proceed(draft, ctx)
    if value == State.NOTE.value:
        return await ask(State.NOTE, draft, ctx)
    return await button_only(State.EDIT, inbound, draft, ctx)


async def save(draft: FlagDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    me = staff_of(ctx)
    pupil = await PICKER.pupil(ctx, draft.student_id)
    if pupil is None:
        draft.picker.reset()
        draft.student_id = None
        note = _("这位学生已不在您任教或负责的范围内，不能上报。请重新选择学生。")
        return await proceed(draft, ctx, note)
    if draft.trigger is None or draft.note is None:
        return await proceed(draft, ctx)
    flag = await record_flag(
        session=ctx.session,
        student=pupil.student,
        trigger=draft.trigger,
        note=draft.note,
        reporter=me,
        now=ctx.now,
    )
    lines = [
        _("已上报：{student}，{trigger}。").format(
            student=pupil.label, trigger=_(TRIGGER_LABELS[draft.trigger])
        )
    ]
    lines += await open_now(
        ctx,
        student=pupil.student,
        trigger=draft.trigger,
        source_key=flag_source(flag.id or 0),
        with_reporter=True,
        reason=draft.note,
    )
    return Transition.end(Reply("\n".join(lines)))


confirm = SUMMARY.step(state=State.CONFIRM, edit=State.EDIT, save=save, ask=ask)


# -- the flow ----------------------------------------------------------------------------------


STEPS: dict[State, Step] = {
    State.STUDENT: choose_student,
    State.TRIGGER: choose_trigger,
    State.NOTE: write_note,
    State.CONFIRM: confirm,
    State.EDIT: edit,
}


FLAG_FLOW = Flow(
    name="flag",
    draft_type=FlagDraft,
    # Typing a button's label counts as pressing it (the picker does this for its own).
    steps=with_typed_labels(STEPS, question, except_in=(State.STUDENT, State.NOTE)),
    start=start,
    commands=("flag", "上报"),
    allowed=is_staff,
    refusal=N_("上报立即家访只对班主任、任课教师、教练、德育处和校长开放。"),
    describe=N_("上报需要立即家访的情况（家庭变故、违纪、获奖等）"),
    describe_draft=about_student(N_("上报{name}需要立即家访的情况"), N_("上报需要立即家访的情况")),
    draft_noun=N_("立即家访上报"),
)
