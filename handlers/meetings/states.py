"""The planning conversation's states, its draft and the rule that picks the next question (see
`meeting.mmd`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from models.meetings.tables import MeetingKind


class State(StrEnum):
    KIND = "kind"
    CLASS = "class"
    WHEN = "when"
    PLACE = "place"
    AGENDA = "agenda"
    CONFIRM = "confirm"


class PlanDraft(BaseModel):
    kind: MeetingKind | None = None
    class_id: int | None = None
    starts_at: datetime | None = None
    place: str | None = None
    agenda: str | None = None


def next_state(draft: PlanDraft) -> State:
    """The first thing the draft still lacks, or the summary when it is complete (修改 clears
    one answer, so only that question is asked again)."""
    if draft.kind is None:
        return State.KIND
    if draft.kind is MeetingKind.CLASS and draft.class_id is None:
        return State.CLASS
    if draft.starts_at is None:
        return State.WHEN
    if draft.place is None:
        return State.PLACE
    if draft.agenda is None:
        return State.AGENDA
    return State.CONFIRM
