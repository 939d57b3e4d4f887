"""A household's situation as fields, and a visit's proposal to change a student's tag."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.text import N_


class ParentsWork(StrEnum):
    OFFICIAL = "official"
    WORKER = "worker"
    FARMER = "farmer"
    SELF_EMPLOYED = "self_employed"
    UNEMPLOYED = "unemployed"


class Carer(StrEnum):
    PARENTS = "parents"
    GRANDPARENTS = "grandparents"
    RELATIVES = "relatives"
    OTHER = "other"


class Housing(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


PARENTS_WORK_LABELS: dict[ParentsWork, str] = {
    ParentsWork.OFFICIAL: N_("机关事业单位"),
    ParentsWork.WORKER: N_("工人"),
    ParentsWork.FARMER: N_("农民"),
    ParentsWork.SELF_EMPLOYED: N_("个体"),
    ParentsWork.UNEMPLOYED: N_("无业"),
}
CARER_LABELS: dict[Carer, str] = {
    Carer.PARENTS: N_("父母"),
    Carer.GRANDPARENTS: N_("祖辈"),
    Carer.RELATIVES: N_("亲戚"),
    Carer.OTHER: N_("其他"),
}
HOUSING_LABELS: dict[Housing, str] = {
    Housing.GOOD: N_("好"),
    Housing.FAIR: N_("一般"),
    Housing.POOR: N_("差"),
}


class FamilyProfile(SQLModel, table=True):
    """A student's household as the last visit found it; siblings share it (a visit to one
    updates all of them). Every field is optional: None is "not recorded"."""

    __tablename__ = "family_profile"
    __table_args__ = (UniqueConstraint("student_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id")
    household_size: int | None = None
    school_age_children: int | None = None
    parents_work: ParentsWork | None = Field(default=None, sa_type=str_enum(ParentsWork))
    carer: Carer | None = Field(default=None, sa_type=str_enum(Carer))
    housing: Housing | None = Field(default=None, sa_type=str_enum(Housing))
    #: Both parents (or the only one) work away from home: the child is left behind 留守.
    parents_away: bool | None = None
    #: The 大走访 form's further questions (附2; `models.campaigns.rules.EXTRA_FIELDS` holds their
    #: values and labels): 家庭结构, 经济状况, 父亲职业, 母亲职业.
    family_structure: str | None = Field(default=None, max_length=20)
    economy: str | None = Field(default=None, max_length=20)
    father_work: str | None = Field(default=None, max_length=20)
    mother_work: str | None = Field(default=None, max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: The visit that recorded it last.
    visit_id: int | None = Field(default=None, foreign_key="visit.id")


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class TagProposal(SQLModel, table=True):
    """A visit found a student left behind (or no longer so): 德育处 approves or refuses the
    change of the student's 留守 tag, instead of waiting for the next roster import."""

    __tablename__ = "tag_proposal"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    tag: str = Field(max_length=20)
    #: True: add the tag; False: remove it.
    add: bool
    visit_id: int = Field(foreign_key="visit.id")
    proposed_by: int = Field(foreign_key="staff.id")
    status: ProposalStatus = Field(default=ProposalStatus.PENDING, sa_type=str_enum(ProposalStatus))
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
