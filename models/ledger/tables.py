"""The problem ledger 问题台账 (DOMAIN.md "Problem ledger"): items and their history.

Each problem found (on a visit, in an incident, by an overdue immediate-visit duty, in a parent's
feedback, or entered by hand) is one `LedgerItem`; one cause makes at most one item (unique
source kind and id). The item row holds where the problem stands now (its classification, owner,
due date, status); what happened to it is an append-only list of `LedgerEvent`s: nothing is
edited away, and nothing closes without a resolution note.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum
from models.text import N_


class LedgerSource(StrEnum):
    """What put the problem in the ledger."""

    VISIT = "visit"  # a visit saved with a problem 需要学校处理
    INCIDENT = "incident"  # an urgent incident reported
    DUTY_OVERDUE = "duty_overdue"  # an immediate-visit duty past due
    FEEDBACK = "feedback"  # a parent's suggestion or complaint (`models.feedback`)
    SURVEY = "survey"  # a survey answer that needs the school
    MANUAL = "manual"  # entered by staff (/ledger add)
    CORRECTION = "correction"  # a guardian's request to correct their child's data (/mydata)


SOURCE_LABELS: dict[LedgerSource, str] = {
    LedgerSource.VISIT: N_("家访发现"),
    LedgerSource.INCIDENT: N_("突发事件"),
    LedgerSource.DUTY_OVERDUE: N_("立即家访逾期"),
    LedgerSource.FEEDBACK: N_("家长意见"),
    LedgerSource.SURVEY: N_("问卷"),
    LedgerSource.MANUAL: N_("教师登记"),
    LedgerSource.CORRECTION: N_("家长申请更正信息"),
}


class LedgerStatus(StrEnum):
    OPEN = "open"  # recorded, not yet classified
    ACTIVE = "active"  # classified: an owner is on it
    CLOSED = "closed"  # left the ledger with a resolution note


STATUS_LABELS: dict[LedgerStatus, str] = {
    LedgerStatus.OPEN: N_("待分类"),
    LedgerStatus.ACTIVE: N_("处理中"),
    LedgerStatus.CLOSED: N_("已办结"),
}


class LedgerKind(StrEnum):
    """How a problem is handled (seed 003 §二.3)."""

    SOLVE_NOW = "solve_now"  # 立即解决
    TRACK = "track"  # 跟踪解决: a progress note every `follow_every_days`
    ESCALATE = "escalate"  # 上报: beyond the school; the reply is recorded
    EXPLAIN = "explain"  # 当面解释: cannot be solved; a visit to explain it to the parents


KIND_LABELS: dict[LedgerKind, str] = {
    LedgerKind.SOLVE_NOW: N_("立即解决"),
    LedgerKind.TRACK: N_("跟踪解决"),
    LedgerKind.ESCALATE: N_("上报"),
    LedgerKind.EXPLAIN: N_("当面解释"),
}


class LedgerOutcome(StrEnum):
    """How an item left the ledger (chosen with the resolution note)."""

    SOLVED = "solved"
    EXPLAINED = "explained"
    ESCALATED = "escalated"  # handed to, and settled by, the body it was escalated to
    UNFOUNDED = "unfounded"  # checked and found not to be so


OUTCOME_LABELS: dict[LedgerOutcome, str] = {
    LedgerOutcome.SOLVED: N_("已解决"),
    LedgerOutcome.EXPLAINED: N_("已当面解释"),
    LedgerOutcome.ESCALATED: N_("已上报处理"),
    LedgerOutcome.UNFOUNDED: N_("经核实不属实"),
}


class LedgerEventKind(StrEnum):
    CREATED = "created"
    CLASSIFIED = "classified"  # kind, owner and due date set (or changed)
    PROGRESS = "progress"  # a progress note
    REPLY = "reply"  # the reply of the body an item was escalated to
    CLOSED = "closed"  # with its resolution note
    REOPENED = "reopened"  # with its reason


EVENT_LABELS: dict[LedgerEventKind, str] = {
    LedgerEventKind.CREATED: N_("登记"),
    LedgerEventKind.CLASSIFIED: N_("分类"),
    LedgerEventKind.PROGRESS: N_("进展"),
    LedgerEventKind.REPLY: N_("上级答复"),
    LedgerEventKind.CLOSED: N_("办结"),
    LedgerEventKind.REOPENED: N_("重新打开"),
}


class LedgerItem(SQLModel, table=True):
    """One problem in the ledger, as it stands now (its history is in `LedgerEvent`)."""

    __tablename__ = "ledger_item"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_ledger_item_school_status", "school_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int | None = Field(default=None, foreign_key="student.id", index=True)
    #: The class the problem belongs to: the student's class when recorded, or the class a
    #: parent's feedback is about; None for a school-wide item.
    class_id: int | None = Field(default=None, foreign_key="school_class.id")
    source: LedgerSource = Field(sa_type=str_enum(LedgerSource))
    #: The visit's, incident's, duty's or feedback's id; None for an item entered by hand.
    source_id: int | None = None
    description: str = Field(max_length=2000)
    #: The member of staff who recorded it; None when recorded automatically.
    recorded_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=AwareDateTime, index=True)
    status: LedgerStatus = Field(default=LedgerStatus.OPEN, sa_type=str_enum(LedgerStatus))
    kind: LedgerKind | None = Field(default=None, sa_type=str_enum(LedgerKind))
    owner_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    #: The day the owner must have it settled by (school's local date).
    due_on: date | None = None
    #: For 跟踪解决: a progress note is asked for every this many days.
    follow_every_days: int | None = None
    #: For 上报: to whom it was escalated (e.g. 区教育局).
    escalated_to: str = Field(default="", max_length=100)
    #: When someone first acted on it (classified it or wrote a note): the response time.
    first_response_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: The latest progress note (or the classification): a tracked item's next note is due
    #: `follow_every_days` after it.
    last_progress_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    outcome: LedgerOutcome | None = Field(default=None, sa_type=str_enum(LedgerOutcome))


class LedgerEvent(SQLModel, table=True):
    """One line of an item's history (append-only)."""

    __tablename__ = "ledger_event"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="ledger_item.id", index=True)
    at: datetime = Field(sa_type=AwareDateTime)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    kind: LedgerEventKind = Field(sa_type=str_enum(LedgerEventKind))
    note: str = Field(default="", max_length=2000)
