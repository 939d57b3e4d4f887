"""Absences and the other immediate-visit triggers a teacher reports (/absence, /flag)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.duties.tables import DutyTrigger


class AbsenceKind(StrEnum):
    SICK = "sick"  # 病假
    UNEXCUSED = "unexcused"  # 无故缺席 / 旷课


class Absence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    kind: AbsenceKind = Field(sa_type=str_enum(AbsenceKind))
    #: The first day missed.
    since: date
    #: The child's first day back, once known (None while the absence runs).
    back_on: date | None = None
    reported_by: int = Field(foreign_key="staff.id")
    reported_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class Flag(SQLModel, table=True):
    """Another trigger reported by a teacher: family change, discipline, award …"""

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    trigger: DutyTrigger = Field(sa_type=str_enum(DutyTrigger))
    note: str = Field(default="", max_length=500)
    flagged_by: int = Field(foreign_key="staff.id")
    flagged_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
