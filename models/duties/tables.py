"""Immediate-visit duties 立即家访 (DOMAIN.md "Visit categories": the triggers).

A duty is created once per (teacher, source): the source key names what caused it
(`incident:42`, `absence:7`, `flag:3`), so running the same rule twice makes one duty.
It is fulfilled by an in-person visit (上门家访) for the student logged after the trigger.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_


class DutyTrigger(StrEnum):
    """Why an immediate visit is due (DOMAIN.md's list)."""

    INCIDENT = "incident"  # 学生伤害事故 / 突发疾病 reported with /incident
    SICK_ABSENCE = "sick_absence"  # 因病缺课两天以上
    UNEXCUSED_ABSENCE = "unexcused_absence"  # 无故缺席旷课
    FAMILY_CHANGE = "family_change"  # 家庭重大变故
    PARENT_ACCIDENT = "parent_accident"  # 家长重大事故
    DISCIPLINE = "discipline"  # 严重违规违纪
    AWARD = "award"  # 获突出进步或奖励
    OTHER = "other"  # 其他重要问题


TRIGGER_LABELS: dict[DutyTrigger, str] = {
    DutyTrigger.INCIDENT: N_("突发事件"),
    DutyTrigger.SICK_ABSENCE: N_("因病缺课两天以上"),
    DutyTrigger.UNEXCUSED_ABSENCE: N_("无故缺席旷课"),
    DutyTrigger.FAMILY_CHANGE: N_("家庭重大变故"),
    DutyTrigger.PARENT_ACCIDENT: N_("家长重大事故"),
    DutyTrigger.DISCIPLINE: N_("严重违规违纪"),
    DutyTrigger.AWARD: N_("获突出进步或奖励"),
    DutyTrigger.OTHER: N_("其他重要问题"),
}


class Duty(SQLModel, table=True):
    """One teacher's duty to visit one student in person, at once."""

    __table_args__ = (UniqueConstraint("teacher_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    teacher_id: int = Field(foreign_key="staff.id", index=True)
    trigger: DutyTrigger = Field(sa_type=str_enum(DutyTrigger))
    #: What caused it, e.g. "incident:42"; unique per teacher.
    source_key: str = Field(max_length=64)
    #: A short, factual reason shown to the teacher (no medical detail).
    reason: str = Field(default="", max_length=200)
    triggered_at: datetime = Field(sa_type=AwareDateTime)
    due_at: datetime = Field(sa_type=AwareDateTime, index=True)
    #: Set when the in-person visit that fulfils it is saved.
    done_at: datetime | None = Field(default=None, sa_type=AwareDateTime, index=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
