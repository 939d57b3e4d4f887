"""`/refer` (转介): any member of staff refers a student of the school to the care room — what
they noticed, how urgent — and gets a receipt that says 已受理. A care-room teacher may record a
student's own request the same way (学生主动求助). `/refer 进展` shows the stage of the cases one
referred, and nothing else of them.

The student is chosen from the whole school (`SCHOOL_PICKER`, as for an incident: a child in
difficulty may be noticed by any adult), checked again when the referral is submitted, so a
forged or departed student ends with nothing saved.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from handlers.care.intake import RECEIVED_NOTE, record_case
from handlers.care.stage import show_stages, stage_button
from handlers.context import Context
from handlers.flow import Flow, with_typed_labels
from handlers.hints import button_note, too_long
from handlers.i18n import N_
from handlers.permissions import gate, permits
from handlers.student_picker import SCHOOL_PICKER, Empty, Picked, PickerState
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.care.rules import NOTICED_LIMIT
from models.care.tables import INTAKE_LABELS, CaseIntake, CaseUrgency
from models.permissions.matrix import Action

PICKER = SCHOOL_PICKER
STATUS_WORDS = ("进展", "状态", "status")
INTAKE, URGENCY = "in:", "ur:"
SUBMIT, CANCEL = "submit", "cancel"


class State(StrEnum):
    STUDENT = "student"
    INTAKE = "intake"
    NOTICED = "noticed"
    URGENCY = "urgency"
    CONFIRM = "confirm"


class ReferDraft(BaseModel):
    picker: PickerState = Field(default_factory=PickerState)
    student_id: int | None = None
    intake: CaseIntake | None = None
    noticed: str = ""
    urgency: CaseUrgency | None = None


def records_own_requests(ctx: Context) -> bool:
    """Care-room staff may also record a student's own request (学生主动求助)."""
    return permits(ctx, Action.CASE_WORK)


def next_state(draft: ReferDraft, ctx: Context) -> State:
    if draft.student_id is None:
        return State.STUDENT
    if draft.intake is None:
        if records_own_requests(ctx):
            return State.INTAKE
        draft.intake = CaseIntake.REFERRAL
    if not draft.noticed:
        return State.NOTICED
    if draft.urgency is None:
        return State.URGENCY
    return State.CONFIRM


async def question(state: str, draft: ReferDraft, ctx: Context) -> Reply:
    _ = ctx.t._
    if state == State.STUDENT:
        text, rows = await PICKER.question(draft.picker, ctx)
        return Reply.with_buttons(_("转介到关爱室：是哪位学生？") + "\n" + text, rows)
    if state == State.INTAKE:
        buttons = [
            Button(_(INTAKE_LABELS[i]), f"{INTAKE}{i.value}")
            for i in (CaseIntake.REFERRAL, CaseIntake.SELF)
        ]
        return Reply.with_buttons(_("这个个案是怎么来的？"), [buttons])
    if state == State.NOTICED:
        return Reply(
            _("请写下您注意到的情况（不超过 {limit} 字）。只有关爱室老师和校长能看到。").format(
                limit=NOTICED_LIMIT
            )
        )
    if state == State.URGENCY:
        buttons = [
            Button(_("一般"), f"{URGENCY}{CaseUrgency.NORMAL.value}"),
            Button(_("紧急"), f"{URGENCY}{CaseUrgency.URGENT.value}"),
        ]
        note = _("紧急：学生可能有安全风险，需要关爱室马上处理（夜间也会立即通知）。")
        return Reply.with_buttons(_("情况紧急吗？") + "\n" + note, [buttons])
    pupil = await PICKER.pupil(ctx, draft.student_id)
    lines = [
        _("请核对转介内容："),
        _("学生：{value}").format(value=pupil.label if pupil else ""),
        _("来源：{value}").format(value=_(INTAKE_LABELS[draft.intake or CaseIntake.REFERRAL])),
        _("情况：{value}").format(value=draft.noticed),
        _("紧急程度：{value}").format(
            value=_("紧急") if draft.urgency is CaseUrgency.URGENT else _("一般")
        ),
    ]
    buttons = [Button(_("提交"), SUBMIT), Button(_("取消"), CANCEL)]
    return Reply.with_buttons("\n".join(lines), [buttons])


