"""Approval by 德育处: the request with 批准 / 退回 buttons, and what each press does.

Every press is checked again (callback data can be forged): the person must be an admin (德育处)
or the principal of the notice's school, and the notice must still be pending — the first admin
to act decides, a later press only shows what happened. 批准 records the approver, allocates the
文号 and publishes at once when the notice is due; 退回 asks for a reason in a short
conversation (`notice_return`), then tells the author.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from handlers.actions import action_button
from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import LANGUAGES, Translator, translator
from handlers.notice.converse import begin, refused_text, tell
from handlers.notice.publish import delivery_moment, publication_text, publish_now
from handlers.notice.render import (
    REDO,
    approval_buttons,
    describe_audience,
    format_clock,
    format_moment,
    guardian_files,
    notice_card,
    title_line,
)
from handlers.types import Inbound, Reply, Transition
from models.accounts.tables import PersonKind
from models.notices.publishing import Publication
from models.notices.queries import approve_notice, attachments_of, get_notice, return_notice
from models.notices.tables import Notice, NoticeKind, NoticeStatus
from models.roster.queries import staff_with_role
from models.roster.scope import has_whole_school_scope
from models.roster.tables import Staff, StaffRole

RETURN_FLOW = "notice_return"
REASON = "reason"
REASON_LIMIT = 200


def may_approve(ctx: Context) -> bool:
    return ctx.staff is not None and has_whole_school_scope(ctx.staff)


async def approvers(ctx: Context) -> list[Staff]:
    """德育处 admins; the principal when the school has none."""
    school_id = ctx.school.id or 0
    admins = await staff_with_role(session=ctx.session, school_id=school_id, role=StaffRole.ADMIN)
    if admins:
        return admins
    return await staff_with_role(session=ctx.session, school_id=school_id, role=StaffRole.PRINCIPAL)


async def request_approval(ctx: Context, notice: Notice) -> int:
    """Send the notice to every approver with 批准 / 退回; returns the rows queued."""
    author = ctx.staff
    attachments = await attachments_of(session=ctx.session, notice_id=notice.id or 0)
    audiences = {
        language: await describe_audience(
            session=ctx.session,
            t=translator(language),
            school_id=notice.school_id,
            kind=notice.audience_kind,
            ids=notice.audience_ids,
        )
        for language in LANGUAGES
    }

    def render(t: Translator) -> Reply:
        audience, count = audiences.get(t.language, audiences["zh"])
        head = t._("【通知待审批】{name}老师提交了一条通知，请审核：").format(
            name=author.name if author else ""
        )
        if notice.kind is NoticeKind.EMERGENCY:
            head = t._("【紧急通知待审批】") + head
        card = notice_card(
            t,
            notice,
            zone=ctx.zone,
            audience=audience,
            count=count,
            author=author,
            attachments=attachments,
        )
        reply = Reply.with_buttons(f"{head}\n\n{card}", approval_buttons(t, notice))
        # The files themselves, as parents will get them (each channel sends its own files).
        return replace(reply, files=guardian_files(attachments))

    return await tell(
        ctx,
        people=[(PersonKind.STAFF, s.id or 0) for s in await approvers(ctx)],
        key=f"notice-approval:{notice.id}",
        kind="notice_approval",
        render=render,
        due_at=delivery_moment(notice, ctx.now, zone=ctx.zone, rules=ctx.rules),
    )


# -- what a press shows when the notice was already decided ----------------------------------------


async def decided_text(ctx: Context, notice: Notice) -> str:
    """Who decided the notice and when (shown instead of acting twice)."""
    _ = ctx.t._
    title = title_line(ctx.t, notice)
    if notice.status is NoticeStatus.RETURNED:
        who = await ctx.session.get(Staff, notice.returned_by) if notice.returned_by else None
        return _("{title}已由{name}退回（{time}）。理由：{reason}").format(
            title=title,
            name=who.name if who else "",
            time=format_clock(notice.returned_at, ctx.zone) if notice.returned_at else "",
            reason=notice.return_reason,
        )
    who = await ctx.session.get(Staff, notice.approved_by) if notice.approved_by else None
    return _("{title}已由{name}批准（{time}）。").format(
        title=title,
        name=who.name if who else "",
        time=format_clock(notice.approved_at, ctx.zone) if notice.approved_at else "",
    )


async def _pending_notice(argument: str, ctx: Context) -> Notice | Reply:
    """The notice named by a button, if this person may decide it; else what to answer."""
    gone = Reply(ctx.t._("这个按钮已失效。"))
    if not may_approve(ctx) or not argument.isdigit() or len(argument) > 12:
        return gone
    notice = await get_notice(
        session=ctx.session, school_id=ctx.school.id or 0, notice_id=int(argument)
    )
    if notice is None:
        return gone
    if notice.status is not NoticeStatus.PENDING:
        return Reply(await decided_text(ctx, notice), edit=True)
    return notice


# -- 批准 ----------------------------------------------------------------------------------------


def approved_text(
    t: Translator, notice: Notice, publication: Publication | None, zone: ZoneInfo
) -> str:
    if publication is not None:
        return publication_text(t, publication)
    assert notice.publish_at is not None
    return t._("{title} 已批准，将于 {time} 发给家长。").format(
        title=title_line(t, notice), time=format_moment(t, notice.publish_at, zone)
    )


async def approve(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await _pending_notice(argument, ctx)
    if isinstance(found, Reply):
        return [found]
    staff = ctx.staff
    assert staff is not None and staff.id is not None
    notice = await approve_notice(
        session=ctx.session,
        notice_id=found.id or 0,
        approver_id=staff.id,
        now=ctx.now,
        zone=ctx.zone,
    )
    if notice is None:  # another admin was quicker
        fresh = await get_notice(
            session=ctx.session, school_id=ctx.school.id or 0, notice_id=found.id or 0
        )
        assert fresh is not None
        return [Reply(await decided_text(ctx, fresh), edit=True)]
    publication = None
    if notice.publish_at is None or notice.publish_at <= ctx.now:
        publication = await publish_now(ctx, notice.id or 0)
    zone = ctx.zone

    def render(t: Translator) -> Reply:
        head = t._("您的通知已由{name}批准。").format(name=staff.name)
        return Reply(f"{head}\n{approved_text(t, notice, publication, zone)}")

    await tell(
        ctx,
        people=[(PersonKind.STAFF, notice.author_id)],
        key=f"notice-approved:{notice.id}",
        kind="notice_approved",
        render=render,
    )
    done = ctx.t._("✓ 您已批准（{time}）").format(time=format_clock(ctx.now, ctx.zone))
    text = f"{done}\n{approved_text(ctx.t, notice, publication, zone)}"
    return [Reply(text, edit=True)]


# -- 退回 ----------------------------------------------------------------------------------------


class ReturnDraft(BaseModel):
    notice_id: int = 0


async def ask_reason(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await _pending_notice(argument, ctx)
    if isinstance(found, Reply):
        return [found]
    author = await ctx.session.get(Staff, found.author_id)
    prompt = ctx.t._(
        "请输入退回《{title}》的理由（不超过 {limit} 字，会转告{name}老师）；发送 /cancel 放弃。"
    ).format(title=found.title, limit=REASON_LIMIT, name=author.name if author else "")
    return await begin(
        inbound,
        ctx,
        flow=RETURN_FLOW,
        state=REASON,
        draft=ReturnDraft(notice_id=found.id or 0),
        reply=Reply(prompt),
    )


async def write_reason(inbound: Inbound, draft: ReturnDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = " ".join((inbound.text or "").split())
    again = _("请用文字写下退回的理由；发送 /cancel 放弃。")
    refused = refused_text(inbound, text, ctx, state=REASON, limit=REASON_LIMIT, again=again)
    if refused is not None:
        return refused
    found = await _pending_notice(str(draft.notice_id), ctx)
    if isinstance(found, Reply):
        return Transition.end(Reply(found.text))
    staff = ctx.staff
    assert staff is not None and staff.id is not None
    notice = await return_notice(
        session=ctx.session, notice_id=found.id or 0, by=staff.id, reason=text, now=ctx.now
    )
    if notice is None:
        fresh = await get_notice(
            session=ctx.session, school_id=ctx.school.id or 0, notice_id=draft.notice_id
        )
        assert fresh is not None
        return Transition.end(Reply(await decided_text(ctx, fresh)))

    def render(t: Translator) -> Reply:
        message = t._(
            "您的通知《{title}》被{name}退回，没有发给家长。\n理由：{reason}\n"
            "点下面的按钮可以载入原内容，修改后重新提交。"
        ).format(title=notice.title, name=staff.name, reason=text)
        button = action_button(t._("修改后重新提交"), REDO, notice.id or 0)
        return Reply.with_buttons(message, [[button]])

    await tell(
        ctx,
        people=[(PersonKind.STAFF, notice.author_id)],
        key=f"notice-returned:{notice.id}",
        kind="notice_returned",
        render=render,
    )
    author = await ctx.session.get(Staff, notice.author_id)
    return Transition.end(
        Reply(
            _("已退回《{title}》，并已告知{name}老师。").format(
                title=notice.title, name=author.name if author else ""
            )
        )
    )


async def _no_start(inbound: Inbound, draft: ReturnDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请在待审批的通知上点“退回”。")))


NOTICE_RETURN_FLOW = Flow(
    name=RETURN_FLOW,
    draft_type=ReturnDraft,
    steps={REASON: write_reason},
    start=_no_start,
    commands=(),
    allowed=may_approve,
)
