"""A parent's feedback (DOMAIN.md "Feedback and complaints").

Named feedback keeps its guardian, so the parent is told when it is received, taken and settled.
Anonymous feedback keeps no trace of its author: no guardian, no account, no child, no channel;
only a random reference code 反馈编号, which the parent alone holds and can look it up with.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum
from models.text import N_

#: The longest feedback text kept.
FEEDBACK_TEXT_LIMIT = 1000


class FeedbackKind(StrEnum):
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"
    PRAISE = "praise"
    OTHER = "other"


FEEDBACK_KIND_LABELS: dict[FeedbackKind, str] = {
    FeedbackKind.SUGGESTION: N_("建议"),
    FeedbackKind.COMPLAINT: N_("投诉"),
    FeedbackKind.PRAISE: N_("表扬"),
    FeedbackKind.OTHER: N_("其他"),
}


class FeedbackAbout(StrEnum):
    CLASS = "class"
    TEACHER = "teacher"
    SCHOOL = "school"


FEEDBACK_ABOUT_LABELS: dict[FeedbackAbout, str] = {
    FeedbackAbout.CLASS: N_("班级"),
    FeedbackAbout.TEACHER: N_("老师"),
    FeedbackAbout.SCHOOL: N_("学校"),
}


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    #: 反馈编号: random, unique; what an anonymous parent looks their feedback up with.
    code: str = Field(max_length=12, unique=True)
    kind: FeedbackKind = Field(sa_type=str_enum(FeedbackKind))
    about: FeedbackAbout = Field(sa_type=str_enum(FeedbackAbout))
    about_class_id: int | None = Field(default=None, foreign_key="school_class.id")
    about_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str = Field(max_length=FEEDBACK_TEXT_LIMIT)
    #: A photo sent with it, by the channel's own reference (see `handlers.types.FileRef`).
    photo_channel: str = Field(default="", max_length=16)
    photo_ref: str = Field(default="", max_length=256)
    anonymous: bool = False
    #: The author, for named feedback only (None when anonymous).
    guardian_id: int | None = Field(default=None, foreign_key="guardian.id", index=True)
    created_at: datetime = Field(sa_type=AwareDateTime, index=True)
    #: Its item in the problem ledger (None for praise, which needs no follow-up).
    ledger_item_id: int | None = Field(default=None, foreign_key="ledger_item.id")
