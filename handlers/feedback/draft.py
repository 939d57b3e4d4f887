"""The feedback being written, persisted as JSON after every step (it survives a restart)."""

from __future__ import annotations

from pydantic import BaseModel

from models.feedback.tables import FeedbackAbout, FeedbackKind


class FeedbackDraft(BaseModel):
    kind: FeedbackKind | None = None
    about: FeedbackAbout | None = None
    #: For `about` 班级: which of the children's classes.
    about_class_id: int | None = None
    #: For `about` 老师: which of the children's teachers (None: not chosen yet).
    about_staff_id: int | None = None
    #: What the parent wrote (None: not asked yet).
    text: str | None = None
    #: A photo sent with it, as the channel refers to it, and that channel.
    photo: str | None = None
    photo_channel: str = ""
    #: 匿名 (True) or 实名 (False); None: not asked yet.
    anonymous: bool | None = None

    def forget_about(self) -> None:
        self.about, self.about_class_id, self.about_staff_id = None, None, None
