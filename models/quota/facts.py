"""What the quota standings are built from: visit counts per teacher and per student, and the
classes' rosters, each read in one query (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, case, exists, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.quota.rules import MonthSpan
from models.roster.tables import Student, Teaching
from models.school.rules import SchoolRules
from models.school.tables import GroupCoach, SchoolClass, Term
from models.visits.tables import Visit, VisitCategory, VisitForm


@dataclass
class StudentFacts:
    """One student's visits, as the rules count them (`models.quota.rules`)."""

    #: Routine visits this school year by the class's own head teacher (遍访).
    head_year: int = 0
    #: Routine visits this school year, by anyone; those of the key category.
    routine_year: int = 0
    key_routine_year: int = 0
    #: 上门家访 this school year, by anyone (入户); 视频家访 too where the school counts it as
    #: one (`SchoolRules.home_forms`).
    home_year: int = 0
    #: Contacts of any form this month (term days), by anyone.
    month: int = 0
    #: Routine visits in the break, by anyone.
    on_break: int = 0
    #: Contacts of any form in the semester `day` falls in, by anyone.
    semester: int = 0


@dataclass
class TeacherFacts:
    #: Routine visits this month (term days): the visit quota, in 人次.
    month: int = 0
    #: Contacts with parents this month, any form, in 人次.
    contacts: int = 0
    #: Routine visits in the break.
    on_break: int = 0


@dataclass
class RosterEntry:
    id: int
    name: str
    student_no: str
    class_id: int
    tags: list[str]


def _between(first: date, last: date) -> Any:
    return and_(col(Visit.visit_date) >= first, col(Visit.visit_date) <= last)


def _month_condition(span: MonthSpan) -> Any:
    """Visits dated on the month's term days up to `span.day`."""
    runs = [(r.first, min(r.last, span.day)) for r in span.ranges if r.first <= span.day]
    if not runs:
        return false()
    return or_(*(_between(first, last) for first, last in runs))


def _break_condition(term: Term | None, day: date) -> Any:
    """Visits dated in the break up to `day`."""
    return false() if term is None else _between(term.start_date, min(term.end_date, day))


