"""One step per state: read the answer, check it, fill the draft, ask what comes next.

Every bad answer (text where a button is expected, an unknown or forged button, a student not
of this school, an empty or over-long text) gets a clear note and the same question again.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.hints import button_note, invalid, too_long
from handlers.incident import questions as q
from handlers.incident.draft import IncidentDraft
from handlers.incident.questions import PICKER, ask, proceed
from handlers.incident.render import WHERE_CHOICES
from handlers.incident.report import report
from handlers.incident.states import State
from handlers.student_picker import Empty, Picked
from handlers.types import Inbound, Reply, Transition, callback_rest
from models.incidents.tables import IncidentKind


async def _button_only(
    state: State, inbound: Inbound, draft: IncidentDraft, ctx: Context
) -> Transition:
    return await ask(state, draft, ctx, button_note(inbound, ctx))


def _take_photo(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> bool:
    """Keep a photo sent with the answer (one per report: a new one replaces the old)."""
    if not inbound.photo:
        return False
    draft.photo, draft.photo_channel = inbound.photo, ctx.channel
    return True


async def choose_student(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> Transition:
    outcome = await PICKER.answer(inbound, draft.picker, ctx)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        return await proceed(draft, ctx, ctx.t._("学生：{value}").format(value=outcome.pupil.label))
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return await ask(State.STUDENT, draft, ctx, *outcome.notes)


async def choose_kind(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.KIND)
    if value not in {k.value for k in IncidentKind}:
        return await _button_only(State.KIND, inbound, draft, ctx)
    draft.kind = IncidentKind(value)
    return await proceed(draft, ctx)


async def tell_what(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback is not None:
        return await ask(State.WHAT, draft, ctx, invalid(ctx))
    photo = _take_photo(inbound, draft, ctx)
    text = (inbound.text or "").strip()
    if not text:
        note = _("请再用文字简要说明发生了什么。") if photo else _("请用文字说明发生了什么。")
        return await ask(State.WHAT, draft, ctx, note)
    if len(text) > q.WHAT_LIMIT:
        return await ask(State.WHAT, draft, ctx, too_long(ctx, q.WHAT_LIMIT, len(text)))
    draft.what = text
    return await proceed(draft, ctx)


async def tell_where_now(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback is not None:
        index = callback_rest(inbound.callback, q.WHERE)
        if index is None or not index.isdigit() or int(index) >= len(WHERE_CHOICES):
            return await ask(State.WHERE_NOW, draft, ctx, invalid(ctx))
        draft.where_now = WHERE_CHOICES[int(index)]
        return await proceed(draft, ctx)
    photo = _take_photo(inbound, draft, ctx)
    text = (inbound.text or "").strip()
    if not text:
        note = _("已收到照片。") if photo else _("请点选下面的选项，或直接输入孩子现在的情况。")
        return await ask(State.WHERE_NOW, draft, ctx, note)
    if len(text) > q.WHERE_LIMIT:
        return await ask(State.WHERE_NOW, draft, ctx, too_long(ctx, q.WHERE_LIMIT, len(text)))
    draft.where_now = text
    return await proceed(draft, ctx)


confirm = q.SUMMARY.step(state=State.CONFIRM, edit=State.EDIT, save=report, ask=ask)


async def edit(inbound: Inbound, draft: IncidentDraft, ctx: Context) -> Transition:
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
    if field is State.STUDENT:
        draft.forget_student()
    elif field is State.KIND:
        draft.kind = None
    elif field is State.WHAT:
        draft.what = None
    else:
        draft.where_now = None
    return await proceed(draft, ctx)
