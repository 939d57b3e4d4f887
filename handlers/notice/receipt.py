"""What guardians do with a notice: 确认收到, 有疑问, and opening one from `/notices`.

Callback data can be forged: every press is checked against the notice's receipts — only a
guardian of a student in that notice's audience gets anything but "这个按钮已失效" (the same
answer as for a notice that does not exist, so nothing is revealed). A confirmation is recorded
once per student (a second press, the other guardian's press or a redelivered update changes
nothing) and the pressed message is edited to show it.

有疑问 opens a short conversation (`notice_question`); the question goes to the head teacher of
the child's class with the child's name and the guardian's relation, never a phone number or an
account. `forward_question` does that part; the WeCom parents' receipt page (`bot.web.receipt_page`)
calls it too. Both ask the flood limits first (`handlers.notice.limits`): a few questions per
notice, a few messages to staff an hour, and a repeat is not forwarded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import action_button
from handlers.context import Context
from handlers.flow import Flow, is_guardian
from handlers.i18n import Translator
from handlers.notice.converse import begin, refused_text
from handlers.notice.limits import check_question, question_refusal, record_refusal
from handlers.notice.render import (
    ANSWER,
    guardian_buttons,
    guardian_text,
    receipt_done_line,
    title_line,
)
from handlers.notify import notify_people
from handlers.types import Button, Inbound, Reply, Transition
from models.accounts.tables import PersonKind
from models.notices.publishing import Child
from models.notices.queries import attachments_of, get_notice
from models.notices.receipts import (
    ChildReceipt,
    confirm_receipt,
    receipts_of_guardian,
    record_question,
)
from models.notices.tables import QUESTION_KINDS, Notice, NoticeQuestion, ReceiptAnswer
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole

QUESTION_FLOW = "notice_question"
CHILD, TEXT = "child", "text"
CHILD_PREFIX = "child:"
QUESTION_LIMIT = 500


def gone(ctx: Context) -> Reply:
    return Reply(ctx.t._("这个按钮已失效。"))


def _notice_id(argument: str) -> int | None:
    return (
        int(argument) if argument.isascii() and argument.isdigit() and len(argument) < 12 else None
    )


async def guardian_notice(argument: str, ctx: Context) -> tuple[Notice, list[ChildReceipt]] | None:
    """The notice and the guardian's children in it, or None (not theirs, or no such notice)."""
    notice_id = _notice_id(argument)
    if ctx.guardian is None or notice_id is None:
        return None
    notice = await get_notice(
        session=ctx.session, school_id=ctx.school.id or 0, notice_id=notice_id
    )
    if notice is None:
        return None
    children = await receipts_of_guardian(
        session=ctx.session, notice_id=notice_id, guardian_id=ctx.guardian.id or 0
    )
    return (notice, children) if children else None


async def notice_text(ctx: Context, notice: Notice, children: list[ChildReceipt]) -> str:
    """The notice as this guardian received it, with the confirmation line once confirmed."""
    attachments = await attachments_of(session=ctx.session, notice_id=notice.id or 0)
    text = guardian_text(
        ctx.t,
        notice,
        [c.child for c in children],
        zone=ctx.zone,
        school_name=ctx.school.name,
        attachments=attachments,
    )
    times = [c.confirmed_at for c in children]
    if notice.receipt_required and times and all(t is not None for t in times):
        moment = max(t for t in times if t is not None)
        answers = [c.answer for c in children]
        text += "\n\n" + receipt_done_line(ctx.t, notice, answers, moment, ctx.zone)
    return text


def family_answer(children: list[ChildReceipt]) -> str:
    """A meeting's notice: the answer the family gave ("" before any)."""
    return next((c.answer for c in children if c.answer), "")


def all_confirmed(children: list[ChildReceipt]) -> bool:
    return bool(children) and all(c.confirmed_at is not None for c in children)


# -- 确认收到 ------------------------------------------------------------------------------------