def _counted(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def _rows(
    session: AsyncSession, query: Select[*tuple[Any, ...]]
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Run a many-column Core SELECT in the session's transaction."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


# -- the queries --------------------------------------------------------------------------------


def _routine(rules: SchoolRules) -> Any:
    return col(Visit.form).in_([VisitForm(form) for form in rules.counted_forms()])


async def read_teacher_facts(
    session: AsyncSession,
    school_id: int,
    span: MonthSpan,
    term_break: Term | None,
    lower: date,
    staff_ids: list[int] | None,
    rules: SchoolRules,
) -> dict[int, TeacherFacts]:
    in_month = _month_condition(span)
    routine = _routine(rules)
    contacts = (
        _counted(in_month)
        if rules.contacts_counted_as == "contacts"
        else func.count(func.distinct(case((in_month, Visit.student_id))))
    )
    query = (
        sa_select(
            col(Visit.teacher_id),
            _counted(and_(in_month, routine)),
            contacts,
            _counted(and_(_break_condition(term_break, span.day), routine)),
        )
        .where(col(Visit.school_id) == school_id, col(Visit.visit_date) >= lower)
        .group_by(col(Visit.teacher_id))
    )
    if staff_ids is not None:
        query = query.where(col(Visit.teacher_id).in_(staff_ids))
    rows = await _rows(session, query)
    return {
        int(teacher): TeacherFacts(int(month or 0), int(contacts or 0), int(on_break or 0))
        for teacher, month, contacts, on_break in rows
    }


#: Term-day runs in one month that the save's prebuilt statement takes (more: built per call).
_RUNS = 3
#: An empty date range, for the runs a month does not have.
_NO_RUN = (date.max, date.min)


def _between_params(prefix: str) -> Any:
    return and_(
        col(Visit.visit_date) >= bindparam(f"{prefix}_first"),
        col(Visit.visit_date) <= bindparam(f"{prefix}_last"),
    )


def _one_teacher_query() -> Any:
    """Built once (a save runs it): the teacher's roles and month, with the month's term-day
    runs, the break and the routine forms as parameters."""
    staff_id: Any = bindparam("staff_id")
    in_month = or_(*(_between_params(f"m{n}") for n in range(_RUNS)))
    on_break = _between_params("b")
    routine = col(Visit.form).in_(bindparam("forms", expanding=True))

    def counted(condition: Any, what: Any = None) -> Any:
        return (
            sa_select(func.count() if what is None else what)
            .where(
                col(Visit.school_id) == bindparam("school_id"),
                col(Visit.teacher_id) == staff_id,
                condition,
            )
            .scalar_subquery()
        )

    return sa_select(
        exists().where(col(SchoolClass.head_teacher_id) == staff_id),
        exists().where(col(Teaching.staff_id) == staff_id),
        exists().where(col(GroupCoach.staff_id) == staff_id),
        counted(and_(in_month, routine)),
        counted(in_month),
        counted(in_month, func.count(func.distinct(col(Visit.student_id)))),
        counted(and_(on_break, routine)),
    )


_ONE_TEACHER = _one_teacher_query()


async def read_one_teacher(
    session: AsyncSession,
    school_id: int,
    staff_id: int,
    span: MonthSpan,
    term_break: Term | None,
    rules: SchoolRules,
) -> tuple[bool, bool, bool, TeacherFacts]:
    """(heads a class, teaches one, coaches a group, their facts) in one statement: what a
    save needs to show the month exactly as `read_teacher_facts` counts it."""
    runs = [(r.first, min(r.last, span.day)) for r in span.ranges if r.first <= span.day]
    many = len(runs) > _RUNS  # a month cut into more runs than any real calendar makes
    runs = runs[:_RUNS] + [_NO_RUN] * (_RUNS - len(runs))
    values: dict[str, Any] = {
        "school_id": school_id,
        "staff_id": staff_id,
        "forms": [VisitForm(form) for form in rules.counted_forms()],
    }
    for n, (first, last) in enumerate(runs):
        values[f"m{n}_first"], values[f"m{n}_last"] = first, last
    if term_break is not None:
        values["b_first"], values["b_last"] = (
            term_break.start_date,
            min(term_break.end_date, span.day),
        )
    else:
        values["b_first"], values["b_last"] = _NO_RUN
    connection = await session.connection()
    row = (await connection.execute(_ONE_TEACHER, values)).one()
    heads, teaches, coaches, month, contacts, families, on_break = row
    if rules.contacts_counted_as == "families":
        contacts = families
    facts = TeacherFacts(int(month or 0), int(contacts or 0), int(on_break or 0))
    if many:  # counted the general way instead
        lower = min(span.first, term_break.start_date if term_break else span.first)
        found = await read_teacher_facts(
            session, school_id, span, term_break, lower, [staff_id], rules
        )
        facts = found.get(staff_id, TeacherFacts())
    return bool(heads), bool(teaches), bool(coaches), facts


def classes_in_order(school_id: int) -> SelectOfScalar[SchoolClass]:
    """The school's classes by grade and number."""
    return (
        select(SchoolClass)
        .where(col(SchoolClass.school_id) == school_id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number))
    )


async def read_class_rosters(session: AsyncSession, class_ids: list[int]) -> list[RosterEntry]:
    if not class_ids:
        return []
    query = (
        sa_select(
            col(Student.id),
            col(Student.name),
            col(Student.student_no),
            col(Student.class_id),
            col(Student.tags),
        )
        .where(col(Student.class_id).in_(class_ids), col(Student.active))
        .order_by(col(Student.student_no))
    )
    return [
        RosterEntry(int(sid or 0), name, number, class_id, [t for t in tags.split(",") if t])
        for sid, name, number, class_id, tags in await _rows(session, query)
    ]


@dataclass(frozen=True)
class ClassFacts:
    """A class's active students counted (`read_class_facts`): as many as `read_class_rosters`
    lists, and the sums of their `StudentFacts.month` and of those with `home_year`."""

    students: int = 0
    visits_this_month: int = 0
    visited_this_year: int = 0


async def read_class_facts(
    session: AsyncSession,
    school_id: int,
    span: MonthSpan,
    year_start: date,
    class_ids: list[int],
    rules: SchoolRules,
) -> dict[int, ClassFacts]:
    """Each class's `ClassFacts`, counted in one statement (a class without an active student
    is not in it)."""
    if not class_ids:
        return {}
    home_this_year = and_(
        _between(year_start, span.day),
        col(Visit.form).in_([VisitForm(f) for f in rules.home_forms()]),
    )
    query = (
        sa_select(
            col(Student.class_id),
            func.count(func.distinct(col(Student.id))),
            _counted(_month_condition(span)),
            func.count(func.distinct(case((home_this_year, col(Visit.student_id))))),
        )
        .select_from(Student)
        .outerjoin(
            Visit,
            and_(
                col(Visit.student_id) == col(Student.id),
                col(Visit.school_id) == school_id,
                col(Visit.visit_date) >= min(year_start, span.first),
            ),
        )
        .where(col(Student.class_id).in_(class_ids), col(Student.active))
        .group_by(col(Student.class_id))
    )
    return {
        int(class_id): ClassFacts(int(students), int(month or 0), int(visited or 0))
        for class_id, students, month, visited in await _rows(session, query)
    }


async def read_student_facts(
    session: AsyncSession,
    school_id: int,
    span: MonthSpan,
    term_break: Term | None,
    semester: Term | None,
    year_start: date,
    lower: date,
    class_ids: list[int],
    rules: SchoolRules,
) -> dict[int, StudentFacts]:
    if not class_ids:
        return {}
    this_year = _between(year_start, span.day)
    routine = _routine(rules)
    routine_year = and_(this_year, routine)
    in_semester = (
        _between(semester.start_date, min(semester.end_date, span.day))
        if semester is not None
        else false()
    )
    query = (
        sa_select(
            col(Visit.student_id),
            _counted(and_(routine_year, col(Visit.teacher_id) == col(SchoolClass.head_teacher_id))),
            _counted(routine_year),
            _counted(and_(routine_year, col(Visit.category) == VisitCategory.KEY)),
            _counted(
                and_(this_year, col(Visit.form).in_([VisitForm(f) for f in rules.home_forms()]))
            ),
            _counted(_month_condition(span)),
            _counted(and_(_break_condition(term_break, span.day), routine)),
            _counted(in_semester),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(Visit.school_id) == school_id,
            col(Visit.visit_date) >= lower,
            col(Student.class_id).in_(class_ids),
        )
        .group_by(col(Visit.student_id))
    )
    rows = await _rows(session, query)
    return {int(student): StudentFacts(*(int(n or 0) for n in counts)) for student, *counts in rows}
