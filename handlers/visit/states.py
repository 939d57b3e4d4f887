"""The visit flow's states and the rule that picks the next question (see `visit.mmd`)."""

from __future__ import annotations

from enum import StrEnum

from handlers.visit.draft import VisitDraft


class State(StrEnum):
    CLASS = "pick_class"
    STUDENT = "student"
    #: A one-message log named a student not quite right: `是张小明吗？`
    CONFIRM_STUDENT = "confirm_student"
    FORM = "form"
    CATEGORY = "category"
    DATE = "date"
    #: Only for a visit more than the school's limit back: why it is logged only now.
    LATE_REASON = "late_reason"
    MET = "met"
    SCHOOL_REPORT = "school_report"
    HOME_LEARNED = "home_learned"
    FAMILY = "family"
    #: The household form, opened from 家庭情况 or 修改: one field a question.
    FAMILY_FORM = "family_form"
    GUIDANCE = "guidance"
    MEASURES = "measures"
    PROBLEMS = "problems"
    NEEDS_SCHOOL = "needs_school"
    #: Only reached through 修改: the free notes of a one-message log.
    NOTES = "notes"
    SUMMARY = "summary"
    EDIT = "edit"
    #: 保存 of a visit like one already recorded (student, date, form): save another?
    DUPLICATE = "duplicate"
    #: 保存 of a visit to a household another teacher visited first in the running 大走访:
    #: record it anyway?
    DOUBLE_VISIT = "double_visit"


#: The record's free-text sections, asked in this order; each state's value is the draft field.
SECTIONS: tuple[State, ...] = (
    State.SCHOOL_REPORT,
    State.HOME_LEARNED,
    State.FAMILY,
    State.GUIDANCE,
    State.MEASURES,
)
#: States that take free text into the draft field of the same name.
TEXT_STATES: tuple[State, ...] = (*SECTIONS, State.PROBLEMS, State.NOTES)

_REQUIRED: tuple[tuple[State, str], ...] = (
    (State.FORM, "form"),
    (State.CATEGORY, "category"),
    (State.DATE, "visit_date"),
    (State.MET, "met"),
)


def next_state(draft: VisitDraft) -> State:
    """The first question the draft still needs, or the summary card when it is complete.

    The same rule serves the full `/visit`, the one-message fast path (which skips the optional
    sections) and editing from the summary (which clears one answer, so only it is asked again).
    """
    if draft.student_id is None:
        if draft.guess_id is not None:
            return State.CONFIRM_STUDENT
        # The student picker's question: its class (or grade) list, or a list of students.
        return State.CLASS if draft.listing_classes else State.STUDENT
    if draft.family_form_open:
        return State.FAMILY_FORM
    for state, field in _REQUIRED:
        if getattr(draft, field) is None:
            return state
        if state is State.DATE and draft.late_days and not draft.late_reason:
            return State.LATE_REASON
    if not draft.quick:
        for state in (*SECTIONS, State.PROBLEMS):
            if getattr(draft, state.value) is None:
                return state
    if draft.problems and draft.needs_school is None:
        return State.NEEDS_SCHOOL
    return State.SUMMARY


def question_order(draft: VisitDraft) -> list[State]:
    """The questions this draft is asked after the student, in order (what 返回 steps back
    through): the required ones, the late reason when late, the sections unless it came from
    one message, and the school flag when a problem was found."""
    order = [State.FORM, State.CATEGORY, State.DATE]
    if draft.late_days:
        order.append(State.LATE_REASON)
    order.append(State.MET)
    if not draft.quick:
        order += [*SECTIONS, State.PROBLEMS]
    if draft.problems:
        order.append(State.NEEDS_SCHOOL)
    return order
