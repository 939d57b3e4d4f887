"""The compose flow's steps: each reads one answer, checks it, and asks what comes next.

Bad input never moves the flow on: the same question comes back with a note saying why. Nothing
is written to the database before 提交 (`submit`), and then everything in one transaction.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from handlers.context import Context
from handlers.flow import Step
from handlers.hints import button_note, invalid, too_long
from handlers.notice import questions as q
from handlers.notice.draft import FileDraft, NoticeDraft
from handlers.notice.labels import FIELD_NAMES
from handlers.notice.states import State
from handlers.notice.submit import submit
from handlers.notice.timing import Field, problems_with, time_problems
from handlers.notice.when import local_moment, parse_typed
from handlers.student_picker import Ask, Empty, Picked
from handlers.types import Inbound, Transition, callback_rest
from models.notices.queries import (
    BODY_LIMIT,
    FILE_SIZE_LIMIT,
    MAX_ATTACHMENTS,
    TITLE_LIMIT,
    audience_size,
)
from models.notices.tables import COMPOSE_KINDS, AttachmentKind, AudienceKind, NoticeKind

#: A deadline typed without a time is at 18:00; a publication at 8:00.
DEADLINE_TIME = time(18, 0)
PUBLISH_TIME = time(8, 0)
#: Longest text read as a date or time.
WHEN_LIMIT = 40


def _number(text: str | None) -> int | None:
    ok = text is not None and text.isascii() and text.isdigit() and len(text) < 12
    return int(text) if ok and text is not None else None


async def _button_only(
    state: State, inbound: Inbound, draft: NoticeDraft, ctx: Context
) -> Transition:
    return await q.ask(state, draft, ctx, button_note(inbound, ctx))


def refused_times(ctx: Context, draft: NoticeDraft, field: Field) -> list[str]:
    """Notes for every rule the draft's times break that involve `field`."""
    found = time_problems(
        now=ctx.now,
        zone=ctx.zone,
        deadline=draft.deadline if draft.receipt_required else None,
        publish_at=None if draft.publish_now else draft.publish_at,
        display_until=draft.display_until,
    )
    return [q.time_note(ctx, p, draft) for p in problems_with(field, found)]


def read_when(ctx: Context, text: str, default: time) -> datetime | None:
    if len(text) > WHEN_LIMIT:
        return None
    typed = parse_typed(text, today=ctx.today)
    return None if typed is None else local_moment(typed, zone=ctx.zone, default=default)


def unreadable_time(ctx: Context) -> str:
    return ctx.t._(
        "没能看懂这个时间。请按 11月20日 18:00 或 2026-11-20 18:00 的格式输入，或点下面的按钮。"
    )


# -- kind, title, body -------------------------------------------------------------------------


async def choose_kind(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.KIND)
    # A meeting's notice is written by /meeting (its time, place and agenda), never here.
    if value not in {k.value for k in COMPOSE_KINDS}:
        return await _button_only(State.KIND, inbound, draft, ctx)
    draft.kind = NoticeKind(value)
    return await q.proceed(draft, ctx)


