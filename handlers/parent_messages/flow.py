"""The `parent_message` flow: what a guardian writes outside any conversation and outside any
command (see `parent_message.mmd`). The dispatcher hands it such text through the flow's
`free_text`, after the staff-only readers (a staff member's text never comes here).

`models.parents.rules.classify` says what the text means:

- an acknowledgement confirms the notice awaiting the guardian's receipt
  (`handlers.parent_messages.acknowledge`), thanks are answered kindly;
- a leave and any other message go to the head teacher of the child's class
  (`handlers.parent_messages.forward`); a guardian of several children who does not name one
  is asked which child first (the one state, `child`);
- a text with nothing to read (`1`, `？`), a photo or a file gets a short hint, never the menu.

`/help` still shows the menu: commands are read before free text.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pydantic import BaseModel, Field

from handlers.context import Context
from handlers.flow import Flow
from handlers.hints import too_long
from handlers.i18n import N_
from handlers.parent_messages.acknowledge import acknowledge, thank
from handlers.parent_messages.common import CHILD_PREFIX, child_buttons, greeting
from handlers.parent_messages.forward import forward
from handlers.types import Inbound, Reply, Transition
from models.notices.publishing import Child
from models.parents.queries import children_with_relation
from models.parents.rules import NamedChild, ParentIntent, classify, leave_day, named_child
from models.parents.tables import MESSAGE_LIMIT, ParentMessageKind

FLOW_NAME = "parent_message"
CHILD = "child"

KIND_OF_INTENT = {
    ParentIntent.SICK_LEAVE: ParentMessageKind.SICK_LEAVE,
    ParentIntent.MESSAGE: ParentMessageKind.MESSAGE,
}


class ParentMessageDraft(BaseModel):
    """What the guardian wrote, kept while they choose the child."""

    kind: ParentMessageKind = ParentMessageKind.MESSAGE
    text: str = ""
    #: For a leave: its first day, read when the parent wrote it.
    leave_from: date | None = None
    #: The children that may be chosen.
    children: list[int] = Field(default_factory=list)


def may_write(ctx: Context) -> bool:
    """The gate: a guardian's account (a member of staff's text is theirs to read)."""
    return ctx.guardian is not None and ctx.staff is None


async def _children(ctx: Context) -> list[Child]:
    guardian = ctx.guardian
    assert guardian is not None
    return await children_with_relation(session=ctx.session, guardian_id=guardian.id or 0)


def _which_child(ctx: Context, children: list[Child], *notes: str) -> Transition:
    text = "\n".join([*notes, ctx.t._("这条消息是关于哪个孩子的？请点下面的按钮选择。")])
    return Transition.to(CHILD, Reply.with_buttons(text, child_buttons(children)))


async def take(inbound: Inbound, draft: ParentMessageDraft, ctx: Context) -> Transition | None:
    """The guardian's text outside any conversation: answered here, whatever it says."""
    _ = ctx.t._
    children = await _children(ctx)
    hello = greeting(ctx.t, children)
    text = (inbound.text or "").strip()
    if inbound.photo is not None or inbound.document is not None:
        return Transition.end(
            Reply(hello + _("图片和文件暂时无法转给老师。请用文字写下您想告诉老师的话。"))
        )
    if not text:
        return None
    intent = classify(text)
    if intent is ParentIntent.ACKNOWLEDGEMENT:
        return Transition.end(*await acknowledge(inbound, ctx, children))
    if intent is ParentIntent.THANKS:
        return Transition.end(*await thank(ctx, children))
    if intent is ParentIntent.UNREADABLE or not children:
        return Transition.end(
            Reply(
                hello
                + _(
                    "没能看懂这条消息。想告诉班主任什么，请直接用文字写下来；"
                    "请假请写明孩子的情况，例如：孩子今天发烧，请假一天。发送 /help 查看可以做什么。"
                )
            )
        )
    if len(text) > MESSAGE_LIMIT:
        return Transition.end(Reply(too_long(ctx, MESSAGE_LIMIT, len(text))))
    draft.kind = KIND_OF_INTENT[intent]
    draft.text = text
    draft.leave_from = leave_day(text, ctx.local_now)
    draft.children = [c.student.id or 0 for c in children]
    chosen = _chosen(text, children)
    if chosen is None:
        return _which_child(ctx, children)
    return await _forward(inbound, draft, ctx, chosen, children)


def _chosen(text: str, children: list[Child]) -> Child | None:
    if len(children) == 1:
        return children[0]
    wanted = named_child(text, [NamedChild(c.student.id or 0, c.student.name) for c in children])
    return next((c for c in children if c.student.id == wanted), None)


async def _forward(
    inbound: Inbound, draft: ParentMessageDraft, ctx: Context, child: Child, children: list[Child]
) -> Transition:
    reply = await forward(
        inbound,
        ctx,
        kind=draft.kind,
        text=draft.text,
        child=child,
        children=children,
        leave_from=draft.leave_from if draft.kind is ParentMessageKind.SICK_LEAVE else None,
    )
    return Transition.end(reply)


async def choose_child(inbound: Inbound, draft: ParentMessageDraft, ctx: Context) -> Transition:
    """The child's button (or the child's name typed)."""
    children = [c for c in await _children(ctx) if c.student.id in draft.children]
    if not children:
        return Transition.end(Reply(ctx.t._("这个按钮已失效。")))
    data = inbound.callback or ""
    if data.startswith(CHILD_PREFIX):
        chosen = next((c for c in children if f"{CHILD_PREFIX}{c.student.id}" == data), None)
    else:
        chosen = _chosen((inbound.text or "").strip(), children) if inbound.text else None
    if chosen is None:
        return _which_child(ctx, children, ctx.t._("请点下面的按钮选择孩子；发送 /cancel 放弃。"))
    return await _forward(inbound, draft, ctx, chosen, children)


async def start(inbound: Inbound, draft: ParentMessageDraft, ctx: Context, args: str) -> Transition:
    """`/parent_message 孩子今天发烧请假` reads the text as if it had been sent alone."""
    taken = await take(replace(inbound, text=args), draft, ctx)
    if taken is not None:
        return taken
    return Transition.end(Reply(ctx.t._("请直接发送您想告诉班主任的话。")))


PARENT_MESSAGE_FLOW = Flow(
    name=FLOW_NAME,
    draft_type=ParentMessageDraft,
    steps={CHILD: choose_child},
    start=start,
    commands=(),
    allowed=may_write,
    free_text=take,
    refusal=N_("这项功能只对家长开放。"),
)