async def ask(state: State, draft: ReferDraft, ctx: Context, *notes: str) -> Transition:
    reply = await question(state, draft, ctx)
    if notes:
        reply = Reply.with_buttons("\n".join([*notes, reply.text]), reply.buttons)
    return Transition.to(state, reply)


async def proceed(draft: ReferDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft, ctx), draft, ctx, *notes)


async def start(inbound: Inbound, draft: ReferDraft, ctx: Context, args: str) -> Transition:
    """`/refer`, `/refer 张小明` (searches the school), `/refer 进展` (the stages)."""
    typed = args.strip()
    if typed.lower() in STATUS_WORDS:
        return Transition.end(await show_stages(ctx))
    if not typed:
        return await proceed(draft, ctx)
    outcome = await PICKER.begin(draft.picker, ctx, typed)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        return await proceed(draft, ctx, ctx.t._("学生：{value}").format(value=outcome.pupil.label))
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return await ask(State.STUDENT, draft, ctx, *outcome.notes)


async def choose_student(inbound: Inbound, draft: ReferDraft, ctx: Context) -> Transition:
    outcome = await PICKER.answer(inbound, draft.picker, ctx)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        return await proceed(draft, ctx, ctx.t._("学生：{value}").format(value=outcome.pupil.label))
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return await ask(State.STUDENT, draft, ctx, *outcome.notes)


async def choose_intake(inbound: Inbound, draft: ReferDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, INTAKE)
    offered = {CaseIntake.REFERRAL.value, CaseIntake.SELF.value}
    if value not in offered or not records_own_requests(ctx):
        return await ask(State.INTAKE, draft, ctx, button_note(inbound, ctx))
    draft.intake = CaseIntake(value)
    return await proceed(draft, ctx)


async def tell_noticed(inbound: Inbound, draft: ReferDraft, ctx: Context) -> Transition:
    text = (inbound.text or "").strip()
    if inbound.callback is not None or not text:
        return await ask(State.NOTICED, draft, ctx, ctx.t._("请用文字写下您注意到的情况。"))
    if len(text) > NOTICED_LIMIT:
        return await ask(State.NOTICED, draft, ctx, too_long(ctx, NOTICED_LIMIT, len(text)))
    draft.noticed = text
    return await proceed(draft, ctx)


async def choose_urgency(inbound: Inbound, draft: ReferDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, URGENCY)
    if value not in {u.value for u in CaseUrgency}:
        return await ask(State.URGENCY, draft, ctx, button_note(inbound, ctx))
    draft.urgency = CaseUrgency(value)
    return await proceed(draft, ctx)


async def confirm(inbound: Inbound, draft: ReferDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback == CANCEL:
        return Transition.end(Reply(_("已取消，没有转介。")))
    if inbound.callback != SUBMIT:
        return await ask(State.CONFIRM, draft, ctx, button_note(inbound, ctx))
    pupil = await PICKER.pupil(ctx, draft.student_id)
    if pupil is None:
        return Transition.end(Reply(_("找不到这位学生（可能已不在本校名册中），本次没有转介。")))
    intake = draft.intake or CaseIntake.REFERRAL
    if intake is CaseIntake.SELF and not records_own_requests(ctx):
        intake = CaseIntake.REFERRAL
    case = await record_case(
        ctx,
        student_id=pupil.id,
        student_label=pupil.label,
        intake=intake,
        urgency=draft.urgency or CaseUrgency.NORMAL,
        noticed=draft.noticed,
    )
    text = "\n".join(
        [
            _("已转介到关爱室（{student}），状态：已受理。关爱室老师会跟进。").format(
                student=pupil.label
            ),
            _(RECEIVED_NOTE),
        ]
    )
    return Transition.end(Reply.with_buttons(text, stage_button(ctx, case.id or 0)))


STEPS = {
    State.STUDENT: choose_student,
    State.INTAKE: choose_intake,
    State.NOTICED: tell_noticed,
    State.URGENCY: choose_urgency,
    State.CONFIRM: confirm,
}

REFER_FLOW = Flow(
    name="refer",
    draft_type=ReferDraft,
    steps=with_typed_labels(STEPS, question, except_in=(State.STUDENT, State.NOTICED)),
    start=start,
    commands=("refer", "转介"),
    allowed=gate(Action.CASE_REFER),
    describe=N_("把需要帮助的学生转介到关爱室（保密）；/refer 进展 查看处理阶段"),
    draft_noun=N_("关爱室转介"),
)
