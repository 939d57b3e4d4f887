"""The incident being reported, persisted as JSON after every step (it survives a restart)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from handlers.student_picker import PickerState
from models.incidents.tables import IncidentKind


class IncidentDraft(BaseModel):
    picker: PickerState = Field(default_factory=PickerState)
    student_id: int | None = None
    kind: IncidentKind | None = None
    #: What happened (None: not asked yet).
    what: str | None = None
    #: A photo as the reporting channel knows it (a Telegram file_id), and that channel.
    photo: str | None = None
    photo_channel: str = ""
    #: Where the child is now and what was done (None: not asked yet).
    where_now: str | None = None

    def forget_student(self) -> None:
        self.picker.reset()
        self.student_id = None
