"""The incident flow's states and the rule that picks the next question (see `incident.mmd`)."""

from __future__ import annotations

from enum import StrEnum

from handlers.incident.draft import IncidentDraft


class State(StrEnum):
    STUDENT = "student"
    KIND = "kind"
    WHAT = "what"
    WHERE_NOW = "where_now"
    CONFIRM = "confirm"
    EDIT = "edit"


def next_state(draft: IncidentDraft) -> State:
    """The first thing the draft still lacks, or the confirmation when it is complete.

    Editing from the confirmation clears one answer, so only that question is asked again.
    """
    if draft.student_id is None:
        return State.STUDENT
    if draft.kind is None:
        return State.KIND
    if draft.what is None:
        return State.WHAT
    if draft.where_now is None:
        return State.WHERE_NOW
    return State.CONFIRM
