"""The `notice` flow: `/notice` (or 通知) composes a notice to parents, step by step."""

from __future__ import annotations

from handlers.actions import Action
from handlers.context import Context
from handlers.draft_labels import titled
from handlers.flow import Flow, with_typed_labels
from handlers.i18n import N_
from handlers.notice import answer, approval, receipt, redo
from handlers.notice import questions as q
from handlers.notice.draft import NoticeDraft
from handlers.notice.render import (
    ANSWER,
    APPROVE,
    ATTEND,
    CONFIRM,
    DECLINE,
    QUESTION,
    REDO,
    RETURN,
    SHOW,
)
from handlers.notice.steps import STEPS
from handlers.types import Inbound, Reply, Transition
from models.roster.duties import Duty


def may_compose(ctx: Context) -> bool:
    """Head teachers (for their classes), 德育处 and the principal (any audience)."""
    return q.is_admin(ctx) or (ctx.staff is not None and Duty.HEAD in ctx.duties)


async def start(inbound: Inbound, draft: NoticeDraft, ctx: Context, args: str) -> Transition:
    """Head teachers (for their classes) and admins (any audience) may compose."""
    if not q.is_admin(ctx) and not await q.sendable_classes(ctx):
        return Transition.end(Reply(ctx.t._("只有班主任和德育处可以给家长发通知。")))
    return await q.proceed(draft, ctx)


NOTICE_FLOW = Flow(
    name="notice",
    draft_type=NoticeDraft,
    steps=with_typed_labels(STEPS, q.question),
    start=start,
    commands=("notice", "通知"),
    allowed=may_compose,
    refusal=N_("只有班主任和德育处可以给家长发通知。"),
    describe=N_("给家长发通知（班主任、德育处）"),
    describe_draft=titled(N_("起草通知《{title}》"), N_("起草给家长的通知")),
    draft_noun=N_("通知"),
)

#: Buttons on notice messages that work outside any conversation.
NOTICE_ACTIONS: tuple[Action, ...] = (
    Action(CONFIRM, receipt.confirm),
    Action(ATTEND, receipt.attend),
    Action(DECLINE, receipt.decline),
    Action(QUESTION, receipt.ask_question),
    Action(SHOW, receipt.show),
    Action(ANSWER, answer.ask_answer),
    Action(APPROVE, approval.approve),
    Action(RETURN, approval.ask_reason),
    Action(REDO, redo.redo),
)
