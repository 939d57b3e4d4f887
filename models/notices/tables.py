"""Notices to parents 通知 with receipts 回执 (DOMAIN.md "Notices"): the tables.

A `Notice` is written once, when its author submits it (nothing is saved half-way), and moves
through its statuses::

    pending ──批准──▶ approved ──publish time──▶ published ──display window ends──▶ archived
       └────退回(reason)──▶ returned

(`draft` exists for completeness: the compose flow keeps its draft in the conversation, so no
notice row is ever a draft.) An admin's own notice is approved by that admin at submit. The 文号
is allocated when the notice is approved (`NoticeCounter`, one row per school and year), so the
published notices of a year are numbered without gaps: `〔2026〕第012号`.

A meeting's notice (`NoticeKind.MEETING`, written by /meeting, `models.meetings`) asks the
families 确认参加 or 不能参加 instead of 确认收到: either answer is the receipt (`confirmed_at`),
and `NoticeReceipt.answer` says which.

Publishing writes, in one transaction: one `NoticeReceipt` per student of the audience (reached
when either guardian confirms), one `NoticeDelivery` per (guardian, channel) naming the students
it covers — a guardian with no bound account gets one row with `channel == ""` (unreachable) —
and one outbox row per (notice, guardian, channel), keyed `notice:{id}:guardian:{gid}:{channel}`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_


class NoticeKind(StrEnum):
    OUTING = "outing"  # 外出活动
    SUSPENSION = "suspension"  # 停课
    HOLIDAY = "holiday"  # 放假
    FEE = "fee"  # 收费
    EMERGENCY = "emergency"  # 紧急
    OTHER = "other"  # 其他
    #: A parent meeting's announcement (`models.meetings`): written by /meeting only; its
    #: receipts carry the family's answer, 确认参加 or 不能参加.
    MEETING = "meeting"  # 会议


NOTICE_KIND_LABELS: dict[NoticeKind, str] = {
    NoticeKind.OUTING: N_("外出活动"),
    NoticeKind.SUSPENSION: N_("停课"),
    NoticeKind.HOLIDAY: N_("放假"),
    NoticeKind.FEE: N_("收费"),
    NoticeKind.EMERGENCY: N_("紧急"),
    NoticeKind.OTHER: N_("其他"),
    NoticeKind.MEETING: N_("会议"),
}

#: The kinds /notice offers (a meeting's notice is written by /meeting).
COMPOSE_KINDS: tuple[NoticeKind, ...] = tuple(k for k in NoticeKind if k is not NoticeKind.MEETING)

#: The longest title a notice may have (characters).
TITLE_MAX = 60

#: Kinds whose message also carries 有疑问 (a question forwarded to the head teacher).
QUESTION_KINDS = frozenset({NoticeKind.FEE, NoticeKind.OUTING})


class ReceiptAnswer(StrEnum):
    """What a family answered to a meeting's notice (a receipt either way)."""

    ATTEND = "attend"  # 确认参加
    DECLINE = "decline"  # 不能参加


RECEIPT_ANSWER_LABELS: dict[ReceiptAnswer, str] = {
    ReceiptAnswer.ATTEND: N_("确认参加"),
    ReceiptAnswer.DECLINE: N_("不能参加"),
}


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # 待审批
    RETURNED = "returned"  # 已退回
    APPROVED = "approved"  # 已批准，待发布
    PUBLISHED = "published"  # 已发布
    ARCHIVED = "archived"  # 已归档 (display window over; still searchable)


NOTICE_STATUS_LABELS: dict[NoticeStatus, str] = {
    NoticeStatus.DRAFT: N_("草稿"),
    NoticeStatus.PENDING: N_("待审批"),
    NoticeStatus.RETURNED: N_("已退回"),
    NoticeStatus.APPROVED: N_("已批准，待发布"),
    NoticeStatus.PUBLISHED: N_("已发布"),
    NoticeStatus.ARCHIVED: N_("已归档"),
}


class AudienceKind(StrEnum):
    SCHOOL = "school"  # 全校: audience_ids empty
    GRADES = "grades"  # 年级: audience_ids are grade numbers (1–6)
    CLASSES = "classes"  # 班级: audience_ids are school_class ids
    STUDENTS = "students"  # 选择学生: audience_ids are student ids


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


