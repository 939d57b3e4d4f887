"""The problem ledger 问题台账 (DOMAIN.md "Problem ledger"): items and their history.

Each problem found (on a visit, in an incident, by an overdue immediate-visit duty, or entered by
hand) is one `LedgerItem`; one cause makes at most one item (unique source kind and id). What
happens to it is an append-only list of `LedgerEvent`s: nothing is edited away.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum


class LedgerSource(StrEnum):
    """What put the problem in the ledger."""

    VISIT = "visit"  # a visit saved with a problem 需要学校处理
    INCIDENT = "incident"  # an urgent incident reported
    DUTY_OVERDUE = "duty_overdue"  # an immediate-visit duty past due
    MANUAL = "manual"  # entered by staff


class LedgerStatus(StrEnum):
    OPEN = "open"  # recorded, not yet classified
    CLOSED = "closed"  # left the ledger with a resolution note


class LedgerEventKind(StrEnum):
    CREATED = "created"


class LedgerItem(SQLModel, table=True):
    """One problem in the ledger."""

    __tablename__ = "ledger_item"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int | None = Field(default=None, foreign_key="student.id", index=True)
    source: LedgerSource = Field(sa_type=str_enum(LedgerSource))
    #: The visit's, incident's or duty's id; None for an item entered by hand.
    source_id: int | None = None
    description: str = Field(max_length=2000)
    #: The member of staff who recorded it; None when recorded automatically.
    recorded_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=AwareDateTime, index=True)
    status: LedgerStatus = Field(default=LedgerStatus.OPEN, sa_type=str_enum(LedgerStatus))


class LedgerEvent(SQLModel, table=True):
    """One line of an item's history (append-only)."""

    __tablename__ = "ledger_event"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="ledger_item.id", index=True)
    at: datetime = Field(sa_type=AwareDateTime)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    kind: LedgerEventKind = Field(sa_type=str_enum(LedgerEventKind))
    note: str = Field(default="", max_length=2000)
