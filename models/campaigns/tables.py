"""The 大走访 campaign's tables (seed 003): the campaign and its assignment table 包保表.

A `Campaign` runs from its first to its last day over the whole school or some grades, with its
rule (`models.campaigns.rules`: which visits tick a household, left-behind households monthly).
While it runs, `/visit` asks the 附2 questions for its students; their answers are the household's
situation (`models.families.tables.FamilyProfile`, shared by siblings), so nothing about a family
is stored twice.

The 包保表 is one `CampaignAssignment` per household: its responsible teacher 责任教师 and the leader
校领导 over the row (as typed in the imported sheet; leaders are often not on the bot's staff
list). A household is the set of children sharing a guardian (`models.families.households`); its
key (the lowest guardian id) changes if guardians are added or removed, so each row also keeps the
household's home child (`student_id`, the eldest, through whose class it is assigned), which is
what the campaign's queries match on. The whole table is written at once (generated or imported)
and replaced at once; a single household can be moved to another teacher.

Visits are not copied: a campaign's coverage is read from the `visit` table, between the
campaign's dates, by the rule.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaigns.rules import MAX_NAME, CampaignScope, VisitRule
from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_

#: Longest leader name kept from a sheet (characters).
LEADER_LIMIT = 20


class AssignmentSource(StrEnum):
    GENERATED = "generated"  # 自动分配
    IMPORTED = "imported"  # 导入
    EDITED = "edited"  # 调整


SOURCE_LABELS: dict[AssignmentSource, str] = {
    AssignmentSource.GENERATED: N_("自动分配"),
    AssignmentSource.IMPORTED: N_("导入"),
    AssignmentSource.EDITED: N_("调整"),
}


class Campaign(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_campaign_school_name"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=MAX_NAME)
    start_date: date
    end_date: date
    scope: CampaignScope = Field(sa_type=str_enum(CampaignScope))
    #: The grades of a `CampaignScope.GRADES` campaign, ascending (empty for the whole school).
    grades: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visit_rule: VisitRule = Field(sa_type=str_enum(VisitRule))
    left_behind_monthly: bool = True
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: Set when 德育处 stops the campaign early; it then counts as ended on that day.
    cancelled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class CampaignAssignment(SQLModel, table=True):
    __tablename__ = "campaign_assignment"
    __table_args__ = (
        UniqueConstraint("campaign_id", "student_id", name="uq_campaign_assignment_student"),
        Index("ix_campaign_assignment_teacher", "campaign_id", "teacher_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    #: The household's home child (the eldest; its class is the row's class).
    student_id: int = Field(foreign_key="student.id")
    #: The household key when assigned (informative: the lowest guardian id then).
    household: int
    class_id: int = Field(foreign_key="school_class.id")
    teacher_id: int = Field(foreign_key="staff.id")
    leader: str = Field(default="", max_length=LEADER_LIMIT)
    source: AssignmentSource = Field(sa_type=str_enum(AssignmentSource))
    assigned_by: int | None = Field(default=None, foreign_key="staff.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
