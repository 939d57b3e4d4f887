"""The `feedback` flow: `/feedback` (or 意见) for a guardian — write a suggestion, a complaint,
a praise or another note to the school, named or anonymous; `/feedback <反馈编号>` looks one up.

Who may use it: guardians only (`is_guardian`); staff are told it is for parents. What it is
about is chosen among the guardian's own children's classes and their teachers, or the school.
`/feedback` followed by text that is not a code (`意见 食堂的饭菜太咸`) takes that text as the
feedback and asks the rest. Only a message that *begins* with the word 意见 (followed by a space,
or alone) starts it: `我对作业量有意见` is a message to the head teacher as before
(`handlers.parent_messages`).
"""

from __future__ import annotations

from handlers.context import Context
from handlers.feedback import steps
from handlers.feedback.draft import FeedbackDraft
from handlers.feedback.lookup import look_up, looks_like_code, own_feedback
from handlers.feedback.questions import proceed, question
from handlers.feedback.states import State
from handlers.flow import DraftLabel, Flow, Step, is_guardian, with_typed_labels
from handlers.hints import too_long
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Transition
from models.feedback.tables import FEEDBACK_TEXT_LIMIT


async def start(inbound: Inbound, draft: FeedbackDraft, ctx: Context, args: str) -> Transition:
    """`/feedback` lists the guardian's own feedback and asks the kind; `/feedback ABCD2345`
    looks a code up; `/feedback 文字` keeps the text and asks the rest."""
    typed = args.strip()
    if typed and looks_like_code(typed):
        return Transition.end(await look_up(ctx, typed))
    notes = [listed] if (listed := await own_feedback(ctx)) else []
    if typed:
        if len(typed) > FEEDBACK_TEXT_LIMIT:
            notes.append(too_long(ctx, FEEDBACK_TEXT_LIMIT, len(typed)))
        else:
            draft.text = typed
    return await proceed(draft, ctx, *notes)


STEPS: dict[State, Step] = {
    State.KIND: steps.choose_kind,
    State.ABOUT: steps.choose_about,
    State.TEACHER: steps.choose_teacher,
    State.TEXT: steps.write_text,
    State.NAMED: steps.choose_named,
    State.CONFIRM: steps.confirm,
    State.EDIT: steps.edit,
}


async def describe_draft(draft: object, session: object, t: Translator) -> DraftLabel:
    return DraftLabel(t._("给学校提意见"))


FEEDBACK_FLOW = Flow(
    name="feedback",
    draft_type=FeedbackDraft,
    # What the parent writes is free text, never a button's label.
    steps=with_typed_labels(STEPS, question, except_in=(State.TEXT,)),
    start=start,
    commands=("feedback", "意见"),
    allowed=is_guardian,
    refusal=N_("意见反馈只对家长开放。"),
    describe=N_("向学校提建议、投诉或表扬（可匿名）；/feedback 反馈编号 查询处理进展"),
    describe_draft=describe_draft,
    draft_noun=N_("意见"),
)
