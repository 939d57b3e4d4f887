"""The `visit` flow: `/visit` (or 家访), an optional name to search, and the one-message fast path."""

from __future__ import annotations

from handlers.context import Context
from handlers.draft_labels import about_student
from handlers.flow import Flow, Step, is_staff, with_typed_labels
from handlers.i18n import N_
from handlers.types import Inbound, Transition
from handlers.visit import steps
from handlers.visit.draft import VisitDraft
from handlers.visit.fastpath import start_from_text
from handlers.visit.questions import proceed, question
from handlers.visit.states import TEXT_STATES, State


async def start(inbound: Inbound, draft: VisitDraft, ctx: Context, args: str) -> Transition:
    """`/visit` asks for the class (or the student); `/visit 张小明` searches that name first."""
    if args.strip():
        return await steps.start_with_name(args, draft, ctx)
    return await proceed(draft, ctx)


#: The student picker's states: it reads typed labels itself (三(2)班, 下一页, a name on the page).
PICKER_STATES = (State.CLASS, State.STUDENT)


_STEPS: dict[State, Step] = {
    State.CLASS: steps.choose_student,
    State.STUDENT: steps.choose_student,
    State.CONFIRM_STUDENT: steps.confirm_student,
    State.FORM: steps.choose_form,
    State.CATEGORY: steps.choose_category,
    State.DATE: steps.choose_date,
    State.LATE_REASON: steps.give_late_reason,
    State.MET: steps.choose_met,
    **{state: steps.text_step(state) for state in TEXT_STATES},
    State.FAMILY_FORM: steps.answer_family_form,
    State.NEEDS_SCHOOL: steps.choose_needs_school,
    State.SUMMARY: steps.summary,
    State.EDIT: steps.edit,
    State.DUPLICATE: steps.duplicate,
    State.DOUBLE_VISIT: steps.double_visit,
}
#: Every step but the picker's reads 返回 / 跳过 / 取消 as moves, never as an answer.
STEPS: dict[State, Step] = {
    state: step if state in PICKER_STATES else steps.with_navigation(state, step)
    for state, step in _STEPS.items()
}


VISIT_FLOW = Flow(
    name="visit",
    draft_type=VisitDraft,
    steps=with_typed_labels(STEPS, question, except_in=PICKER_STATES),
    start=start,
    commands=("visit", "家访"),
    allowed=is_staff,
    refusal=N_("记录家访只对班主任、任课教师、教练、德育处和校长开放。"),
    free_text=start_from_text,
    describe=N_("记录一次家访"),
    describe_draft=about_student(N_("记录{name}的家访"), N_("记录家访")),
    draft_noun=N_("家访"),
    # Its questions read 返回 / 上一步 themselves (`steps.with_navigation`); the picker's do not.
    reads_back=frozenset(STEPS) - frozenset(PICKER_STATES),
)
