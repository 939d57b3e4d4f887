"""`收到` / `好的` / `已阅` from a parent: the receipt of the notice awaiting it, recorded exactly
as the notice's 确认收到 button records it (`models.notices.receipts.confirm_receipt`, so the
head teacher's tallies and the sender's progress count it alike); thanks alone, answered kindly.

Several notices awaiting: the most recently published one is confirmed, named in the answer, and
each of the others is offered with a button that opens it (with its own 确认收到). A parent's
`收到` answers the message just above it in the chat, which is the latest notice; asking which
one every time would add a step to the common case, and listing the others keeps any of them
from being confirmed unseen.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.actions import action_button
from handlers.context import Context
from handlers.notice.render import SHOW
from handlers.parent_messages.common import greeting
from handlers.types import Inbound, Reply
from models.notices.publishing import Child
from models.notices.receipts import GuardianNotice, confirm_receipt
from models.parents.queries import awaiting_receipt

#: The other notices awaiting a receipt listed with a button each (the newest first).
OTHERS_SHOWN = 5


def _others(ctx: Context, others: Sequence[GuardianNotice]) -> Reply | None:
    if not others:
        return None
    _ = ctx.t._
    titles = "、".join(_("《{title}》").format(title=n.notice.title) for n in others)
    text = _("您还有 {count} 份通知未确认收到：{titles}。请打开后点“确认收到”。").format(
        count=len(others), titles=titles
    )
    buttons = [
        [action_button(_("查看《{title}》").format(title=n.notice.title), SHOW, n.notice.id or 0)]
        for n in others[:OTHERS_SHOWN]
    ]
    return Reply.with_buttons(text, buttons)


async def acknowledge(inbound: Inbound, ctx: Context, children: Sequence[Child]) -> list[Reply]:
    _ = ctx.t._
    hello = greeting(ctx.t, children)
    guardian = ctx.guardian
    assert guardian is not None
    awaiting = await awaiting_receipt(
        session=ctx.session, guardian_id=guardian.id or 0, now=ctx.now
    )
    if not awaiting:
        return [
            Reply(
                hello
                + _(
                    "好的。目前没有需要您确认收到的通知。如有事要告诉班主任，直接给我发消息就可以。"
                )
            )
        ]
    latest, others = awaiting[0], awaiting[1:]
    confirmation = await confirm_receipt(
        session=ctx.session,
        notice_id=latest.notice.id or 0,
        guardian_id=guardian.id or 0,
        channel=inbound.channel,
        now=ctx.now,
    )
    if confirmation is None:  # the notice was withdrawn between the two reads
        return [Reply(hello + _("好的。目前没有需要您确认收到的通知。"))]
    replies = [Reply(hello + _("已为您确认收到《{title}》。").format(title=latest.notice.title))]
    listed = _others(ctx, others)
    return [*replies, listed] if listed is not None else replies


async def thank(ctx: Context, children: Sequence[Child]) -> list[Reply]:
    """`谢谢老师`: a kind word, and the notice still awaiting a receipt, if any (not confirmed:
    thanks is not a receipt)."""
    _ = ctx.t._
    hello = greeting(ctx.t, children)
    guardian = ctx.guardian
    assert guardian is not None
    awaiting = await awaiting_receipt(
        session=ctx.session, guardian_id=guardian.id or 0, now=ctx.now
    )
    if not awaiting:
        return [Reply(hello + _("不客气，祝您和孩子一切顺利。"))]
    return [
        Reply(
            hello
            + _("不客气。《{title}》还需要您确认收到，回复“收到”即可。").format(
                title=awaiting[0].notice.title
            )
        )
    ]
