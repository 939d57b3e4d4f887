"""The care room 关爱室 (seed 002, DOMAIN.md "Care room"): confidential cases of students in
difficulty, each followed contact by contact until it is closed with an evaluation.

Only care staff (role 关爱室) and the principal may read a case (`models.permissions`); the staff
member who referred it sees its stage alone (已受理 / 跟进中 / 已结案). Every read and change of a case
is audited with the student (`models.audit`). `CareEntry` rows are the case's chronology: contacts
and stage summaries, appended, never edited.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum
from models.text import N_

#: The longest text of a case's fields and entries.
CASE_TEXT_LIMIT = 2000


class CaseIntake(StrEnum):
    """How a case came to the care room."""

    SELF = "self"  # 学生主动求助 (recorded by a member of staff)
    REFERRAL = "referral"  # 教师转介 (/refer)
    GUARDIAN = "guardian"  # 家长反映 (/care, or the family page)


INTAKE_LABELS: dict[CaseIntake, str] = {
    CaseIntake.SELF: N_("学生主动求助"),
    CaseIntake.REFERRAL: N_("教师转介"),
    CaseIntake.GUARDIAN: N_("家长反映"),
}


class CaseUrgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    RECEIVED = "received"  # 已受理: recorded, not yet assessed
    FOLLOWING = "following"  # 跟进中: assessed, a plan, contacts
    CLOSED = "closed"  # 已结案, with the effect evaluation


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: N_("已受理"),
    CaseStatus.FOLLOWING: N_("跟进中"),
    CaseStatus.CLOSED: N_("已结案"),
}


class CaseNature(StrEnum):
    PSYCHOLOGICAL = "psychological"
    STUDY = "study"
    FAMILY = "family"
    ECONOMIC = "economic"
    BEHAVIOUR = "behaviour"
    OTHER = "other"


NATURE_LABELS: dict[CaseNature, str] = {
    CaseNature.PSYCHOLOGICAL: N_("心理"),
    CaseNature.STUDY: N_("学业"),
    CaseNature.FAMILY: N_("家庭"),
    CaseNature.ECONOMIC: N_("经济"),
    CaseNature.BEHAVIOUR: N_("行为"),
    CaseNature.OTHER: N_("其他"),
}


class CaseSeverity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


SEVERITY_LABELS: dict[CaseSeverity, str] = {
    CaseSeverity.MILD: N_("轻"),
    CaseSeverity.MODERATE: N_("中"),
    CaseSeverity.SEVERE: N_("重"),
}


class CareCase(SQLModel, table=True):
    __tablename__ = "care_case"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    intake: CaseIntake = Field(sa_type=str_enum(CaseIntake))
    urgency: CaseUrgency = Field(default=CaseUrgency.NORMAL, sa_type=str_enum(CaseUrgency))
    #: Who brought it: the referring (or recording) member of staff, or the guardian.
    referred_by_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    referred_by_guardian_id: int | None = Field(default=None, foreign_key="guardian.id")
    #: What was noticed, or what the student or guardian asked for.
    noticed: str = Field(max_length=CASE_TEXT_LIMIT)
    #: The care worker following it (None until one takes it).
    worker_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    status: CaseStatus = Field(default=CaseStatus.RECEIVED, sa_type=str_enum(CaseStatus))
    opened_at: datetime = Field(sa_type=AwareDateTime, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    # -- the case file ---------------------------------------------------------------------------
    basic_info: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    problem: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    background: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    # -- assessment ------------------------------------------------------------------------------
    nature: CaseNature | None = Field(default=None, sa_type=str_enum(CaseNature))
    severity: CaseSeverity | None = Field(default=None, sa_type=str_enum(CaseSeverity))
    assessed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    # -- the help plan ---------------------------------------------------------------------------
    plan_support: str = Field(default="", max_length=500)  # 心理支持
    plan_study: str = Field(default="", max_length=500)  # 学业帮扶
    plan_daily: str = Field(default="", max_length=500)  # 生活帮扶（如经济资助）
    plan_who: str = Field(default="", max_length=100)
    #: A contact is due this often; None until the plan is made.
    plan_every_days: int | None = None
    last_contact_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    # -- closure: the effect evaluation -----------------------------------------------------------
    eval_student: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    eval_teacher: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    eval_parents: str = Field(default="", max_length=CASE_TEXT_LIMIT)


class CareEntryKind(StrEnum):
    CONTACT = "contact"  # 辅导/联系记录: time, place, problem, measures, effect
    SUMMARY = "summary"  # 阶段小结
    # What happened to the case itself (a plain VARCHAR column: no schema change):
    OPENED = "opened"  # 受理 (the intake)
    TAKEN = "taken"  # 接手: `recorded_by` became the worker
    ASSESSED = "assessed"  # 评估: `text` is `nature/severity`
    # 帮扶计划: `problem` support, `measures` study, `effect` daily life, `place` who, `text`
    # the interval in days.
    PLANNED = "planned"
    CLOSED = "closed"  # 结案 (the evaluation is on the case)


ENTRY_LABELS: dict[CareEntryKind, str] = {
    CareEntryKind.CONTACT: N_("辅导记录"),
    CareEntryKind.SUMMARY: N_("阶段小结"),
    CareEntryKind.OPENED: N_("受理"),
    CareEntryKind.TAKEN: N_("接手"),
    CareEntryKind.ASSESSED: N_("评估"),
    CareEntryKind.PLANNED: N_("帮扶计划"),
    CareEntryKind.CLOSED: N_("结案"),
}


class CareEntry(SQLModel, table=True):
    """One line of a case's chronology (append-only)."""

    __tablename__ = "care_entry"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    case_id: int = Field(foreign_key="care_case.id", index=True)
    kind: CareEntryKind = Field(sa_type=str_enum(CareEntryKind))
    #: When the contact took place (a summary: when written).
    at: datetime = Field(sa_type=AwareDateTime)
    place: str = Field(default="", max_length=100)
    problem: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    measures: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    effect: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    #: A stage summary's text.
    text: str = Field(default="", max_length=CASE_TEXT_LIMIT)
    recorded_by: int = Field(foreign_key="staff.id")
    recorded_at: datetime = Field(sa_type=AwareDateTime)
