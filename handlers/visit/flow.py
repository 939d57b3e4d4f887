"""The `visit` flow: `/visit` (or 家访), an optional name to search, and the one-message fast path."""

from __future__ import annotations

from dataclasses import replace

from handlers.context import Context
from handlers.flow import Flow, Step
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
        return await steps.find_by_name(args, State.CLASS, draft, ctx)
    return await proceed(draft, ctx)


def typed_labels_press_buttons(state: State, step: Step) -> Step:
    """Typing a button's label (保存, 电访, 父亲 …) counts as pressing that button."""

    async def wrapped(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
        text = (inbound.text or "").strip()
        if inbound.callback is None and text:
            offered = await question(state, draft, ctx)
            for row in offered.buttons:
                for button in row:
                    if button.label == text:
                        inbound = replace(inbound, text=None, callback=button.data)
        return await step(inbound, draft, ctx)

    return wrapped


STEPS: dict[State, Step] = {
    State.CLASS: steps.choose_class,
    State.STUDENT: steps.choose_student,
    State.FORM: steps.choose_form,
    State.CATEGORY: steps.choose_category,
    State.DATE: steps.choose_date,
    State.MET: steps.choose_met,
    **{state: steps.text_step(state) for state in TEXT_STATES},
    State.NEEDS_SCHOOL: steps.choose_needs_school,
    State.SUMMARY: steps.summary,
    State.EDIT: steps.edit,
}


def is_staff(ctx: Context) -> bool:
    return ctx.staff is not None


VISIT_FLOW = Flow(
    name="visit",
    draft_type=VisitDraft,
    steps={state: typed_labels_press_buttons(state, step) for state, step in STEPS.items()},
    start=start,
    commands=("visit", "家访"),
    allowed=is_staff,
    free_text=start_from_text,
    describe=N_("记录一次家访"),
)
