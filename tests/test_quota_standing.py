"""Where each teacher stands, read from a real database (models/quota/standing.py).

The test school (tests/helpers/factories.py): 王芳 heads 三(2)班 (张小明 单亲·留守, 王磊 学习困难) and
teaches maths in 三(1)班; 李强 heads 三(1)班; 孙丽 heads 四(1)班; 钱进 coaches 篮球队; 赵敏 is
德育处 only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from models.db.engine import Database
from models.quota.rules import QuotaRole, Tally
from models.quota.standing import (
    QUERIES,
    class_month_completion,
    school_standing,
    teacher_standing,
)
from models.school.tables import SchoolClass, TermKind
from models.visits.tables import VisitCategory
from tests.helpers import factories
from tests.helpers.factories import seed_school
from tests.helpers.quota import DAY, YEAR_2026, add_subject_teacher, add_terms, add_visits
from tests.helpers.statements import counting_selects


async def standing_of(db: Database, ts: factories.TestSchool, name: str, day: date = DAY) -> Any:
    async with db.session() as session:
        return await teacher_standing(session=session, staff=ts.staff[name], day=day)


async def test_a_head_teacher_at_four_of_ten_on_the_fifteenth_is_behind_pace(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "刘洋"])
    standing = await standing_of(db, ts, "王芳")
    assert standing.role == QuotaRole.HEAD_TEACHER
    assert standing.month.visits == Tally(4, 10)
    assert standing.month.visits_expected == 5
    assert standing.month.behind


async def test_a_head_teacher_at_ten_of_ten_is_not_behind(db: Database) -> None:
    ts = await seed_school(db)
    pupils = ["张小明", "李娜", "王磊", "刘洋", "陈静", "杨帆", "李华", "周杰"]
    await add_visits(db, ts, "王芳", [*pupils, "张小明", "李娜"])
    standing = await standing_of(db, ts, "王芳")
    assert standing.month.visits == Tally(10, 10)
    assert standing.month.contacts == Tally(8, 8)
    assert not standing.month.behind
    assert standing.month.met


async def test_parent_contacts_count_families_not_records(db: Database) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明", "张小明", "李娜"])
    standing = await standing_of(db, ts, "王芳")
    assert (standing.month.visits.done, standing.month.contacts.done) == (3, 2)


async def test_visits_of_another_month_or_after_the_day_do_not_count_for_the_month(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 10, 31))
    await add_visits(db, ts, "王芳", ["李娜"], day=date(2026, 11, 16))
    await add_visits(db, ts, "王芳", ["王磊"])
    standing = await standing_of(db, ts, "王芳")
    assert standing.month.visits.done == 1


async def test_the_class_coverage_lists_the_students_not_yet_visited_this_school_year(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 9, 3))
    # A visit by another teacher reaches the household too; last school year's does not count.
    await add_visits(db, ts, "李强", ["李娜"])
    await add_visits(db, ts, "王芳", ["王磊"], day=date(2026, 6, 20))
    standing = await standing_of(db, ts, "王芳")
    assert standing.classes == ("三(2)班",)
    assert standing.coverage == Tally(2, 6)
    assert [p.name for p in standing.unvisited] == ["王磊", "刘洋", "陈静", "杨帆"]


async def test_key_visits_count_special_type_students_with_a_key_visit_this_year(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], category=VisitCategory.KEY)
    await add_visits(db, ts, "王芳", ["王磊"], category=VisitCategory.ROUTINE)
    standing = await standing_of(db, ts, "王芳")
    assert standing.key_visits == Tally(1, 2)
    assert [p.name for p in standing.key_missing] == ["王磊"]


async def test_left_behind_childrens_parents_are_contacted_every_month(db: Database) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 10, 20))
    standing = await standing_of(db, ts, "王芳")
    assert standing.left_behind == Tally(0, 1)
    assert [p.name for p in standing.left_behind_missing] == ["张小明"]
    await add_visits(db, ts, "李强", ["张小明"], day=date(2026, 11, 2))
    assert (await standing_of(db, ts, "王芳")).left_behind == Tally(1, 1)


async def test_a_class_without_left_behind_or_special_students_has_no_such_line(
    db: Database,
) -> None:
    ts = await seed_school(db)
    standing = await standing_of(db, ts, "孙丽")  # 四(1)班: 赵刚 孤儿, nobody 留守
    assert standing.left_behind is None
    assert standing.key_visits == Tally(0, 1)


async def test_a_subject_teacher_has_three_visits_and_eight_families_a_month_and_no_class_list(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_subject_teacher(db, ts)
    await add_visits(db, ts, "周婷", ["李娜", "张小红"])
    standing = await standing_of(db, ts, "周婷")
    assert standing.role == QuotaRole.SUBJECT_TEACHER
    assert (standing.month.visits, standing.month.contacts) == (Tally(2, 3), Tally(2, 8))
    assert standing.coverage is None and standing.unvisited == ()
    assert standing.key_visits is None and standing.left_behind is None


async def test_a_coach_has_only_the_parent_contacts(db: Database) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "钱进", ["赵刚"])
    standing = await standing_of(db, ts, "钱进")
    assert standing.role == QuotaRole.COACH
    assert (standing.month.visits, standing.month.contacts) == (None, Tally(1, 8))
    assert standing.on_break is None


async def test_staff_without_a_class_or_group_have_no_quota(db: Database) -> None:
    ts = await seed_school(db)
    assert await standing_of(db, ts, "赵敏") is None


async def test_in_the_winter_break_a_head_teacher_has_six_visits_and_the_must_visit_list(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    winter = date(2027, 2, 1)
    await add_visits(db, ts, "王芳", ["王磊", "李娜"], day=date(2027, 1, 25))
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2027, 1, 20))  # before the break
    standing = await standing_of(db, ts, "王芳", winter)
    assert standing.on_break.kind == TermKind.WINTER_BREAK
    assert standing.on_break.visits == Tally(2, 6)
    assert standing.on_break.must_visit == Tally(1, 2)
    assert [p.name for p in standing.on_break.pending] == ["张小明"]
    # February has no term day before the 23rd: nothing is due yet for the month.
    assert standing.month.visits == Tally(0, 3)
    assert not standing.month.behind


async def test_in_the_winter_break_a_subject_teacher_has_four_visits_and_no_list(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    standing = await standing_of(db, ts, "周婷", date(2027, 1, 23))
    assert standing.on_break.visits == Tally(0, 4)
    assert standing.on_break.must_visit is None


async def test_in_the_summer_a_head_teacher_visits_every_newly_taken_over_student(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    # 王芳 has known 张小明 and 李娜 since the spring; another teacher's visit does not count.
    await add_visits(db, ts, "王芳", ["张小明", "李娜"], day=date(2027, 3, 10))
    await add_visits(db, ts, "李强", ["王磊"], day=date(2027, 3, 10))
    await add_visits(db, ts, "王芳", ["刘洋"], day=date(2027, 7, 10))
    standing = await standing_of(db, ts, "王芳", date(2027, 7, 20))
    assert standing.on_break.kind == TermKind.SUMMER_BREAK
    assert standing.on_break.visits is None
    assert standing.on_break.must_visit == Tally(1, 4)
    assert [p.name for p in standing.on_break.pending] == ["王磊", "陈静", "杨帆"]
    # July: term until the 3rd, so a pro-rated target of 1, and no month in August.
    assert standing.month.visits == Tally(0, 1)
    assert (await standing_of(db, ts, "王芳", date(2027, 8, 2))).month is None


async def test_in_the_summer_a_subject_teacher_has_six_visits(db: Database) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    await add_visits(db, ts, "周婷", ["李娜"], day=date(2027, 7, 5))
    standing = await standing_of(db, ts, "周婷", date(2027, 7, 20))
    assert standing.on_break.visits == Tally(1, 6)


async def test_class_completion_gives_each_class_its_head_teachers_month(db: Database) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "李华"])
    await add_visits(db, ts, "孙丽", ["张小红"])
    await add_visits(db, ts, "李强", ["李华"], day=date(2026, 9, 10))
    async with db.session() as session:
        classes = await class_month_completion(
            session=session, school_id=ts.school.id or 0, day=DAY
        )
    summary = [
        (c.name, c.head_teacher_name, c.done, c.target, c.class_visits, c.visited_this_year)
        for c in classes
    ]
    assert summary == [
        ("三(1)班", "李强", 0, 10, 1, 1),
        ("三(2)班", "王芳", 2 + 1, 10, 2, 2),
        ("四(1)班", "孙丽", 1, 10, 1, 1),
    ]
    assert classes[1].share == 0.3


async def test_a_class_without_a_head_teacher_has_no_target(db: Database) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        klass = await session.get(SchoolClass, ts.classes["四(1)班"].id)
        assert klass is not None
        klass.head_teacher_id = None
        session.add(klass)
    async with db.session() as session:
        classes = await class_month_completion(
            session=session, school_id=ts.school.id or 0, day=DAY
        )
    last = classes[-1]
    assert (last.name, last.head_teacher_id, last.target, last.share) == ("四(1)班", None, 0, 1.0)


async def test_the_whole_school_is_read_in_a_fixed_number_of_queries(db: Database) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    summer = date(2027, 7, 20)  # the summer break needs its one extra query
    async with db.session() as session:
        with counting_selects(db) as small:
            await school_standing(session=session, school_id=ts.school.id or 0, day=summer)
    await add_subject_teacher(db, ts)
    await add_visits(db, ts, "周婷", list(ts.students)[:10], day=date(2027, 3, 1))
    await add_visits(db, ts, "王芳", list(ts.students), day=date(2027, 7, 5))
    async with db.session() as session:
        with counting_selects(db) as large:
            standing = await school_standing(
                session=session, school_id=ts.school.id or 0, day=summer
            )
    assert len(standing.teachers) == 5
    assert len(large) == len(small) == QUERIES


async def test_nobody_is_behind_pace_on_a_day_outside_term_time(db: Database) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    async with db.session() as session:
        last_day = await school_standing(
            session=session, school_id=ts.school.id or 0, day=date(2027, 1, 22), day_complete=True
        )
        winter = await school_standing(
            session=session, school_id=ts.school.id or 0, day=date(2027, 1, 23)
        )
    assert {t.name for t in last_day.behind_pace()} == {"王芳", "李强", "孙丽", "钱进"}
    assert winter.behind_pace() == []
