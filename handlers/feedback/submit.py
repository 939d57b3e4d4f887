"""提交: send the draft (`handlers.feedback.sending.send_feedback`, one transaction with the end
of the conversation) and tell the parent it was received — with its 反馈编号 when anonymous.

A refusal (a flood limit, a class or teacher no longer the family's) keeps the conversation at
the summary or at the question to answer again, with the reason above it.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.feedback.draft import FeedbackDraft
from handlers.feedback.questions import ask, proceed, targets
from handlers.feedback.render import received
from handlers.feedback.sending import FeedbackRefused, send_feedback, target_problem
from handlers.feedback.states import State
from handlers.types import Reply, Transition
from models.feedback.queries import NewFeedback


async def submit(draft: FeedbackDraft, ctx: Context) -> Transition:
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        raise PermissionError("only guardians give feedback")
    if draft.kind is None or draft.about is None or draft.text is None or draft.anonymous is None:
        return await proceed(draft, ctx, ctx.t._("还有必填的内容没有完成，请先补上。"))
    new = NewFeedback(
        school_id=ctx.school.id or 0,
        kind=draft.kind,
        about=draft.about,
        text=draft.text,
        guardian_id=guardian.id,
        anonymous=draft.anonymous,
        about_class_id=draft.about_class_id,
        about_staff_id=draft.about_staff_id,
        photo_channel=draft.photo_channel if draft.photo else "",
        photo_ref=draft.photo or "",
    )
    stale = target_problem(ctx.t, new, await targets(ctx))
    if stale is not None:
        # The roster changed since the choice: ask what it is about again.
        draft.forget_about()
        return await proceed(draft, ctx, stale)
    try:
        sent = await send_feedback(
            ctx.session, new, t=ctx.t, now=ctx.now, zone=ctx.zone, rules=ctx.rules
        )
    except FeedbackRefused as refused:
        return await ask(State.CONFIRM, draft, ctx, refused.message)
    ctx.queued += sent.queued
    return Transition.end(Reply(received(ctx.t, sent.feedback)))
