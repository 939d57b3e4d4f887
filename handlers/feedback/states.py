"""The feedback flow's states and the rule that picks the next question (see `feedback.mmd`)."""

from __future__ import annotations

from enum import StrEnum

from handlers.feedback.draft import FeedbackDraft
from models.feedback.tables import FeedbackAbout


class State(StrEnum):
    KIND = "kind"
    ABOUT = "about"
    TEACHER = "teacher"
    TEXT = "text"
    NAMED = "named"
    CONFIRM = "confirm"
    EDIT = "edit"


def next_state(draft: FeedbackDraft) -> State:
    """The first thing the draft still lacks, or the confirmation when it is complete.

    Editing from the confirmation clears one answer, so only that question is asked again.
    """
    if draft.kind is None:
        return State.KIND
    if draft.about is None:
        return State.ABOUT
    if draft.about is FeedbackAbout.TEACHER and draft.about_staff_id is None:
        return State.TEACHER
    if draft.text is None:
        return State.TEXT
    if draft.anonymous is None:
        return State.NAMED
    return State.CONFIRM
