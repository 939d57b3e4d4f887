"""One step per state: read the answer, check it, fill the draft, ask what comes next.

Every bad answer (text where a button is expected, an unknown or forged button, a class or a
teacher not of the guardian's children, an empty or over-long text, a file) gets a clear note
and the same question again; nothing is stored before 提交.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.feedback import questions as q
from handlers.feedback.draft import FeedbackDraft
from handlers.feedback.questions import ask, proceed, targets
from handlers.feedback.states import State
from handlers.feedback.submit import submit
from handlers.hints import button_note, invalid, too_long
from handlers.types import Inbound, Transition, callback_rest
from models.feedback.tables import FEEDBACK_TEXT_LIMIT, FeedbackAbout, FeedbackKind
from models.notices.queries import FILE_SIZE_LIMIT


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


async def _button_only(
    state: State, inbound: Inbound, draft: FeedbackDraft, ctx: Context
) -> Transition:
    return await ask(state, draft, ctx, button_note(inbound, ctx))


async def choose_kind(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.KIND)
    if value not in {k.value for k in FeedbackKind}:
        return await _button_only(State.KIND, inbound, draft, ctx)
    draft.kind = FeedbackKind(value)
    return await proceed(draft, ctx)


async def choose_about(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    data = inbound.callback
    found = await targets(ctx)
    if data == q.ABOUT_SCHOOL:
        draft.forget_about()
        draft.about = FeedbackAbout.SCHOOL
        return await proceed(draft, ctx)
    if data == q.ABOUT_TEACHER and found.teachers:
        draft.forget_about()
        draft.about = FeedbackAbout.TEACHER
        return await proceed(draft, ctx)
    klass = found.class_named(_number(callback_rest(data, q.ABOUT_CLASS)))
    if klass is None:
        return await _button_only(State.ABOUT, inbound, draft, ctx)
    draft.forget_about()
    draft.about, draft.about_class_id = FeedbackAbout.CLASS, klass.class_id
    return await proceed(draft, ctx)


async def choose_teacher(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    found = await targets(ctx)
    teacher = found.teacher_named(_number(callback_rest(inbound.callback, q.TEACHER)))
    if teacher is None:
        return await _button_only(State.TEACHER, inbound, draft, ctx)
    draft.about_staff_id = teacher.staff_id
    return await proceed(draft, ctx)


def _file_note(inbound: Inbound, ctx: Context) -> str | None:
    """A file instead of a photo: too big, or not taken (only a photo can go with feedback)."""
    document = inbound.document
    if document is None:
        return None
    if document.size is not None and document.size > FILE_SIZE_LIMIT:
        return ctx.t._(
            "这个文件超过 20 MB，太大了，没有收下。请直接发送照片（不要以文件形式发送），或只写文字。"
        )
    return ctx.t._("意见只能附一张照片，不能附文件。请直接发送照片，或只写文字。")


async def write_text(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback is not None:
        return await ask(State.TEXT, draft, ctx, invalid(ctx))
    refused = _file_note(inbound, ctx)
    if refused is not None:
        return await ask(State.TEXT, draft, ctx, refused)
    text = (inbound.text or "").strip()
    if len(text) > FEEDBACK_TEXT_LIMIT:
        return await ask(State.TEXT, draft, ctx, too_long(ctx, FEEDBACK_TEXT_LIMIT, len(text)))
    if inbound.photo:
        # One photo per feedback: a new one replaces the old.
        draft.photo, draft.photo_channel = inbound.photo, ctx.channel
    if not text:
        if inbound.photo:
            return await ask(State.TEXT, draft, ctx, _("已收到照片。请再用文字写下您的意见。"))
        return await ask(State.TEXT, draft, ctx, _("请用文字写下您的意见。"))
    draft.text = text
    return await proceed(draft, ctx)


async def choose_named(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    if inbound.callback not in (q.NAMED, q.ANONYMOUS):
        return await _button_only(State.NAMED, inbound, draft, ctx)
    draft.anonymous = inbound.callback == q.ANONYMOUS
    return await proceed(draft, ctx)


confirm = q.SUMMARY.step(state=State.CONFIRM, edit=State.EDIT, save=submit, ask=ask)


async def edit(inbound: Inbound, draft: FeedbackDraft, ctx: Context) -> Transition:
    data = inbound.callback
    if data == q.BACK:
        return await ask(State.CONFIRM, draft, ctx)
    if data == q.NO_PHOTO and draft.photo:
        draft.photo, draft.photo_channel = None, ""
        return await ask(State.CONFIRM, draft, ctx, ctx.t._("已删除照片。"))
    value = callback_rest(data, q.FIELD)
    field = State(value) if value in {s.value for s in q.EDITABLE} else None
    if field is None:
        return await _button_only(State.EDIT, inbound, draft, ctx)
    if field is State.KIND:
        draft.kind = None
    elif field is State.ABOUT:
        draft.forget_about()
    elif field is State.TEXT:
        draft.text = None
    else:
        draft.anonymous = None
    return await proceed(draft, ctx)