async def confirm(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _record(inbound, argument, ctx, None)


async def attend(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """确认参加 on a meeting's notice: the family's receipt, with its answer."""
    return await _record(inbound, argument, ctx, ReceiptAnswer.ATTEND)


async def decline(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """不能参加 on a meeting's notice: a receipt too (the family answered)."""
    return await _record(inbound, argument, ctx, ReceiptAnswer.DECLINE)


async def _record(
    inbound: Inbound, argument: str, ctx: Context, answer: ReceiptAnswer | None
) -> list[Reply]:
    notice_id = _notice_id(argument)
    if ctx.guardian is None or notice_id is None:
        return [gone(ctx)]
    notice = await get_notice(
        session=ctx.session, school_id=ctx.school.id or 0, notice_id=notice_id
    )
    if notice is None or not notice.receipt_required:
        return [gone(ctx)]
    confirmation = await confirm_receipt(
        session=ctx.session,
        notice_id=notice_id,
        guardian_id=ctx.guardian.id or 0,
        channel=inbound.channel,
        now=ctx.now,
        answer=answer,
    )
    if confirmation is None:
        return [gone(ctx)]
    text = await notice_text(ctx, notice, confirmation.children)
    buttons = guardian_buttons(
        ctx.t, notice, confirmed=True, answer=family_answer(confirmation.children)
    )
    return [Reply.with_buttons(text, buttons, edit=True)]


# -- opening a notice from /notices ---------------------------------------------------------------


async def show(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await guardian_notice(argument, ctx)
    if found is None:
        return [gone(ctx)]
    notice, children = found
    text = await notice_text(ctx, notice, children)
    buttons = guardian_buttons(
        ctx.t, notice, confirmed=all_confirmed(children), answer=family_answer(children)
    )
    return [Reply.with_buttons(text, buttons)]


# -- 有疑问 --------------------------------------------------------------------------------------


class QuestionDraft(BaseModel):
    notice_id: int = 0
    student_id: int | None = None
    #: The guardian's children in the notice (the ones that may be chosen).
    children: list[int] = Field(default_factory=list)


def _text_prompt(ctx: Context, notice: Notice, child: ChildReceipt) -> Reply:
    return Reply(
        ctx.t._(
            "请写下您对《{title}》的疑问（不超过 {limit} 字），我会转给{klass}班主任。"
            "您的电话和账号不会显示给老师。发送 /cancel 放弃。"
        ).format(title=notice.title, limit=QUESTION_LIMIT, klass=child.child.klass.name)
    )


def _child_question(ctx: Context, children: list[ChildReceipt]) -> Reply:
    buttons = [
        [
            Button(
                f"{c.child.student.name}（{c.child.klass.name}）",
                f"{CHILD_PREFIX}{c.child.student.id}",
            )
        ]
        for c in children
    ]
    return Reply.with_buttons(ctx.t._("您的疑问是关于哪个孩子的？"), buttons)


async def ask_question(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await guardian_notice(argument, ctx)
    if found is None or found[0].kind not in QUESTION_KINDS or ctx.guardian is None:
        return [gone(ctx)]
    notice, children = found
    verdict = await check_question(
        ctx.session,
        notice_id=notice.id or 0,
        guardian_id=ctx.guardian.id or 0,
        now=ctx.now,
        rules=ctx.rules,
    )
    if not verdict.allowed:
        return [
            Reply(question_refusal(ctx.t, verdict, zone=ctx.zone, rules=ctx.rules, written=False))
        ]
    draft = QuestionDraft(
        notice_id=notice.id or 0, children=[c.child.student.id or 0 for c in children]
    )
    classes = {c.child.klass.id for c in children}
    if len(classes) == 1:
        draft.student_id = children[0].child.student.id
        reply = _text_prompt(ctx, notice, children[0])
        return await begin(inbound, ctx, flow=QUESTION_FLOW, state=TEXT, draft=draft, reply=reply)
    reply = _child_question(ctx, children)
    return await begin(inbound, ctx, flow=QUESTION_FLOW, state=CHILD, draft=draft, reply=reply)


async def choose_child(inbound: Inbound, draft: QuestionDraft, ctx: Context) -> Transition:
    found = await guardian_notice(str(draft.notice_id), ctx)
    if found is None:
        return Transition.end(gone(ctx))
    notice, children = found
    data = inbound.callback or ""
    wanted = data[len(CHILD_PREFIX) :] if data.startswith(CHILD_PREFIX) else ""
    chosen = [c for c in children if str(c.child.student.id) == wanted]
    if not chosen:
        reply = _child_question(ctx, children)
        note = ctx.t._("请点下面的按钮选择孩子。")
        return Transition.to(CHILD, Reply(f"{note}\n{reply.text}", buttons=reply.buttons))
    draft.student_id = chosen[0].child.student.id
    return Transition.to(TEXT, _text_prompt(ctx, notice, chosen[0]))


async def write_question(inbound: Inbound, draft: QuestionDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    again = _("请用文字写下您的疑问；发送 /cancel 放弃。")
    refused = refused_text(inbound, text, ctx, state=TEXT, limit=QUESTION_LIMIT, again=again)
    if refused is not None:
        return refused
    found = await guardian_notice(str(draft.notice_id), ctx)
    chosen = [c for c in found[1] if c.child.student.id == draft.student_id] if found else []
    if found is None or not chosen or ctx.guardian is None:
        return Transition.end(gone(ctx))
    notice, child = found[0], chosen[0].child
    guardian_id = ctx.guardian.id or 0
    verdict = await check_question(
        ctx.session,
        notice_id=notice.id or 0,
        guardian_id=guardian_id,
        now=ctx.now,
        rules=ctx.rules,
        text=text,
        student_id=child.student.id,
    )
    if not verdict.allowed:
        await record_refusal(
            ctx.session,
            sender=(PersonKind.GUARDIAN, guardian_id),
            subject=f"notice:{notice.id}",
            verdict=verdict,
        )
        refusal = question_refusal(ctx.t, verdict, zone=ctx.zone, rules=ctx.rules, written=True)
        return Transition.end(Reply(refusal))
    forwarded = await forward_question(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        notice=notice,
        guardian_id=guardian_id,
        child=child,
        text=text,
        channel=inbound.channel,
        now=ctx.now,
    )
    ctx.queued += forwarded.queued
    return Transition.end(
        Reply(_("您的疑问已转给{klass}班主任，老师会尽快答复您。").format(klass=child.klass.name))
    )


@dataclass(frozen=True)
class ForwardedQuestion:
    question: NoticeQuestion
    #: Outbox rows queued for the head teacher (or 德育处).
    queued: int


async def forward_question(
    *,
    session: AsyncSession,
    school_id: int,
    notice: Notice,
    guardian_id: int,
    child: Child,
    text: str,
    channel: str,
    now: datetime,
) -> ForwardedQuestion:
    """Record a guardian's 有疑问 and queue it for the head teacher of the child's class (德育处,
    the school's admins, when the class has none), in the caller's transaction. The message
    names the child and the guardian's relation, never a phone number or an account."""
    question = await record_question(
        session=session,
        notice_id=notice.id or 0,
        guardian_id=guardian_id,
        child=child,
        text=text,
        channel=channel,
        now=now,
    )
    if child.klass.head_teacher_id is not None:
        people = [(PersonKind.STAFF, child.klass.head_teacher_id)]
    else:
        admins = await staff_with_role(session=session, school_id=school_id, role=StaffRole.ADMIN)
        people = [(PersonKind.STAFF, s.id or 0) for s in admins]
    relation = child.relation
    asked = question.text

    def render(t: Translator) -> Reply:
        who = t._("{klass}{student}的{relation}").format(
            klass=child.klass.name, student=child.student.name, relation=relation or t._("家长")
        )
        button = action_button(t._("回复家长"), ANSWER, question.id or 0)
        return Reply.with_buttons(
            t._(
                "【家长疑问】{title}\n{who}问：\n{text}\n\n"
                "（为保护隐私，不显示家长的电话和账号。点“回复家长”可以通过我答复。）"
            ).format(title=title_line(t, notice), who=who, text=asked),
            [[button]],
        )

    notified = await notify_people(
        session=session,
        school_id=school_id,
        people=people,
        key=f"notice-question:{question.id}",
        kind="notice_question",
        render=render,
        due_at=now,
    )
    return ForwardedQuestion(question, notified.queued)


async def _no_start(inbound: Inbound, draft: QuestionDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请在通知消息上点“有疑问”。")))


NOTICE_QUESTION_FLOW = Flow(
    name=QUESTION_FLOW,
    draft_type=QuestionDraft,
    steps={CHILD: choose_child, TEXT: write_question},
    start=_no_start,
    commands=(),
    allowed=is_guardian,
)