async def write_title(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    text = " ".join((inbound.text or "").split())
    if inbound.callback is not None or not text:
        return await q.ask(State.TITLE, draft, ctx, ctx.t._("标题不能为空，请用文字输入。"))
    if len(text) > TITLE_LIMIT:
        return await q.ask(State.TITLE, draft, ctx, too_long(ctx, TITLE_LIMIT, len(text)))
    draft.title = text
    return await q.proceed(draft, ctx)


async def write_body(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    text = (inbound.text or "").strip()
    if inbound.callback is not None or not text:
        return await q.ask(State.BODY, draft, ctx, ctx.t._("正文不能为空，请用文字输入。"))
    if len(text) > BODY_LIMIT:
        note = too_long(ctx, BODY_LIMIT, len(text)) + ctx.t._(
            "（完整的长文可以作为文件附上，正文写要点。）"
        )
        return await q.ask(State.BODY, draft, ctx, note)
    draft.body = text
    return await q.proceed(draft, ctx)


# -- attachments -------------------------------------------------------------------------------


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


async def add_files(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback in (q.FILES_SKIP, q.FILES_DONE):
        draft.files_done = True
        return await q.proceed(draft, ctx)
    if inbound.photo is None and inbound.document is None:
        note = _("请直接发送照片或文件；没有附件请点“跳过”。")
        if inbound.callback is not None:
            note = invalid(ctx)
        return await q.ask(State.FILES, draft, ctx, note)
    if len(draft.files) >= MAX_ATTACHMENTS:
        note = _("最多 {limit} 个附件，这个没有添加。").format(limit=MAX_ATTACHMENTS)
        return await q.ask(State.FILES, draft, ctx, note)
    if inbound.document is not None:
        document = inbound.document
        if document.size is not None and document.size > FILE_SIZE_LIMIT:
            note = _(
                "文件“{name}”有 {size}，超过 20 MB，无法作为附件发送。请压缩或拆分后再发送，或点“跳过”。"
            ).format(name=document.name or _("文件"), size=_size_text(document.size))
            return await q.ask(State.FILES, draft, ctx, note)
        draft.files.append(
            FileDraft(
                kind=AttachmentKind.DOCUMENT,
                channel=document.channel,
                ref=document.ref,
                name=document.name[:100],
                size=document.size,
            )
        )
    elif inbound.photo is not None:
        draft.files.append(
            FileDraft(kind=AttachmentKind.PHOTO, channel=inbound.channel, ref=inbound.photo)
        )
    return await q.ask(State.FILES, draft, ctx)


# -- audience ----------------------------------------------------------------------------------


async def _complete_audience(draft: NoticeDraft, ctx: Context) -> Transition:
    """The audience is chosen: refuse it at once when nobody is in it."""
    count = await audience_size(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        kind=draft.audience_kind or AudienceKind.SCHOOL,
        ids=draft.audience_ids,
    )
    if count == 0:
        draft.forget_audience()
        note = ctx.t._("所选范围内没有在读学生，无法发送。请重新选择发送对象。")
        return await q.ask(State.AUDIENCE, draft, ctx, note)
    draft.audience_done = True
    return await q.proceed(draft, ctx)


async def choose_audience(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    data = inbound.callback
    admin = q.is_admin(ctx)
    if data == q.AUD_SCHOOL and admin:
        draft.audience_kind, draft.audience_ids = AudienceKind.SCHOOL, []
        return await _complete_audience(draft, ctx)
    if data == q.AUD_GRADES and admin:
        draft.audience_kind, draft.audience_ids = AudienceKind.GRADES, []
        return await q.proceed(draft, ctx)
    if data == q.AUD_CLASSES:
        draft.audience_kind, draft.audience_ids = AudienceKind.CLASSES, []
        return await q.proceed(draft, ctx)
    if data == q.AUD_OWN and not admin:
        classes = await q.sendable_classes(ctx)
        draft.audience_kind = AudienceKind.CLASSES
        draft.audience_ids = [k.id or 0 for k in classes]
        return await _complete_audience(draft, ctx)
    if data == q.AUD_STUDENTS:
        draft.audience_kind, draft.audience_ids = AudienceKind.STUDENTS, []
        outcome = await q.picker_for(ctx).begin(draft.picker, ctx)
        if isinstance(outcome, Empty):
            draft.forget_audience()
            return await q.ask(State.AUDIENCE, draft, ctx, outcome.text)
        return await q.proceed(draft, ctx)
    return await _button_only(State.AUDIENCE, inbound, draft, ctx)


async def toggle(state: State, inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    """Grades or classes: each press adds or removes one; 完成 closes the choice."""
    data = inbound.callback
    if data == q.AUD_BACK:
        draft.forget_audience()
        return await q.ask(State.AUDIENCE, draft, ctx)
    if data == q.DONE:
        if not draft.audience_ids:
            note = ctx.t._("请至少选择一项，再点“完成”。")
            return await q.ask(state, draft, ctx, note)
        return await _complete_audience(draft, ctx)
    value = _number(callback_rest(data, q.TOGGLE))
    if value is None:
        return await _button_only(state, inbound, draft, ctx)
    classes = await q.sendable_classes(ctx)
    allowed = {k.grade for k in classes} if state is State.GRADES else {k.id for k in classes}
    if value not in allowed:
        return await q.ask(state, draft, ctx, invalid(ctx))
    if value in draft.audience_ids:
        draft.audience_ids.remove(value)
    else:
        draft.audience_ids.append(value)
    return await q.ask(state, draft, ctx)


async def choose_grades(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    return await toggle(State.GRADES, inbound, draft, ctx)


async def choose_classes(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    return await toggle(State.CLASSES, inbound, draft, ctx)


async def choose_students(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    """Students one by one through the picker (a second pick removes one); 完成 closes."""
    _ = ctx.t._
    if inbound.callback == q.AUD_BACK:
        draft.forget_audience()
        return await q.ask(State.AUDIENCE, draft, ctx)
    typed = (inbound.text or "").strip().strip("。.!！") if inbound.callback is None else ""
    if inbound.callback == q.DONE or typed in q.DONE_WORDS:
        if not draft.audience_ids:
            return await q.ask(State.STUDENTS, draft, ctx, _("请至少选择一位学生，再点“完成”。"))
        return await _complete_audience(draft, ctx)
    # Stay in the class being shown after a pick, so several can be chosen in a row.
    class_id, page = draft.picker.class_id, draft.picker.page
    picker = q.picker_for(ctx)
    outcome = await picker.answer(inbound, draft.picker, ctx)
    if isinstance(outcome, Empty):
        draft.forget_audience()
        return await q.ask(State.AUDIENCE, draft, ctx, outcome.text)
    if isinstance(outcome, Ask):
        return await q.ask(State.STUDENTS, draft, ctx, *outcome.notes)
    assert isinstance(outcome, Picked)
    pupil = outcome.pupil
    if pupil.id in draft.audience_ids:
        draft.audience_ids.remove(pupil.id)
        note = _("已移除：{label}").format(label=pupil.label)
    else:
        draft.audience_ids.append(pupil.id)
        note = _("已加入：{label}").format(label=pupil.label)
    if class_id == pupil.student.class_id:
        draft.picker.class_id, draft.picker.page = class_id, page
    return await q.ask(State.STUDENTS, draft, ctx, note)


# -- receipt, deadline, publication, display window ----------------------------------------------


async def choose_receipt(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    if inbound.callback == q.RECEIPT_YES:
        draft.receipt_required = True
    elif inbound.callback == q.RECEIPT_NO:
        draft.receipt_required, draft.deadline = False, None
    else:
        return await _button_only(State.RECEIPT, inbound, draft, ctx)
    return await q.proceed(draft, ctx)


async def _choose_moment(
    inbound: Inbound,
    draft: NoticeDraft,
    ctx: Context,
    *,
    field: Field,
    state: State,
    days: int | None,
    at: time,
) -> Transition:
    """The deadline or the publication time (the draft field named like `field`): a button's
    number of `days` from today at `at`, or a typed moment; then checked against the others."""
    if days is not None:
        moment = datetime.combine(ctx.today + timedelta(days=days), at, tzinfo=ctx.zone)
    elif inbound.callback is None and (inbound.text or "").strip():
        found = read_when(ctx, (inbound.text or "").strip(), at)
        if found is None:
            return await q.ask(state, draft, ctx, unreadable_time(ctx))
        moment = found
    else:
        return await _button_only(state, inbound, draft, ctx)
    setattr(draft, field.value, moment)
    notes = refused_times(ctx, draft, field)
    if notes:
        setattr(draft, field.value, None)
        return await q.ask(state, draft, ctx, *notes)
    return await q.proceed(draft, ctx)


async def choose_deadline(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    days = _number(callback_rest(inbound.callback, q.DEADLINE_IN))
    return await _choose_moment(
        inbound,
        draft,
        ctx,
        field=Field.DEADLINE,
        state=State.DEADLINE,
        days=days if days in q.DEADLINE_CHOICES else None,
        at=DEADLINE_TIME,
    )


async def choose_publish(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    if inbound.callback == q.PUBLISH_NOW:
        draft.publish_now, draft.publish_at = True, None
        notes = refused_times(ctx, draft, Field.PUBLISH_AT)
        if notes:  # an earlier display window end no longer fits: ask it again
            draft.display_until = None
            return await q.proceed(draft, ctx, *notes)
    elif inbound.callback == q.PUBLISH_LATER:
        draft.publish_now, draft.publish_at = False, None
    else:
        return await _button_only(State.PUBLISH, inbound, draft, ctx)
    return await q.proceed(draft, ctx)


async def choose_publish_at(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    days = _number(callback_rest(inbound.callback, q.PUBLISH_IN))
    return await _choose_moment(
        inbound,
        draft,
        ctx,
        field=Field.PUBLISH_AT,
        state=State.PUBLISH_AT,
        days=days if days == 1 else None,
        at=PUBLISH_TIME,
    )


async def choose_display(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    days = _number(callback_rest(inbound.callback, q.DISPLAY_FOR))
    if days is not None and days in {d for d, _ in q.DISPLAY_CHOICES}:
        day = q.publish_day(draft, ctx) + timedelta(days=days)
    elif inbound.callback is None and (inbound.text or "").strip():
        text = (inbound.text or "").strip()
        typed = parse_typed(text, today=ctx.today) if len(text) <= WHEN_LIMIT else None
        if typed is None:
            note = ctx.t._(
                "没能看懂这个日期。请按 12月1日 或 2026-12-01 的格式输入，或点下面的按钮。"
            )
            return await q.ask(State.DISPLAY, draft, ctx, note)
        day = typed.day
    else:
        return await _button_only(State.DISPLAY, inbound, draft, ctx)
    draft.display_until = day
    notes = refused_times(ctx, draft, Field.DISPLAY)
    if notes:
        draft.display_until = None
        return await q.ask(State.DISPLAY, draft, ctx, *notes)
    return await q.proceed(draft, ctx)


# -- summary and editing -----------------------------------------------------------------------


summary = q.SUMMARY.step(state=State.SUMMARY, edit=State.EDIT, save=submit, ask=q.ask)


async def edit(inbound: Inbound, draft: NoticeDraft, ctx: Context) -> Transition:
    if inbound.callback == q.BACK:
        return await q.ask(State.SUMMARY, draft, ctx)
    value = callback_rest(inbound.callback, q.FIELD)
    field = State(value) if value in {s.value for s in FIELD_NAMES} else None
    if field is None:
        return await _button_only(State.EDIT, inbound, draft, ctx)
    clear_answer(draft, field)
    return await q.proceed(draft, ctx)


def clear_answer(draft: NoticeDraft, field: State) -> None:
    """Forget one answer so that its question is asked again (then the summary comes back)."""
    if field is State.KIND:
        draft.kind = None
    elif field is State.TITLE:
        draft.title = None
    elif field is State.BODY:
        draft.body = None
    elif field is State.FILES:
        draft.files, draft.files_done = [], False
    elif field is State.AUDIENCE:
        draft.forget_audience()
    elif field is State.RECEIPT:
        draft.receipt_required, draft.deadline = None, None
    elif field is State.PUBLISH:
        draft.publish_now, draft.publish_at = None, None
    elif field is State.DISPLAY:
        draft.display_until = None


STEPS: dict[State, Step] = {
    State.KIND: choose_kind,
    State.TITLE: write_title,
    State.BODY: write_body,
    State.FILES: add_files,
    State.AUDIENCE: choose_audience,
    State.GRADES: choose_grades,
    State.CLASSES: choose_classes,
    State.STUDENTS: choose_students,
    State.RECEIPT: choose_receipt,
    State.DEADLINE: choose_deadline,
    State.PUBLISH: choose_publish,
    State.PUBLISH_AT: choose_publish_at,
    State.DISPLAY: choose_display,
    State.SUMMARY: summary,
    State.EDIT: edit,
}
