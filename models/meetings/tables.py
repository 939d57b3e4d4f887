"""Parent meetings 家长会 and the parent committee 家长委员会: the tables.

A `Meeting` is planned with `/meeting` and announced to its families by a notice of kind
`NoticeKind.MEETING` (`notice_id`): the notice machinery does the approval (a head teacher's
meeting goes to 德育处 like any notice), the 文号, the publication and the reminders, and the
families' replies 确认参加 / 不能参加 are that notice's receipts (`NoticeReceipt.answer`, one per
student: the family's answer, whichever guardian gave it). A meeting moves through::

    planned ──结束会议──▶ held
       └────取消会议──▶ cancelled   (a published notice is archived, the families told once)

After the meeting its organiser records who came — one `MeetingAttendance` row per student of
the audience, the family's unit as in the receipts — and uploads the minutes (text, or a photo
or document kept as the channel's own file reference, like a notice's attachments). A committee
meeting is not closed without minutes.

The committee is `CommitteeMember`: a guardian (with the child through whom they belong to the
school), one row per guardian per school, kept by 德育处. A committee meeting's audience is the
members' children's families (`AudienceKind.STUDENTS`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_

#: Longest place and agenda (characters).
PLACE_LIMIT = 40
AGENDA_LIMIT = 1000
MINUTES_LIMIT = 2000


class MeetingKind(StrEnum):
    CLASS = "class"  # 班级家长会: one class's families
    COMMITTEE = "committee"  # 家长委员会: the committee members' families
    OTHER = "other"  # 全校家长会 and other meetings: every family of the school


MEETING_KIND_LABELS: dict[MeetingKind, str] = {
    MeetingKind.CLASS: N_("班级家长会"),
    MeetingKind.COMMITTEE: N_("家长委员会会议"),
    MeetingKind.OTHER: N_("全校家长会"),
}


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


MEETING_STATUS_LABELS: dict[MeetingStatus, str] = {
    MeetingStatus.PLANNED: N_("已安排"),
    MeetingStatus.HELD: N_("已召开"),
    MeetingStatus.CANCELLED: N_("已取消"),
}


class MinutesKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    kind: MeetingKind = Field(sa_type=str_enum(MeetingKind))
    #: The class of a class meeting (None for the committee and school-wide meetings).
    class_id: int | None = Field(default=None, foreign_key="school_class.id", index=True)
    organiser_id: int = Field(foreign_key="staff.id", index=True)
    title: str = Field(max_length=60)
    starts_at: datetime = Field(sa_type=AwareDateTime, index=True)
    place: str = Field(max_length=PLACE_LIMIT)
    agenda: str = Field(max_length=AGENDA_LIMIT)
    #: The notice that announced it (its receipts are the families' replies).
    notice_id: int | None = Field(default=None, foreign_key="notice.id", index=True)
    status: MeetingStatus = Field(
        default=MeetingStatus.PLANNED, sa_type=str_enum(MeetingStatus), index=True
    )
    held_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: When attendance was last saved (None: not recorded yet).
    attendance_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    minutes_text: str = Field(default="", max_length=MINUTES_LIMIT)
    #: "" (none yet), or a photo / document on `minutes_channel` (or text: `minutes_text`).
    minutes_kind: str = Field(default="", max_length=16)
    minutes_channel: str = Field(default="", max_length=16)
    minutes_file_ref: str = Field(default="", max_length=200)
    minutes_filename: str = Field(default="", max_length=100)
    minutes_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    @property
    def has_minutes(self) -> bool:
        return bool(self.minutes_kind)


class MeetingAttendance(SQLModel, table=True):
    """Whether a student's family came (one row per student of the audience, once recorded)."""

    __tablename__ = "meeting_attendance"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    student_id: int = Field(foreign_key="student.id", primary_key=True, index=True)
    attended: bool = False
    recorded_by: int = Field(foreign_key="staff.id")
    recorded_at: datetime = Field(sa_type=AwareDateTime)


class CommitteeMember(SQLModel, table=True):
    """A guardian on the parent committee 家长委员会, through one of their children."""

    __tablename__ = "committee_member"
    __table_args__ = (
        UniqueConstraint("school_id", "guardian_id", name="uq_committee_member_guardian"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    student_id: int = Field(foreign_key="student.id")
    added_by: int = Field(foreign_key="staff.id")
    added_at: datetime = Field(sa_type=AwareDateTime)
