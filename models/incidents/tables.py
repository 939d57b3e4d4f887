"""Urgent incidents at school (DOMAIN.md "Urgent incidents") and their time-stamped history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_


class IncidentKind(StrEnum):
    ILLNESS = "illness"  # 突发疾病
    INJURY = "injury"  # 意外伤害
    OTHER = "other"  # 其他


INCIDENT_KIND_LABELS: dict[IncidentKind, str] = {
    IncidentKind.ILLNESS: N_("突发疾病"),
    IncidentKind.INJURY: N_("意外伤害"),
    IncidentKind.OTHER: N_("其他"),
}


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    reporter_id: int = Field(foreign_key="staff.id", index=True)
    kind: IncidentKind = Field(sa_type=str_enum(IncidentKind))
    #: What happened.
    what: str = Field(max_length=2000)
    #: Where the child is now and what was done (sent to hospital, parent collecting …).
    where_now: str = Field(default="", max_length=500)
    #: A photo as the reporting channel knows it (e.g. a Telegram file_id), if one was sent.
    photo_ref: str = Field(default="", max_length=200)
    photo_channel: str = Field(default="", max_length=16)
    reported_at: datetime = Field(sa_type=AwareDateTime, index=True)
    #: The first guardian's 已知悉.
    acknowledged_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    acknowledged_by: int | None = Field(default=None, foreign_key="guardian.id")
    #: When staff were told no guardian had acknowledged ("guardian not reached").
    not_reached_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: When a member of staff recorded phoning the family (已电话联系).
    phoned_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    phoned_by: int | None = Field(default=None, foreign_key="staff.id")


class IncidentEvent(SQLModel, table=True):
    """One line of an incident's history: what happened when, and who did it."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = Field(sa_type=AwareDateTime)
    #: reported, guardians_notified, staff_alerted, duty_created, acknowledged, not_reached, phoned
    event: str = Field(max_length=32)
    #: "staff:7", "guardian:12", "system"
    actor: str = Field(default="system", max_length=32)
    detail: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
