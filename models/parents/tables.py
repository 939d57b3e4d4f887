"""A parent's own message to the school (not about a notice): a leave for the head teacher to
confirm, or a message the head teacher may answer through the bot."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum

#: The longest message kept and forwarded (as a question about a notice).
MESSAGE_LIMIT = 500


class ParentMessageKind(StrEnum):
    #: 请假 / 病假: the head teacher confirms it as a sick absence, or not.
    SICK_LEAVE = "sick_leave"
    #: Anything else the parent wrote for the head teacher.
    MESSAGE = "message"


class LeaveDecision(StrEnum):
    SICK = "sick"  # 确认为病假: an absence was recorded (or one was already running)
    NOT_SICK = "not_sick"  # 不是病假: nothing recorded


class ParentMessage(SQLModel, table=True):
    __tablename__ = "parent_message"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    kind: ParentMessageKind = Field(sa_type=str_enum(ParentMessageKind))
    #: The head teacher it was forwarded to (None: the class has none; 德育处 got it).
    head_teacher_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str = Field(max_length=MESSAGE_LIMIT)
    channel: str = Field(default="", max_length=16)
    sent_at: datetime = Field(sa_type=AwareDateTime, index=True)
    #: For a leave: its first day as read from the message (`models.parents.rules.leave_day`).
    leave_from: date | None = None
    decision: LeaveDecision | None = Field(default=None, sa_type=str_enum(LeaveDecision))
    decided_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    #: The absence 确认为病假 recorded (or found running).
    absence_id: int | None = Field(default=None, foreign_key="absence.id")
    #: The teacher's answer through the bot (回复家长), once.
    answer: str = Field(default="", max_length=MESSAGE_LIMIT)
    answered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    answered_by: int | None = Field(default=None, foreign_key="staff.id")
