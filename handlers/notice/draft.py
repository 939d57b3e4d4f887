"""The notice being composed: persisted as JSON after every step, saved nowhere else until 提交.

`None` means "not asked yet"; the `*_done` flags close the questions that take several answers
(attachments, a multi-select audience). `states.next_state` reads this to pick the question.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from handlers.student_picker import PickerState
from models.notices.tables import AttachmentKind, AudienceKind, NoticeKind


class FileDraft(BaseModel):
    kind: AttachmentKind
    channel: str
    ref: str
    name: str = ""
    size: int | None = None


class NoticeDraft(BaseModel):
    kind: NoticeKind | None = None
    title: str | None = None
    body: str | None = None
    files: list[FileDraft] = Field(default_factory=list)
    files_done: bool = False
    audience_kind: AudienceKind | None = None
    #: Grade numbers, class ids or student ids, by `audience_kind` (empty for the school).
    audience_ids: list[int] = Field(default_factory=list)
    audience_done: bool = False
    picker: PickerState = Field(default_factory=PickerState)
    receipt_required: bool | None = None
    deadline: datetime | None = None
    #: True: at once (after approval); False: at `publish_at`.
    publish_now: bool | None = None
    publish_at: datetime | None = None
    display_until: date | None = None

    def forget_audience(self) -> None:
        self.audience_kind, self.audience_ids, self.audience_done = None, [], False
        self.picker = PickerState()
