"""Setting up quota scenarios on the test school: visits, terms, a subject teacher."""

from __future__ import annotations

from datetime import date
from typing import Any

from models.db.engine import Database
from models.roster.head_history import record_heads
from models.roster.tables import Staff, Student, Teaching
from models.school.tables import Term, TermKind
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers import factories

#: The day most quota tests stand on: Sunday 15 November 2026, half of November past.
DAY = date(2026, 11, 15)


async def add_visits(
    db: Database,
    ts: factories.TestSchool,
    teacher: str,
    students: list[str],
    *,
    day: date = DAY,
    category: VisitCategory = VisitCategory.ROUTINE,
    form: VisitForm = VisitForm.HOME,
    **fields: Any,
) -> None:
    """One visit by `teacher` to each of `students`; `fields` sets any other column."""
    async with db.session() as session:
        for name in students:
            session.add(
                Visit(
                    school_id=ts.school.id or 0,
                    teacher_id=ts.staff[teacher].id or 0,
                    student_id=ts.students[name].id or 0,
                    visit_date=day,
                    form=form,
                    category=category,
                    **fields,
                )
            )


async def add_terms(
    db: Database, ts: factories.TestSchool, *terms: tuple[TermKind, date, date]
) -> None:
    async with db.session() as session:
        for kind, first, last in terms:
            session.add(
                Term(
                    school_id=ts.school.id or 0,
                    kind=kind,
                    name=kind.value,
                    start_date=first,
                    end_date=last,
                )
            )


#: The 2026-27 school year: two semesters, the winter and the summer break.
YEAR_2026 = (
    (TermKind.SEMESTER, date(2026, 9, 1), date(2027, 1, 22)),
    (TermKind.WINTER_BREAK, date(2027, 1, 23), date(2027, 2, 22)),
    (TermKind.SEMESTER, date(2027, 2, 23), date(2027, 7, 3)),
    (TermKind.SUMMER_BREAK, date(2027, 7, 4), date(2027, 8, 31)),
)


async def add_subject_teacher(db: Database, ts: factories.TestSchool) -> None:
    """周老师 teaches 语文 in 三(2)班 and 四(1)班, and heads no class."""
    async with db.session() as session:
        teacher = Staff(school_id=ts.school.id or 0, staff_no="T06", name="周婷")
        session.add(teacher)
        await session.flush()
        for class_name in ("三(2)班", "四(1)班"):
            session.add(
                Teaching(
                    staff_id=teacher.id or 0,
                    class_id=ts.classes[class_name].id or 0,
                    subject="语文",
                )
            )
        ts.staff["周婷"] = teacher


async def record_heads_on(db: Database, ts: factories.TestSchool, day: date) -> None:
    """What a roster import does at its end (bot/roster/importer.py)."""
    async with db.session() as session:
        await record_heads(session=session, school_id=ts.school.id or 0, today=day)


async def move_student(db: Database, ts: factories.TestSchool, name: str, class_name: str) -> None:
    async with db.session() as session:
        student = await session.get(Student, ts.students[name].id)
        assert student is not None
        student.class_id = ts.classes[class_name].id or 0
        session.add(student)
