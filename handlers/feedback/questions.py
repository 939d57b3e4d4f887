"""Each state's question, rebuilt from the draft every time (so asking again after bad input,
after a restart or after 修改 shows the same buttons), and `proceed`: ask what comes next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context
from handlers.feedback.draft import FeedbackDraft
from handlers.feedback.render import (
    ANONYMOUS_EXPLAINED,
    about_of,
    kind_label,
    signed_as,
    teacher_label,
)
from handlers.feedback.states import State, next_state
from handlers.i18n import N_
from handlers.summary import Summary
from handlers.types import Button, Reply, Transition
from models.feedback.queries import Targets, targets_of_guardian
from models.feedback.tables import FEEDBACK_TEXT_LIMIT, FeedbackKind

# Callback data.
KIND, TEACHER = "kind:", "teacher:"
ABOUT_CLASS, ABOUT_TEACHER, ABOUT_SCHOOL = "about:class:", "about:teacher", "about:school"
NAMED, ANONYMOUS = "sign:named", "sign:anonymous"
SUBMIT, BACK = "submit", "back"
FIELD, NO_PHOTO = "field:", "photo:drop"

#: What 修改 offers.
EDITABLE: tuple[State, ...] = (State.KIND, State.ABOUT, State.TEXT, State.NAMED)
FIELD_NAMES: dict[State, str] = {
    State.KIND: N_("类别"),
    State.ABOUT: N_("关于"),
    State.TEXT: N_("内容"),
    State.NAMED: N_("实名/匿名"),
}

#: The summary's 提交 / 修改 / 取消.
SUMMARY = Summary(N_("提交"), SUBMIT, cancelled=N_("已取消，这条意见没有提交。"))

Question = tuple[str, list[list[Button]]]


async def targets(ctx: Context) -> Targets:
    """The classes and teachers the guardian may write about (read once per update)."""
    guardian = ctx.guardian
    guardian_id = guardian.id or 0 if guardian is not None else 0

    async def read() -> Targets:
        return await targets_of_guardian(ctx.session, guardian_id=guardian_id)

    return await ctx.cached(("feedback-targets", guardian_id), read)


async def ask(state: State, draft: FeedbackDraft, ctx: Context, *notes: str) -> Transition:
    """Ask `state`'s question with `notes` (already translated) above it."""
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: FeedbackDraft, ctx: Context, *notes: str) -> Transition:
    """Ask the next question the draft needs."""
    return await ask(next_state(draft), draft, ctx, *notes)


async def question(state: State, draft: FeedbackDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def _kind(draft: FeedbackDraft, ctx: Context) -> Question:
    buttons = [Button(kind_label(ctx.t, k), f"{KIND}{k.value}") for k in FeedbackKind]
    return ctx.t._("您想向学校反馈什么？请选择："), [buttons]


async def _about(draft: FeedbackDraft, ctx: Context) -> Question:
    _ = ctx.t._
    found = await targets(ctx)
    classes = [Button(c.name, f"{ABOUT_CLASS}{c.class_id}") for c in found.classes]
    others = [Button(_("老师"), ABOUT_TEACHER)] if found.teachers else []
    others.append(Button(_("学校"), ABOUT_SCHOOL))
    return _("是关于孩子的班级、某位老师，还是学校？"), [classes, others]


async def _teacher(draft: FeedbackDraft, ctx: Context) -> Question:
    found = await targets(ctx)
    rows = [[Button(teacher_label(ctx.t, t), f"{TEACHER}{t.staff_id}")] for t in found.teachers]
    return ctx.t._("是关于哪位老师？"), rows


async def _text(draft: FeedbackDraft, ctx: Context) -> Question:
    _ = ctx.t._
    lines = [_("请写下您的意见（最多 {limit} 字）。").format(limit=FEEDBACK_TEXT_LIMIT)]
    lines.append(_("也可以发一张照片，照片的说明文字会作为意见内容。"))
    if draft.photo:
        lines.append(_("已收到照片。"))
    if draft.text:
        lines.append(_("当前内容：{value}").format(value=draft.text))
    return "\n".join(lines), []


async def _named(draft: FeedbackDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = "\n".join([_("实名还是匿名提交？"), _(ANONYMOUS_EXPLAINED)])
    return text, [[Button(_("实名"), NAMED), Button(_("匿名"), ANONYMOUS)]]


async def _confirm(draft: FeedbackDraft, ctx: Context) -> Question:
    _ = ctx.t._
    blank = _("（未填写）")
    found = await targets(ctx)
    about = blank
    if draft.about is not None:
        about = about_of(ctx.t, draft.about, found, draft.about_class_id, draft.about_staff_id)
    signed = signed_as(ctx.t, draft.anonymous) if draft.anonymous is not None else blank
    lines = [
        _("请核对您的意见："),
        _("类别：{kind}").format(kind=kind_label(ctx.t, draft.kind) if draft.kind else blank),
        _("关于：{about}").format(about=about),
        _("内容：{text}").format(text=draft.text or blank),
        _("照片：{value}").format(value=_("已附 1 张") if draft.photo else _("无")),
        _("署名：{value}").format(value=signed),
    ]
    return "\n".join(lines), [SUMMARY.buttons(ctx)]


async def _edit(draft: FeedbackDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(FIELD_NAMES[s]), f"{FIELD}{s.value}") for s in EDITABLE]
    extra = [Button(_("删除照片"), NO_PHOTO)] if draft.photo else []
    return _("要修改哪一项？"), [buttons, [*extra, Button(_("返回核对"), BACK)]]


QuestionBuilder = Callable[[FeedbackDraft, Context], Awaitable[Question]]

_QUESTIONS: dict[State, QuestionBuilder] = {
    State.KIND: _kind,
    State.ABOUT: _about,
    State.TEACHER: _teacher,
    State.TEXT: _text,
    State.NAMED: _named,
    State.CONFIRM: _confirm,
    State.EDIT: _edit,
}
