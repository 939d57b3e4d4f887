"""回复家长: the head teacher answers a guardian's 有疑问 through the bot, once. The guardian
reads the answer from "the head teacher of 三(2)班"; neither side sees the other's phone number
or account."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.context import Context
from handlers.flow import Flow, is_staff
from handlers.i18n import Translator
from handlers.notice.converse import begin, refused_text, tell
from handlers.notice.render import format_clock, title_line
from handlers.types import Inbound, Reply, Transition
from models.accounts.tables import PersonKind
from models.notices.queries import get_notice
from models.notices.receipts import answer_question
from models.notices.tables import Notice, NoticeQuestion
from models.roster.scope import has_whole_school_scope
from models.roster.tables import Student
from models.school.tables import SchoolClass

ANSWER_FLOW = "notice_answer"
TEXT = "text"
ANSWER_LIMIT = 500


class AnswerDraft(BaseModel):
    question_id: int = 0


async def _question(argument: str, ctx: Context) -> tuple[NoticeQuestion, Notice] | None:
    """The question if this staff member was asked it (or, with no head teacher, an admin)."""
    if ctx.staff is None or not argument.isdigit() or len(argument) > 12:
        return None
    question = await ctx.session.get(NoticeQuestion, int(argument))
    if question is None:
        return None
    notice = await get_notice(
        session=ctx.session, school_id=ctx.school.id or 0, notice_id=question.notice_id
    )
    if notice is None:
        return None
    if question.head_teacher_id is not None:
        allowed = question.head_teacher_id == ctx.staff.id
    else:
        allowed = has_whole_school_scope(ctx.staff)
    return (question, notice) if allowed else None


def _answered(ctx: Context, question: NoticeQuestion) -> Reply:
    when = format_clock(question.answered_at, ctx.zone) if question.answered_at else ""
    return Reply(
        ctx.t._("这个疑问已于 {time} 答复：{answer}").format(time=when, answer=question.answer)
    )


async def ask_answer(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await _question(argument, ctx)
    if found is None:
        return [Reply(ctx.t._("这个按钮已失效。"))]
    question, notice = found
    if question.answered_at is not None:
        return [_answered(ctx, question)]
    prompt = ctx.t._(
        "请输入给家长的答复（关于《{title}》，不超过 {limit} 字）；发送 /cancel 放弃。"
    ).format(title=notice.title, limit=ANSWER_LIMIT)
    return await begin(
        inbound,
        ctx,
        flow=ANSWER_FLOW,
        state=TEXT,
        draft=AnswerDraft(question_id=question.id or 0),
        reply=Reply(prompt),
    )


async def write_answer(inbound: Inbound, draft: AnswerDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    again = _("请用文字写下答复；发送 /cancel 放弃。")
    refused = refused_text(inbound, text, ctx, state=TEXT, limit=ANSWER_LIMIT, again=again)
    if refused is not None:
        return refused
    found = await _question(str(draft.question_id), ctx)
    staff = ctx.staff
    if found is None or staff is None:
        return Transition.end(Reply(_("这个按钮已失效。")))
    question, notice = found
    answered = await answer_question(
        session=ctx.session,
        question_id=question.id or 0,
        staff_id=staff.id or 0,
        text=text,
        now=ctx.now,
    )
    if answered is None:
        await ctx.session.refresh(question)
        return Transition.end(_answered(ctx, question))
    student = await ctx.session.get(Student, question.student_id)
    klass = await ctx.session.get(SchoolClass, student.class_id) if student else None
    class_name = klass.name if klass else ""

    def render(t: Translator) -> Reply:
        return Reply(
            t._("【老师答复】{title}\n{klass}班主任：\n{answer}").format(
                title=title_line(t, notice), klass=class_name, answer=text
            )
        )

    await tell(
        ctx,
        people=[(PersonKind.GUARDIAN, question.guardian_id)],
        key=f"notice-answer:{question.id}",
        kind="notice_answer",
        render=render,
    )
    return Transition.end(Reply(_("答复已发给家长。")))


async def _no_start(inbound: Inbound, draft: AnswerDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请在家长疑问的消息上点“回复家长”。")))


NOTICE_ANSWER_FLOW = Flow(
    name=ANSWER_FLOW,
    draft_type=AnswerDraft,
    steps={TEXT: write_answer},
    start=_no_start,
    commands=(),
    allowed=is_staff,
)
