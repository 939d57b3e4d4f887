"""The school, its calendar, its classes and its teams / interest groups."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.db.columns import str_enum


class School(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    #: The school year starts on this month/day (default 1 September).
    year_start_month: int = 9
    year_start_day: int = 1
    #: The demo school (`python -m bot demo`): a real roster replaces it, never merges into it.
    demo: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class TermKind(StrEnum):
    SEMESTER = "semester"
    WINTER_BREAK = "winter_break"
    SUMMER_BREAK = "summer_break"


class Term(SQLModel, table=True):
    """A semester or a break, with inclusive start and end dates."""

    __table_args__ = (UniqueConstraint("school_id", "kind", "start_date"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    kind: TermKind = Field(sa_type=str_enum(TermKind))
    name: str = Field(max_length=50)
    start_date: date
    end_date: date


class CalendarDayKind(StrEnum):
    #: A day off the school gives (a holiday, a sports day …) on what would be a school day.
    OFF = "off"
    #: A make-up school day (调休上课) on a weekend or a public holiday.
    SCHOOL_DAY = "school_day"


class CalendarDay(SQLModel, table=True):
    """A day the school's calendar (校历) sets apart: off, or a make-up school day. These
    override China's statutory holidays and their 调休 working days (`models.school.calendar`)."""

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("school_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    day: date
    kind: CalendarDayKind = Field(sa_type=str_enum(CalendarDayKind))
    name: str = Field(max_length=50)


class SchoolClass(SQLModel, table=True):
    """A class such as 三(2)班: grade 3, number 2."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "grade", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    grade: int
    number: int
    name: str = Field(max_length=20)
    head_teacher_id: int | None = Field(default=None, foreign_key="staff.id", index=True)


class Group(SQLModel, table=True):
    """A sports team or an arts / science interest group, led by one or more coaches."""

    __tablename__ = "student_group"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=50)


class GroupCoach(SQLModel, table=True):
    __tablename__ = "group_coach"

    group_id: int = Field(foreign_key="student_group.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True, index=True)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: int = Field(foreign_key="student_group.id", primary_key=True)
    student_id: int = Field(foreign_key="student.id", primary_key=True, index=True)
