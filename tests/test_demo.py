"""The demo school: what `python -m bot demo` seeds, and that seeding twice adds nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import col, func, select

from bot.demo import run_demo_seed, seed_demo
from bot.demo_roster import demo_roster
from bot.settings import Settings
from models.db.engine import Database
from models.errors import ConfigError
from models.ledger.tables import LedgerItem, LedgerSource
from models.roster.tables import STUDENT_TAGS, Guardian, Staff, StaffRole, Student, StudentGuardian
from models.school.tables import Group, GroupCoach, GroupMember, School, SchoolClass, Term
from models.visits.tables import Visit
from tests.helpers.clock import FakeClock

SCHOOL = "示范小学"


async def _count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


def test_the_demo_roster_is_the_same_on_every_call() -> None:
    assert demo_roster() == demo_roster()


def test_demo_roster_has_about_fifteen_percent_special_type_students() -> None:
    students = demo_roster().students
    tagged = [s for s in students if s.tags]
    assert 0.1 <= len(tagged) / len(students) <= 0.2
    assert all(tag in STUDENT_TAGS for s in tagged for tag in s.tags.split(","))


def test_demo_roster_has_sibling_pairs_sharing_guardians() -> None:
    families = Counter(s.guardians for s in demo_roster().students)
    assert sum(1 for count in families.values() if count == 2) >= 3


async def test_demo_seed_builds_two_grades_of_two_classes_with_thirty_students_each(
    db: Database, clock: FakeClock
) -> None:
    summary = await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        classes = (await session.exec(select(SchoolClass))).all()
        per_class = Counter((await session.exec(select(Student.class_id))).all())
    assert sorted(c.name for c in classes) == ["三(1)班", "三(2)班", "四(1)班", "四(2)班"]
    assert all(c.head_teacher_id is not None for c in classes)
    assert sorted(per_class.values()) == [30, 30, 30, 30]
    assert (summary.classes, summary.students, summary.staff) == (4, 120, 11)


async def test_demo_staff_are_eight_teachers_an_admin_a_principal_and_a_care_room_member(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        staff = (await session.exec(select(Staff))).all()

    def holding(role: StaffRole) -> list[str]:
        return [s.name for s in staff if role in s.role_set()]

    assert len(staff) == 11
    assert holding(StaffRole.ADMIN) == ["赵丽华"]
    assert holding(StaffRole.PRINCIPAL) == ["郑国强"]
    assert holding(StaffRole.CARE) == ["林静"]


async def test_every_demo_student_has_one_or_two_guardians(db: Database, clock: FakeClock) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        links = Counter((await session.exec(select(StudentGuardian.student_id))).all())
    assert len(links) == 120
    assert set(links.values()) == {1, 2}


async def test_the_basketball_team_has_a_coach_and_ten_members(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        team = (await session.exec(select(Group))).one()
        coaches = (await session.exec(select(GroupCoach))).all()
        members = (await session.exec(select(GroupMember))).all()
    assert team.name == "篮球队"
    assert len(coaches) == 1
    assert len(members) == 10


async def test_demo_visits_fall_in_the_current_month_up_to_today(
    db: Database, clock: FakeClock
) -> None:
    summary = await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        dates = (await session.exec(select(col(Visit.visit_date)))).all()
    assert summary.visits_this_month == len(dates) > 0
    assert all(d.year == 2026 and d.month == 11 and d.day <= 16 for d in dates)


async def test_the_demo_ledger_holds_the_visits_problem_and_a_school_wide_item(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        items = (await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all()
        [visit] = (await session.exec(select(Visit).where(col(Visit.needs_school)))).all()
    assert [(i.source, i.source_id, i.student_id) for i in items] == [
        (LedgerSource.VISIT, visit.id, visit.student_id),
        (LedgerSource.MANUAL, None, None),
    ]


async def test_seeding_again_adds_nothing(db: Database, clock: FakeClock) -> None:
    first = await seed_demo(db, school_name=SCHOOL, now=clock())
    tables = (School, SchoolClass, Staff, Student, Guardian, StudentGuardian, GroupMember)
    before = [await _count(db, t) for t in (*tables, Visit, Term, LedgerItem)]
    clock.advance(days=20)  # even in another month
    second = await seed_demo(db, school_name=SCHOOL, now=clock())
    after = [await _count(db, t) for t in (*tables, Visit, Term, LedgerItem)]
    assert first.added > 0
    assert second.added == 0
    assert after == before


async def test_demo_command_refuses_politely_when_a_school_exists(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.session() as session:
        session.add(School(name="真实小学"))
    settings = Settings(database_url=db.url, _env_file=None)
    with pytest.raises(ConfigError, match="--force"):
        await run_demo_seed(settings, force=False)
    assert await _count(db, Student) == 0


async def test_demo_command_with_force_seeds_beside_an_existing_school(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.session() as session:
        session.add(School(name="真实小学"))
    settings = Settings(database_url=db.url, _env_file=None)
    assert await run_demo_seed(settings, force=True) == 0
    assert "120 名学生" in capsys.readouterr().out
    assert await _count(db, School) == 2
