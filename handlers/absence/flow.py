"""The `absence` flow: `/absence` (or 缺勤), optionally with a name to search."""

from __future__ import annotations

from handlers.absence import steps
from handlers.absence.questions import question
from handlers.absence.states import AbsenceDraft, State
from handlers.draft_labels import about_student
from handlers.flow import Flow, Step, is_staff, with_typed_labels
from handlers.i18n import N_

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
    # Typing a button's label presses it (the student picker does this for its own).
    steps=with_typed_labels(STEPS, question, except_in=(State.STUDENT,)),
    start=steps.start,
    commands=("absence", "缺勤"),
    allowed=is_staff,
    refusal=N_("记录缺勤只对班主任、任课教师、教练、德育处和校长开放。"),
    describe=N_("记录学生缺勤（病假、无故缺席）或返校"),
    describe_draft=about_student(N_("记录{name}的缺勤"), N_("记录学生缺勤")),
    draft_noun=N_("缺勤记录"),
)
