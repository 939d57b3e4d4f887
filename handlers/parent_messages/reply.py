"""回复家长 on a parent's own message: the head teacher answers through the bot, once, the way a
notice's question is answered (`handlers.notice.answer`). The parent reads it from "the head
teacher of 三(2)班", with the first words of what they wrote; neither side sees the other's
phone number or account."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.context import Context
from handlers.flow import Flow, is_staff
from handlers.i18n import Translator
from handlers.notice.converse import begin, refused_text, tell
from handlers.notice.render import format_clock
from handlers.parent_messages.common import greeting
from handlers.parent_messages.leave import addressed_message
from handlers.types import Inbound, Reply, Transition
from models.accounts.tables import PersonKind
from models.parents.queries import answer_message, children_with_relation
from models.parents.tables import MESSAGE_LIMIT, ParentMessage
from models.roster.tables import Student
from models.school.tables import SchoolClass

REPLY_FLOW = "parent_reply"
TEXT = "text"
#: How much of the parent's message the answer quotes.
QUOTED = 30


class ReplyDraft(BaseModel):
    message_id: int = 0


def _answered(ctx: Context, message: ParentMessage) -> Reply:
    when = format_clock(message.answered_at, ctx.zone) if message.answered_at else ""
    return Reply(
        ctx.t._("这条家长消息已于 {time} 答复：{answer}").format(time=when, answer=message.answer)
    )


def _quote(text: str) -> str:
    return text if len(text) <= QUOTED else text[:QUOTED] + "…"


async def ask_reply(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    message = await addressed_message(argument, ctx)
    if message is None:
        return [Reply(ctx.t._("这个按钮已失效。"))]
    if message.answered_at is not None:
        return [_answered(ctx, message)]
    prompt = ctx.t._(
        "请输入给家长的答复（关于“{quote}”，不超过 {limit} 字）；发送 /cancel 放弃。"
    ).format(quote=_quote(message.text), limit=MESSAGE_LIMIT)
    return await begin(
        inbound,
        ctx,
        flow=REPLY_FLOW,
        state=TEXT,
        draft=ReplyDraft(message_id=message.id or 0),
        reply=Reply(prompt),
    )


async def write_reply(inbound: Inbound, draft: ReplyDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    again = _("请用文字写下答复；发送 /cancel 放弃。")
    refused = refused_text(inbound, text, ctx, state=TEXT, limit=MESSAGE_LIMIT, again=again)
    if refused is not None:
        return refused
    message = await addressed_message(str(draft.message_id), ctx)
    staff = ctx.staff
    if message is None or staff is None:
        return Transition.end(Reply(_("这个按钮已失效。")))
    if not await answer_message(
        session=ctx.session,
        message_id=message.id or 0,
        staff_id=staff.id or 0,
        text=text,
        now=ctx.now,
    ):
        await ctx.session.refresh(message)
        return Transition.end(_answered(ctx, message))
    student = await ctx.session.get(Student, message.student_id)
    klass = await ctx.session.get(SchoolClass, student.class_id) if student else None
    class_name = klass.name if klass else ""
    children = await children_with_relation(session=ctx.session, guardian_id=message.guardian_id)
    quote = _quote(message.text)

    def render(t: Translator) -> Reply:
        return Reply(
            greeting(t, children)
            + t._("关于您说的“{quote}”，{klass}班主任答复：\n{answer}").format(
                quote=quote, klass=class_name, answer=text
            )
        )

    await tell(
        ctx,
        people=[(PersonKind.GUARDIAN, message.guardian_id)],
        key=f"parent-answer:{message.id}",
        kind="parent_answer",
        render=render,
    )
    return Transition.end(Reply(_("答复已发给家长。")))


async def _no_start(inbound: Inbound, draft: ReplyDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请在家长消息上点“回复家长”。")))


PARENT_REPLY_FLOW = Flow(
    name=REPLY_FLOW,
    draft_type=ReplyDraft,
    steps={TEXT: write_reply},
    start=_no_start,
    commands=(),
    allowed=is_staff,
)
