"""Staff, students and guardians."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime
from models.text import N_


class StaffRole(StrEnum):
    """Roles held beyond teaching (teaching and head-teacher duty come from the class tables)."""

    ADMIN = "admin"  # 德育处
    PRINCIPAL = "principal"  # 校长
    CARE = "care"  # 关爱室
    #: 区域管理员 (区教育局): every school's figures, counts only; nothing of any school's
    #: children (`models.permissions.roles`: this role alone, never with another).
    DISTRICT = "district"


#: Special-type tags 特殊类型, in their canonical order.
STUDENT_TAGS: tuple[str, ...] = (
    N_("贫困"),
    N_("学习困难"),
    N_("单亲"),
    N_("孤儿"),
    N_("智力障碍"),
    N_("留守"),
)


class Staff(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "staff_no"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    staff_no: str = Field(max_length=32)
    name: str = Field(max_length=50)
    phone: str | None = Field(default=None, max_length=20, index=True)
    #: Comma-separated StaffRole values, e.g. "admin,principal".
    roles: str = Field(default="", max_length=100)
    wecom_userid: str | None = Field(default=None, max_length=64)
    active: bool = True

    def role_set(self) -> frozenset[StaffRole]:
        return frozenset(StaffRole(r) for r in self.roles.split(",") if r)


class Teaching(SQLModel, table=True):
    """A subject teacher 任课教师 teaching a class (subject may be blank)."""

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    class_id: int = Field(foreign_key="school_class.id", primary_key=True, index=True)
    subject: str = Field(default="", max_length=20)


class Student(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "student_no"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_no: str = Field(max_length=32)
    name: str = Field(max_length=50, index=True)
    class_id: int = Field(foreign_key="school_class.id", index=True)
    #: Comma-separated special-type tags, in STUDENT_TAGS order ("" for none).
    tags: str = Field(default="", max_length=100)
    active: bool = True
    #: When the student left the roster (made inactive): the retention periods run from it.
    left_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: When `privacy erase` anonymised the student (their name and number are replaced).
    erased_at: datetime | None = Field(default=None, sa_type=AwareDateTime)

    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class StudentHead(SQLModel, table=True):
    """Who became a student's head teacher, and when, as roster imports found it: a row each
    time it changes (`models.roster.head_history`). `since` is None for what the school's first
    import found (long-standing, as far as anyone can tell)."""

    __tablename__ = "student_head"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    head_teacher_id: int | None = Field(default=None, foreign_key="staff.id")
    since: date | None = None


class Guardian(SQLModel, table=True):
    """A parent or other guardian; one guardian may have several children at the school."""

    __table_args__ = (UniqueConstraint("school_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=50)
    phone: str = Field(max_length=20)


class StudentGuardian(SQLModel, table=True):
    __tablename__ = "student_guardian"

    student_id: int = Field(foreign_key="student.id", primary_key=True)
    guardian_id: int = Field(foreign_key="guardian.id", primary_key=True, index=True)
    #: 父亲, 母亲, 爷爷, … as written in the roster.
    relation: str = Field(default="", max_length=20)
    position: int = 1
