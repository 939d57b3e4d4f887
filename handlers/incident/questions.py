"""Each state's question, rebuilt from the draft every time (so asking again after bad input,
after a restart or after 修改 shows the same buttons), and `proceed`: ask what comes next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context
from handlers.i18n import N_
from handlers.incident.draft import IncidentDraft
from handlers.incident.render import WHERE_CHOICES, kind_label
from handlers.incident.states import State, next_state
from handlers.student_picker import SCHOOL_PICKER, Empty
from handlers.summary import Summary
from handlers.types import Button, Reply, Transition
from models.incidents.tables import IncidentKind

#: Longest answers (the columns of `Incident`).
WHAT_LIMIT = 2000
WHERE_LIMIT = 500

# Callback data (the picker owns cls:/stu:/page:/grade: in the student state).
KIND, WHERE = "kind:", "where:"
REPORT, BACK = "report", "back"
FIELD, NO_PHOTO = "field:", "photo:drop"

#: What 修改 offers.
EDITABLE: tuple[State, ...] = (State.STUDENT, State.KIND, State.WHAT, State.WHERE_NOW)
FIELD_NAMES: dict[State, str] = {
    State.STUDENT: N_("学生"),
    State.KIND: N_("类别"),
    State.WHAT: N_("经过"),
    State.WHERE_NOW: N_("现在情况"),
}

#: The summary's 确认上报 / 修改 / 取消.
SUMMARY = Summary(N_("确认上报"), REPORT, cancelled=N_("已取消，这次突发事件没有上报。"))

#: The incident picker: any student of the school (see `flow.py` for why).
PICKER = SCHOOL_PICKER

Question = tuple[str, list[list[Button]]]


async def ask(state: State, draft: IncidentDraft, ctx: Context, *notes: str) -> Transition:
    """Ask `state`'s question with `notes` (already translated) above it."""
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: IncidentDraft, ctx: Context, *notes: str) -> Transition:
    """Ask the next question the draft needs; a school without students ends the flow."""
    state = next_state(draft)
    if state is State.STUDENT and draft.picker.listing_classes:
        opened = await PICKER.begin(draft.picker, ctx)
        if isinstance(opened, Empty):
            return Transition.end(Reply("\n".join([*notes, opened.text])))
    return await ask(state, draft, ctx, *notes)


async def question(state: State, draft: IncidentDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def _student(draft: IncidentDraft, ctx: Context) -> Question:
    text, rows = await PICKER.question(draft.picker, ctx)
    if draft.picker.listing_classes:
        text = ctx.t._("报告突发事件：是哪一位学生？") + "\n" + text
    return text, rows


async def _kind(draft: IncidentDraft, ctx: Context) -> Question:
    buttons = [Button(kind_label(ctx.t, k), f"{KIND}{k.value}") for k in IncidentKind]
    return ctx.t._("请选择事件类别："), [buttons]


async def _what(draft: IncidentDraft, ctx: Context) -> Question:
    _ = ctx.t._
    lines = [
        _("请简要说明发生了什么：时间、地点、经过（最多 {limit} 字）。").format(limit=WHAT_LIMIT)
    ]
    if ctx.channel == "telegram":
        lines.append(_("也可以发一张照片，照片的说明文字会作为经过。"))
    if draft.photo:
        lines.append(_("已收到照片。"))
    if draft.what:
        lines.append(_("当前内容：{value}").format(value=draft.what))
    return "\n".join(lines), []


async def _where_now(draft: IncidentDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(label), f"{WHERE}{i}") for i, label in enumerate(WHERE_CHOICES)]
    text = _(
        "孩子现在在哪里？学校已经做了什么？请点选，或直接输入（最多 {limit} 字），"
        "例如：已送医院，体育老师陪同。"
    ).format(limit=WHERE_LIMIT)
    return text, [buttons[:2], buttons[2:]]


async def _confirm(draft: IncidentDraft, ctx: Context) -> Question:
    _ = ctx.t._
    pupil = await PICKER.pupil(ctx, draft.student_id)
    blank = _("（未填写）")
    lines = [
        _("请核对突发事件报告："),
        _("学生：{value}").format(value=pupil.label if pupil else blank),
        _("类别：{kind}").format(kind=kind_label(ctx.t, draft.kind) if draft.kind else blank),
        _("经过：{what}").format(what=draft.what or blank),
        _("照片：{value}").format(value=_("已附 1 张") if draft.photo else _("无")),
        _("现在情况：{where}").format(where=_(draft.where_now) if draft.where_now else blank),
        _("确认上报后，将立即通知家长、班主任和德育处（夜间也立即发送）。"),
    ]
    return "\n".join(lines), [SUMMARY.buttons(ctx)]


async def _edit(draft: IncidentDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(FIELD_NAMES[s]), f"{FIELD}{s.value}") for s in EDITABLE]
    extra = [Button(_("删除照片"), NO_PHOTO)] if draft.photo else []
    return _("要修改哪一项？"), [buttons, [*extra, Button(_("返回核对"), BACK)]]


QuestionBuilder = Callable[[IncidentDraft, Context], Awaitable[Question]]

_QUESTIONS: dict[State, QuestionBuilder] = {
    State.STUDENT: _student,
    State.KIND: _kind,
    State.WHAT: _what,
    State.WHERE_NOW: _where_now,
    State.CONFIRM: _confirm,
    State.EDIT: _edit,
}
