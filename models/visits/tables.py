"""The home-visit record 家访记录 (DOMAIN.md: forms, categories, the record's fields)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_


class VisitForm(StrEnum):
    """Contact forms 家访形式."""

    HOME = "home"  # 上门家访
    PARENT_CAME = "parent_came"  # 家长来访
    INVITED = "invited"  # 约访
    PHONE = "phone"  # 电访
    LETTER = "letter"  # 信访 (letter, e-mail, message)
    #: 视频家访: a video call (微信视频 …). Whether it counts as a home visit or as a contact is
    #: the school's rule (`SchoolRules.video_visit_counts_as`).
    VIDEO = "video"


class VisitCategory(StrEnum):
    """Visit categories 家访分类."""

    ROUTINE = "routine"  # 常规
    KEY = "key"  # 重点
    IMMEDIATE = "immediate"  # 立即


#: Chinese labels, as teachers read and type them (msgids: translate where shown).
FORM_LABELS: dict[VisitForm, str] = {
    VisitForm.HOME: N_("上门家访"),
    VisitForm.PARENT_CAME: N_("家长来访"),
    VisitForm.INVITED: N_("约访"),
    VisitForm.PHONE: N_("电访"),
    VisitForm.LETTER: N_("信访"),
    VisitForm.VIDEO: N_("视频家访"),
}
CATEGORY_LABELS: dict[VisitCategory, str] = {
    VisitCategory.ROUTINE: N_("常规"),
    VisitCategory.KEY: N_("重点"),
    VisitCategory.IMMEDIATE: N_("立即"),
}


class VisitBase(SQLModel):
    visit_date: date
    form: VisitForm = Field(sa_type=str_enum(VisitForm))
    category: VisitCategory = Field(sa_type=str_enum(VisitCategory))
    student_id: int = Field(foreign_key="student.id", index=True)
    #: Who was met: 父亲 / 母亲 / 奶奶 / … or free text.
    met: str = Field(default="", max_length=50)
    #: What was told about school: study, daily life, conduct.
    school_report: str = Field(default="", max_length=2000)
    #: What was learned about home: self-study, chores, attitude to elders.
    home_learned: str = Field(default="", max_length=2000)
    #: Family situation: structure, economy, housing, carer, parents' work.
    family: str = Field(default="", max_length=2000)
    guidance: str = Field(default="", max_length=2000)
    measures: str = Field(default="", max_length=2000)
    problems: str = Field(default="", max_length=2000)
    needs_school: bool = False
    #: Free notes, e.g. the rest of a one-message visit log.
    notes: str = Field(default="", max_length=2000)
    #: Days between the visit and its filing (the school's local dates): how late it was logged.
    filed_days_late: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: Why a visit more than `SchoolRules.late_filing_days` back was logged only now.
    late_reason: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})


class Visit(VisitBase, table=True):
    #: The district figures and the digests count a school's visits by date.
    __table_args__ = (Index("ix_visit_school_date", "school_id", "visit_date"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    teacher_id: int = Field(foreign_key="staff.id", index=True)
    channel: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class VisitCreate(VisitBase):
    """What a flow hands to `models.visits.queries.save_visit`."""
