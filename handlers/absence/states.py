"""The absence flow's draft, states and the rule that picks the next question (`absence.mmd`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from handlers.student_picker import PickerState
from models.absences.tables import AbsenceKind


class AbsenceDraft(BaseModel):
    """Persisted as JSON after every step; `None` means "not asked yet"."""

    picker: PickerState = Field(default_factory=PickerState)
    student_id: int | None = None
    #: The chosen student's running absence: the flow then offers to record the return.
    open_absence_id: int | None = None
    #: 已返校 was pressed.
    returning: bool = False
    kind: AbsenceKind | None = None
    since: date | None = None
    back_on: date | None = None

    def forget_student(self) -> None:
        self.picker.reset()
        self.student_id = None
        self.open_absence_id = None
        self.returning = False
        self.back_on = None


class State(StrEnum):
    STUDENT = "student"
    #: The student has a running absence: 已返校 or 取消.
    OPEN = "open"
    KIND = "kind"
    SINCE = "since"
    BACK_ON = "back_on"
    CONFIRM = "confirm"
    CONFIRM_BACK = "confirm_back"
    EDIT = "edit"


def next_state(draft: AbsenceDraft) -> State:
    """The first thing the draft still lacks, or the confirmation when it is complete."""
    if draft.student_id is None:
        return State.STUDENT
    if draft.open_absence_id is not None:
        if not draft.returning:
            return State.OPEN
        return State.BACK_ON if draft.back_on is None else State.CONFIRM_BACK
    if draft.kind is None:
        return State.KIND
    if draft.since is None:
        return State.SINCE
    return State.CONFIRM
