"""修改后重新提交: the author of a returned notice opens it in /notice again with every answer
filled in (times that have passed meanwhile are asked again), edits, and submits it as a new
notice; the returned one stays as it was, with its reason."""

from __future__ import annotations

from handlers.context import Context
from handlers.notice import questions as q
from handlers.notice.converse import begin
from handlers.notice.draft import FileDraft, NoticeDraft
from handlers.types import Inbound, Reply
from models.notices.queries import attachments_of, get_notice
from models.notices.tables import Notice, NoticeKind, NoticeStatus

FLOW = "notice"


async def draft_from(ctx: Context, notice: Notice) -> NoticeDraft:
    """The notice's answers as a draft; a deadline, publication time or last day already past
    is left out, so that question comes again."""
    attachments = await attachments_of(session=ctx.session, notice_id=notice.id or 0)
    deadline = notice.receipt_deadline
    if deadline is not None and deadline <= ctx.now:
        deadline = None
    publish_now: bool | None = True
    publish_at = notice.publish_at
    if publish_at is not None:
        publish_now = False if publish_at > ctx.now else None
        publish_at = publish_at if publish_at > ctx.now else None
    display = notice.display_until if notice.display_until >= ctx.today else None
    return NoticeDraft(
        kind=notice.kind,
        title=notice.title,
        body=notice.body,
        files=[
            FileDraft(kind=a.kind, channel=a.channel, ref=a.file_ref, name=a.filename, size=a.size)
            for a in attachments
        ],
        files_done=True,
        audience_kind=notice.audience_kind,
        audience_ids=list(notice.audience_ids),
        audience_done=True,
        receipt_required=notice.receipt_required,
        deadline=deadline,
        publish_now=publish_now,
        publish_at=publish_at,
        display_until=display,
    )


async def redo(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """Only the author, only a returned notice; anything else is a stale or forged button."""
    gone = [Reply(ctx.t._("这个按钮已失效。"))]
    if ctx.staff is None or not argument.isdigit() or len(argument) > 12:
        return gone
    notice = await get_notice(
        session=ctx.session, school_id=ctx.school.id or 0, notice_id=int(argument)
    )
    if notice is None or notice.author_id != ctx.staff.id:
        return gone
    if notice.status is not NoticeStatus.RETURNED:
        return gone
    if notice.kind is NoticeKind.MEETING:
        return [Reply(ctx.t._("会议通知被退回后，请发送 /meeting 重新安排这次会议。"))]
    draft = await draft_from(ctx, notice)
    note = ctx.t._("已载入被退回的通知《{title}》，请修改后提交（会作为一条新通知送审）。")
    transition = await q.proceed(draft, ctx, note.format(title=notice.title))
    assert transition.next_state is not None
    return await begin(
        inbound,
        ctx,
        flow=FLOW,
        state=transition.next_state,
        draft=draft,
        reply=transition.replies[-1],
    )
