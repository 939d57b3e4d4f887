"""Saving visits and the date rule (models/visits/queries.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.roster.tables import Staff
from models.school.tables import School
from models.visits.queries import (
    DateProblem,
    problem_recipients,
    save_visit,
    visit_date_problem,
)
from models.visits.tables import Visit, VisitCategory, VisitCreate, VisitForm
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school

TODAY = date(2026, 11, 16)


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (date(2026, 11, 16), None),  # today
        (date(2026, 11, 15), None),
        (date(2026, 9, 1), None),  # the school year's first day
        (date(2026, 11, 17), DateProblem.FUTURE),
        (date(2027, 1, 1), DateProblem.FUTURE),
        (date(2026, 8, 31), DateProblem.BEFORE_SCHOOL_YEAR),
        (date(2025, 11, 16), DateProblem.BEFORE_SCHOOL_YEAR),
    ],
)
def test_visit_date_must_be_past_and_in_this_school_year(
    day: date, problem: DateProblem | None
) -> None:
    assert visit_date_problem(day, today=TODAY, school=School(name="x")) is problem


def test_school_year_start_follows_the_schools_calendar() -> None:
    school = School(name="x", year_start_month=2, year_start_day=15)
    assert visit_date_problem(date(2026, 2, 14), today=TODAY, school=school) is (
        DateProblem.BEFORE_SCHOOL_YEAR
    )
    assert visit_date_problem(date(2026, 2, 15), today=TODAY, school=school) is None


def _visit(ts: factories.TestSchool, student: str, day: date) -> VisitCreate:
    return VisitCreate(
        visit_date=day,
        form=VisitForm.PHONE,
        category=VisitCategory.ROUTINE,
        student_id=ts.students[student].id or 0,
        notes="🙂",
    )


async def _save(
    db: Database, clock: FakeClock, ts: factories.TestSchool, teacher: str, day: date
) -> Visit:
    async with db.session() as session:
        return await save_visit(
            session=session,
            visit=_visit(ts, "张小明", day),
            school_id=ts.school.id or 0,
            teacher_id=ts.staff[teacher].id or 0,
            channel="console",
            now=clock(),
        )


async def test_saving_a_visit_writes_an_audit_entry_without_content(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    visit = await _save(db, clock, ts, "王芳", TODAY)
    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert [(e.actor, e.action, e.subject, e.detail) for e in entries] == [
        (f"staff:{ts.staff['王芳'].id}", "visit.create", f"visit:{visit.id}", "")
    ]


async def test_problems_go_to_every_bound_account_of_every_admin(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    second = Staff(
        school_id=ts.school.id or 0, staff_no="T09", name="何静", roles="admin,principal"
    )
    async with db.session() as session:
        session.add(second)
    await bind(db, clock, ts.staff["赵敏"])
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id="555")
    await bind(db, clock, second)
    await bind(db, clock, ts.staff["王芳"])  # not an admin
    async with db.session() as session:
        accounts = await problem_recipients(session=session, school_id=ts.school.id or 0)
    assert sorted((a.person_id, a.channel) for a in accounts) == sorted(
        [
            (ts.staff["赵敏"].id, "console"),
            (ts.staff["赵敏"].id, "telegram"),
            (second.id, "console"),
        ]
    )
