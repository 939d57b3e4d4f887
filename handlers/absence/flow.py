"""The `absence` flow: `/absence` (or 缺勤), optionally with a name to search."""

from __future__ import annotations

from functools import partial

from handlers.absence import steps
from handlers.absence.questions import question
from handlers.absence.states import AbsenceDraft, State
from handlers.flow import Flow, Step, is_staff, typed_labels_press_buttons
from handlers.i18n import N_


def _typed_labels(state: State, step: Step) -> Step:
    """Typing a button's label presses it (the student picker does this for its own)."""
    if state is State.STUDENT:
        return step
    return typed_labels_press_buttons(partial(question, state), step)


STEPS: dict[State, Step] = {
    State.STUDENT: steps.choose_student,
    State.OPEN: steps.choose_open,
    State.KIND: steps.choose_kind,
    State.SINCE: steps.choose_since,
    State.BACK_ON: steps.choose_back_on,
    State.CONFIRM: steps.confirm,
    State.CONFIRM_BACK: steps.confirm_back,
    State.EDIT: steps.edit,
}


ABSENCE_FLOW = Flow(
    name="absence",
    draft_type=AbsenceDraft,
    steps={state: _typed_labels(state, step) for state, step in STEPS.items()},
    start=steps.start,
    commands=("absence", "缺勤"),
    allowed=is_staff,
    describe=N_("记录学生缺勤（病假、无故缺席）或返校"),
)
