"""The compose flow's states and the rule that picks the next question (see `notice.mmd`)."""

from __future__ import annotations

from enum import StrEnum

from handlers.notice.draft import NoticeDraft
from models.notices.tables import AudienceKind


class State(StrEnum):
    KIND = "kind"
    TITLE = "title"
    BODY = "body"
    FILES = "files"
    AUDIENCE = "audience"
    GRADES = "grades"
    CLASSES = "classes"
    STUDENTS = "students"
    RECEIPT = "receipt"
    DEADLINE = "deadline"
    PUBLISH = "publish"
    PUBLISH_AT = "publish_at"
    DISPLAY = "display"
    SUMMARY = "summary"
    EDIT = "edit"


#: The question that completes each multi-answer audience.
AUDIENCE_STATES: dict[AudienceKind, State] = {
    AudienceKind.GRADES: State.GRADES,
    AudienceKind.CLASSES: State.CLASSES,
    AudienceKind.STUDENTS: State.STUDENTS,
}


def next_state(draft: NoticeDraft) -> State:
    """The first thing the draft still lacks, or the summary when it is complete.

    Editing from the summary clears one answer, so only that question is asked again.
    """
    if draft.kind is None:
        return State.KIND
    if draft.title is None:
        return State.TITLE
    if draft.body is None:
        return State.BODY
    if not draft.files_done:
        return State.FILES
    if draft.audience_kind is None:
        return State.AUDIENCE
    if not draft.audience_done:
        return AUDIENCE_STATES.get(draft.audience_kind, State.AUDIENCE)
    if draft.receipt_required is None:
        return State.RECEIPT
    if draft.receipt_required and draft.deadline is None:
        return State.DEADLINE
    if draft.publish_now is None:
        return State.PUBLISH
    if not draft.publish_now and draft.publish_at is None:
        return State.PUBLISH_AT
    if draft.display_until is None:
        return State.DISPLAY
    return State.SUMMARY