def notice_number(year: int, serial: int) -> str:
    """The 文号 as printed: `〔2026〕第012号`."""
    return f"〔{year}〕第{serial:03d}号"


class Notice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "year", "serial"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    #: The 文号: year and serial, allocated at approval (None before).
    year: int | None = None
    serial: int | None = None
    kind: NoticeKind = Field(sa_type=str_enum(NoticeKind))
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field(max_length=3000)
    author_id: int = Field(foreign_key="staff.id", index=True)
    #: Who the notice is for, as chosen; resolved to students again when it is published.
    audience_kind: AudienceKind = Field(sa_type=str_enum(AudienceKind))
    audience_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    receipt_required: bool = True
    receipt_deadline: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: When it goes out; None: as soon as it is approved.
    publish_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: The last day it is shown (inclusive, in the school's zone); archived after it.
    display_until: date
    status: NoticeStatus = Field(
        default=NoticeStatus.PENDING, sa_type=str_enum(NoticeStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    returned_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    returned_by: int | None = Field(default=None, foreign_key="staff.id")
    return_reason: str = Field(default="", max_length=200)
    published_at: datetime | None = Field(default=None, sa_type=AwareDateTime, index=True)
    archived_at: datetime | None = Field(default=None, sa_type=AwareDateTime)

    @property
    def number(self) -> str:
        """The 文号, or "" before approval."""
        if self.year is None or self.serial is None:
            return ""
        return notice_number(self.year, self.serial)


class NoticeCounter(SQLModel, table=True):
    """The last 文号 serial used per school and year (allocated by one atomic upsert)."""

    __tablename__ = "notice_counter"

    school_id: int = Field(foreign_key="school.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class NoticeAttachment(SQLModel, table=True):
    """A photo or document sent with a notice, kept as the channel's own file reference (a
    Telegram file_id): forwarded as is, never downloaded."""

    __tablename__ = "notice_attachment"
    __table_args__ = (UniqueConstraint("notice_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    position: int
    kind: AttachmentKind = Field(sa_type=str_enum(AttachmentKind))
    #: The channel the file came from; only that channel can send it again.
    channel: str = Field(max_length=16)
    file_ref: str = Field(max_length=200)
    filename: str = Field(default="", max_length=100)
    size: int | None = None


class NoticeReceipt(SQLModel, table=True):
    """One student of a published notice's audience; reached when either guardian confirms."""

    __tablename__ = "notice_receipt"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    student_id: int = Field(foreign_key="student.id", primary_key=True, index=True)
    #: The student's class when the notice was published (for per-class counts).
    class_id: int = Field(foreign_key="school_class.id", index=True)
    confirmed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    confirmed_by: int | None = Field(default=None, foreign_key="guardian.id")
    #: The channel the confirmation came through ("telegram", "console" …).
    channel: str = Field(default="", max_length=16)
    #: A meeting's notice: the family's answer, `ReceiptAnswer` ("" for any other notice). The
    #: latest answer counts; `confirmed_at` stays the first.
    answer: str = Field(default="", max_length=16)


class NoticeDelivery(SQLModel, table=True):
    """One guardian's copy of a notice on one channel, naming the students it covers.

    `channel == ""` records a guardian with no bound account (unreachable: phone them).
    """

    __tablename__ = "notice_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "guardian_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    channel: str = Field(default="", max_length=16)
    chat_id: str = Field(default="", max_length=64)
    #: `notice:{id}:guardian:{gid}:{channel}` ("" when unreachable).
    outbox_key: str = Field(default="", max_length=200)
    student_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    @property
    def reachable(self) -> bool:
        return bool(self.channel)


class NoticeQuestion(SQLModel, table=True):
    """A guardian's 有疑问 about a notice, forwarded to the head teacher of the child's class."""

    __tablename__ = "notice_question"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    student_id: int = Field(foreign_key="student.id")
    #: The head teacher it was forwarded to (None: the class has none; 德育处 got it).
    head_teacher_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str = Field(max_length=500)
    channel: str = Field(default="", max_length=16)
    asked_at: datetime = Field(sa_type=AwareDateTime)
    #: The teacher's answer through the bot (回复家长), once.
    answer: str = Field(default="", max_length=500)
    answered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    answered_by: int | None = Field(default=None, foreign_key="staff.id")
