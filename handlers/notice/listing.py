"""`/notices` (通知列表): one command for everyone. A guardian sees their current notices and
what they confirmed, for all their children; staff see the tracking view of
`handlers.notice.staff_view` (its draft type and steps are this flow's)."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import N_
from handlers.notice import staff_view
from handlers.notice.render import SHOW, format_clock, title_line
from handlers.types import Button, Inbound, Reply, Transition
from models.notices.receipts import GuardianNotice, notices_of_guardian

#: Notices listed at most (the newest).
LIST_LIMIT = 10


def guardian_list(ctx: Context, notices: list[GuardianNotice]) -> Reply:
    _ = ctx.t._
    if not notices:
        return Reply(_("目前没有需要您查看的通知。"))
    lines = [_("您的通知（{count} 条，最新的在前）：").format(count=len(notices))]
    buttons: list[list[Button]] = []
    for index, entry in enumerate(notices, start=1):
        notice = entry.notice
        lines.append("")
        lines.append(f"{index}. {title_line(ctx.t, notice)}")
        for receipt in entry.children:
            name = f"{receipt.child.student.name}（{receipt.child.klass.name}）"
            if not notice.receipt_required:
                state = _("无需回执")
            elif receipt.confirmed_at is not None:
                state = _("✓ 已确认（{time}）").format(
                    time=format_clock(receipt.confirmed_at, ctx.zone)
                )
            else:
                state = _("未确认")
            lines.append(f"   {name}：{state}")
        buttons.append(
            [action_button(_("查看第 {index} 条").format(index=index), SHOW, notice.id or 0)]
        )
    lines += ["", _("点“查看”可以再看全文并确认收到。")]
    return Reply.with_buttons("\n".join(lines), buttons)


async def start(
    inbound: Inbound, draft: staff_view.StaffNoticesDraft, ctx: Context, args: str
) -> Transition:
    if ctx.staff is not None:
        return await staff_view.start(inbound, draft, ctx, args)
    if ctx.guardian is None:
        return Transition.end(Reply(ctx.t._("这项功能只对本校教师和家长开放。")))
    notices = await notices_of_guardian(
        session=ctx.session, guardian_id=ctx.guardian.id or 0, limit=LIST_LIMIT
    )
    return Transition.end(guardian_list(ctx, notices))


def anyone_bound(ctx: Context) -> bool:
    return ctx.staff is not None or ctx.guardian is not None


NOTICES_FLOW = Flow(
    name="notices",
    draft_type=staff_view.StaffNoticesDraft,
    steps=staff_view.STEPS,
    start=start,
    commands=("notices", "通知列表"),
    allowed=anyone_bound,
    describe=N_("查看通知和回执"),
    read_only=True,
)
