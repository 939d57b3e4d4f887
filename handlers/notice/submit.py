"""提交: check everything again, then save the notice in one transaction.

A head teacher's notice goes to 德育处 for approval; an admin's own notice is approved by that
admin at once (recorded) and, unless it is scheduled, published in the same transaction. A head
teacher beyond the hourly limit of messages to staff (`handlers.notice.limits`) is told when to
submit again and stays at the summary: nothing is saved or sent.
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers.context import Context
from handlers.notice import questions as q
from handlers.notice.approval import request_approval
from handlers.notice.draft import NoticeDraft
from handlers.notice.limits import check_message_to_staff, record_refusal, submission_refusal
from handlers.notice.publish import publication_text, publish_now
from handlers.notice.render import format_moment, title_line
from handlers.notice.states import State, next_state
from handlers.notice.timing import Field, time_problems
from handlers.types import Reply, Transition
from models.accounts.tables import PersonKind
from models.notices.queries import AttachmentSpec, NoticeSpec, audience_size, submit_notice
from models.notices.tables import AudienceKind
from models.roster.tables import Student
from models.school.tables import SchoolClass

#: The answer to clear when a time rule is broken at submit (it is asked again).
_CLEAR_FIRST = {
    "deadline_past": Field.DEADLINE,
    "publish_past": Field.PUBLISH_AT,
    "deadline_before_publish": Field.DEADLINE,
    "display_before_publish": Field.DISPLAY,
    "display_before_deadline": Field.DISPLAY,
}


async def audience_allowed(draft: NoticeDraft, ctx: Context, own: list[SchoolClass]) -> bool:
    """A head teacher addresses only their own classes, or students of them."""
    if q.is_admin(ctx):
        return True
    own_ids = {k.id for k in own}
    if draft.audience_kind is AudienceKind.CLASSES:
        return bool(draft.audience_ids) and set(draft.audience_ids) <= own_ids
    if draft.audience_kind is AudienceKind.STUDENTS:
        query = select(col(Student.id)).where(
            col(Student.id).in_(draft.audience_ids), col(Student.class_id).in_(list(own_ids))
        )
        found = set((await ctx.session.exec(query)).all())
        return bool(draft.audience_ids) and found == set(draft.audience_ids)
    return False


def _clear(draft: NoticeDraft, field: Field) -> None:
    if field is Field.DEADLINE:
        draft.deadline = None
    elif field is Field.PUBLISH_AT:
        draft.publish_at = None
    else:
        draft.display_until = None


async def submit(draft: NoticeDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    staff = q.staff_of(ctx)
    admin = q.is_admin(ctx)
    own = [] if admin else await q.sendable_classes(ctx)
    if not admin and not own:
        return Transition.end(Reply(_("只有班主任和德育处可以给家长发通知。这条通知没有保存。")))
    if next_state(draft) is not State.SUMMARY:
        return await q.proceed(draft, ctx)
    if not await audience_allowed(draft, ctx, own):
        draft.forget_audience()
        note = _("发送对象超出了您担任班主任的班级，请重新选择。")
        return await q.ask(State.AUDIENCE, draft, ctx, note)
    found = time_problems(
        now=ctx.now,
        zone=ctx.zone,
        deadline=draft.deadline if draft.receipt_required else None,
        publish_at=None if draft.publish_now else draft.publish_at,
        display_until=draft.display_until,
    )
    if found:
        note = q.time_note(ctx, found[0], draft)
        _clear(draft, _CLEAR_FIRST[found[0].code])
        return await q.proceed(draft, ctx, note)
    assert draft.kind is not None and draft.audience_kind is not None
    assert draft.title is not None and draft.body is not None
    assert draft.display_until is not None
    count = await audience_size(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        kind=draft.audience_kind,
        ids=draft.audience_ids,
    )
    if count == 0:
        draft.forget_audience()
        note = _("所选范围内没有在读学生，无法发送。请重新选择发送对象。")
        return await q.ask(State.AUDIENCE, draft, ctx, note)
    if not admin:
        sender = (PersonKind.STAFF, staff.id or 0)
        verdict = await check_message_to_staff(
            ctx.session, sender=sender, now=ctx.now, rules=ctx.rules
        )
        if not verdict.allowed:
            await record_refusal(ctx.session, sender=sender, subject="notice", verdict=verdict)
            note = submission_refusal(ctx.t, verdict, zone=ctx.zone, rules=ctx.rules)
            return await q.ask(State.SUMMARY, draft, ctx, note)
    spec = NoticeSpec(
        kind=draft.kind,
        title=draft.title,
        body=draft.body,
        audience_kind=draft.audience_kind,
        audience_ids=tuple(draft.audience_ids),
        receipt_required=bool(draft.receipt_required),
        receipt_deadline=draft.deadline if draft.receipt_required else None,
        publish_at=None if draft.publish_now else draft.publish_at,
        display_until=draft.display_until,
        attachments=tuple(
            AttachmentSpec(f.kind, f.channel, f.ref, f.name, f.size) for f in draft.files
        ),
    )
    notice = await submit_notice(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        author_id=staff.id or 0,
        spec=spec,
        now=ctx.now,
        zone=ctx.zone,
        self_approved=admin,
    )
    if admin:
        if notice.publish_at is None:
            publication = await publish_now(ctx, notice.id or 0)
            assert publication is not None
            return Transition.end(Reply(publication_text(ctx.t, publication)))
        text = _("{title} 已由您批准，将于 {time} 发给家长。").format(
            title=title_line(ctx.t, notice), time=format_moment(ctx.t, notice.publish_at, ctx.zone)
        )
        return Transition.end(Reply(text))
    notified = await request_approval(ctx, notice)
    text = _("已提交德育处审批：《{title}》。批准或退回时我会通知您。").format(title=notice.title)
    if notified == 0:
        text += "\n" + _("德育处目前没有人绑定账号，收不到审批请求，请当面联系德育处。")
    return Transition.end(Reply(text))
