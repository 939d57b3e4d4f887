"""Where each teacher stands, read from a real database (models/quota/standing.py).

The test school (tests/helpers/factories.py): 王芳 heads 三(2)班 (张小明 单亲·留守, 王磊 学习困难) and
teaches maths in 三(1)班; 李强 heads 三(1)班; 孙丽 heads 四(1)班; 钱进 coaches 篮球队; 赵敏 is
德育处 only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from models.db.engine import Database
from models.quota.rules import QuotaRole, Tally
from models.quota.standing import (
    OVERVIEW_QUERIES,
    QUERIES,
    class_month_completion,
    month_overview,
    school_months,
    school_standing,
    teacher_month,
    teacher_standing,
)
from models.roster.tables import Staff, Student
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import SchoolClass, TermKind
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers import factories
from tests.helpers.factories import seed_school
from tests.helpers.quota import (
    DAY,
    YEAR_2026,
    add_subject_teacher,
    add_terms,
    add_visits,
    move_student,
    record_heads_on,
)
from tests.helpers.statements import counting_selects


async def standing_of(
    db: Database,
    ts: factories.TestSchool,
    name: str,
    day: date = DAY,
    rules: SchoolRules = DEFAULT_RULES,
) -> Any:
    async with db.session() as session:
        return await teacher_standing(session=session, staff=ts.staff[name], day=day, rules=rules)


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
    assert standing.month.contacts == Tally(10, 8)  # 人次: every contact counts
    assert not standing.month.behind
    assert standing.month.met


@pytest.mark.parametrize(
    ("visits", "routine", "contacts"),
    [
        # "常规家访……有计划地上门访问" (seed 000 §二.1): only 上门家访 counts as a visit;
        # "每月与学生家长的联系不少于8人次" (§二.4, 家访、信访、电话访): every contact, in 人次.
        ([("张小明", VisitForm.HOME)], 1, 1),
        ([("张小明", VisitForm.PHONE)], 0, 1),
        ([("张小明", VisitForm.PHONE), ("张小明", VisitForm.PHONE)], 0, 2),  # one family, twice
        ([("张小明", VisitForm.HOME), ("张小明", VisitForm.HOME)], 2, 2),
        ([("李娜", VisitForm.LETTER), ("王磊", VisitForm.PARENT_CAME)], 0, 2),
        ([("李娜", VisitForm.INVITED), ("王磊", VisitForm.HOME)], 1, 2),
    ],
)
async def test_visits_count_routine_forms_and_contacts_count_every_contact(
    db: Database, visits: list[tuple[str, VisitForm]], routine: int, contacts: int
) -> None:
    ts = await seed_school(db)
    for student, form in visits:
        await add_visits(db, ts, "王芳", [student], form=form)
    standing = await standing_of(db, ts, "王芳")
    assert (standing.month.visits.done, standing.month.contacts.done) == (routine, contacts)


@pytest.mark.parametrize(
    ("forms", "routine"),
    [(("home",), 1), (("home", "parent_came"), 2), (("home", "parent_came", "invited"), 3)],
)
async def test_a_school_chooses_which_forms_count_as_routine_visits(
    db: Database, forms: tuple[Any, ...], routine: int
) -> None:
    ts = await seed_school(db)
    for student, form in (
        ("张小明", VisitForm.HOME),
        ("李娜", VisitForm.PARENT_CAME),
        ("王磊", VisitForm.INVITED),
        ("刘洋", VisitForm.PHONE),
    ):
        await add_visits(db, ts, "王芳", [student], form=form)
    standing = await standing_of(db, ts, "王芳", rules=SchoolRules(routine_forms=forms))
    assert (standing.month.visits.done, standing.month.contacts.done) == (routine, 4)


async def test_visits_of_another_month_or_after_the_day_do_not_count_for_the_month(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 10, 31))
    await add_visits(db, ts, "王芳", ["李娜"], day=date(2026, 11, 16))
    await add_visits(db, ts, "王芳", ["王磊"])
    standing = await standing_of(db, ts, "王芳")
    assert standing.month.visits.done == 1


async def test_the_class_coverage_counts_only_the_head_teachers_own_home_visits(
    db: Database,
) -> None:
    """ "每学年对班内每一名学生遍访一次" (seed 000 §三.1): the head teacher visits every student."""
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 9, 3))
    await add_visits(db, ts, "李强", ["李娜"])  # another teacher's visit: not the head's 遍访
    await add_visits(db, ts, "王芳", ["刘洋"], form=VisitForm.PHONE)  # a call is not a visit
    await add_visits(db, ts, "王芳", ["王磊"], day=date(2026, 6, 20))  # last school year
    standing = await standing_of(db, ts, "王芳")
    assert standing.classes == ("三(2)班",)
    assert standing.coverage == Tally(1, 6)
    assert [p.name for p in standing.unvisited] == ["李娜", "王磊", "刘洋", "陈静", "杨帆"]


async def test_key_visits_count_beyond_the_routine_visit(db: Database) -> None:
    """ "在常规家访的基础上,每年增加1至2次家访" (seed 000 §三.2)."""
    ts = await seed_school(db)
    # 张小明: a routine visit and a key one; 王磊: one key visit alone (the year's routine one).
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 10, 8))
    await add_visits(db, ts, "王芳", ["张小明", "王磊"], category=VisitCategory.KEY)
    standing = await standing_of(db, ts, "王芳")
    assert standing.key_visits == Tally(1, 2)
    assert [p.name for p in standing.key_missing] == ["王磊"]
    assert standing.coverage == Tally(2, 6)  # both had their routine visit


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
    """ "暑假期间,对新接班学生遍访一次" (seed 000 §三.1): the students whose head teacher changed,
    as the roster imports recorded it."""
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await record_heads_on(db, ts, date(2026, 9, 1))  # the school's first import
    # Next year's roster, imported on 1 July: 李华 moves from 三(1)班 to 王芳's 三(2)班.
    await move_student(db, ts, "李华", "三(2)班")
    await record_heads_on(db, ts, date(2027, 7, 1))
    # 王芳 has known her other pupils all year: visiting them is not the summer's list.
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2027, 7, 10))
    standing = await standing_of(db, ts, "王芳", date(2027, 7, 20))
    assert standing.on_break.kind == TermKind.SUMMER_BREAK
    assert standing.on_break.visits is None
    assert standing.on_break.must_visit == Tally(0, 1)
    assert [p.name for p in standing.on_break.pending] == ["李华"]
    await add_visits(db, ts, "王芳", ["李华"], day=date(2027, 7, 12), form=VisitForm.PHONE)
    standing = await standing_of(db, ts, "王芳", date(2027, 7, 20))
    assert standing.on_break.must_visit == Tally(0, 1)  # a call is not the visit
    await add_visits(db, ts, "王芳", ["李华"], day=date(2027, 7, 15))
    standing = await standing_of(db, ts, "王芳", date(2027, 7, 20))
    assert standing.on_break.must_visit == Tally(1, 1)
    # July: term until the 3rd, so a pro-rated target of 1, and no month in August.
    assert standing.month.visits == Tally(0, 1)
    assert (await standing_of(db, ts, "王芳", date(2027, 8, 2))).month is None


async def test_without_recorded_head_changes_nobody_is_newly_taken_over(db: Database) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await record_heads_on(db, ts, date(2026, 9, 1))
    await record_heads_on(db, ts, date(2027, 7, 1))  # the same roster again: nothing changed
    standing = await standing_of(db, ts, "王芳", date(2027, 7, 20))
    assert standing.on_break.must_visit == Tally(0, 0)


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


async def test_every_students_parents_are_contacted_once_a_semester(db: Database) -> None:
    """ "建立每学期至少一次联系学生家长……的家访长效工作机制" (seed 003): any form, any teacher."""
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "李强", ["张小明"], day=date(2026, 10, 5), form=VisitForm.PHONE)
    await add_visits(db, ts, "王芳", ["李娜"], day=date(2026, 9, 2), form=VisitForm.LETTER)
    await add_visits(db, ts, "王芳", ["王磊"], day=date(2026, 6, 20))  # last school year
    standing = await standing_of(db, ts, "王芳")
    assert standing.semester == Tally(2, 6)
    assert [p.name for p in standing.semester_missing] == ["王磊", "刘洋", "陈静", "杨帆"]
    # The spring semester starts afresh; a break has no semester rule.
    spring = await standing_of(db, ts, "王芳", date(2027, 3, 1))
    assert spring.semester == Tally(0, 6)
    assert (await standing_of(db, ts, "王芳", date(2027, 2, 1))).semester is None


async def test_without_a_calendar_there_is_no_semester_rule(db: Database) -> None:
    ts = await seed_school(db)
    standing = await standing_of(db, ts, "王芳")
    assert standing.semester is None and standing.semester_missing == ()


@pytest.mark.parametrize("name", ["王芳", "周婷", "钱进", "赵敏"])
@pytest.mark.parametrize("day", [DAY, date(2027, 1, 25), date(2027, 2, 24)])
async def test_the_save_line_reads_the_same_month_as_quota(
    db: Database, name: str, day: date
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    for teacher in ("王芳", "周婷", "钱进"):
        await add_visits(db, ts, teacher, ["张小明", "赵刚"], day=day)
        await add_visits(db, ts, teacher, ["李娜"], day=day, form=VisitForm.PHONE)
    full = await standing_of(db, ts, name, day)
    async with db.session() as session:
        month = await teacher_month(session=session, staff=ts.staff[name], day=day)
    assert month == (full.month if full is not None else None)


@pytest.mark.parametrize(
    "day",
    [
        DAY,
        date(2027, 1, 25),
        date(2027, 2, 24),
        date(2027, 7, 20),
        date(2027, 8, 10),
        date(2027, 3, 31),
    ],
)
@pytest.mark.parametrize("rules", [SchoolRules(), SchoolRules(contacts_counted_as="families")])
async def test_the_weekly_nudges_months_are_the_standings_in_three_queries(
    db: Database, day: date, rules: SchoolRules
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    for teacher, when in (("王芳", day), ("周婷", day), ("钱进", day), ("李强", date(2026, 9, 7))):
        await add_visits(db, ts, teacher, ["张小明", "赵刚"], day=when)
        await add_visits(db, ts, teacher, ["张小明"], day=when, form=VisitForm.PHONE)
    async with db.session() as session:
        full = await school_standing(
            session=session, school_id=ts.school.id or 0, day=day, rules=rules
        )
        with counting_selects(db) as selects:
            span, months = await school_months(
                session=session, school_id=ts.school.id or 0, day=day, rules=rules
            )
    assert span == full.span
    assert months == [(t.staff_id, t.month) for t in full.teachers if t.month is not None]
    assert len(selects) == (3 if span.term_days else 1)
    behind = [t.staff_id for t in full.behind_pace()]
    assert [staff for staff, month in months if span.in_term(day) and month.behind] == behind


@pytest.mark.parametrize(
    "day",
    [DAY, date(2027, 1, 25), date(2027, 2, 24), date(2027, 7, 20), date(2026, 9, 1)],
)
@pytest.mark.parametrize("day_complete", [False, True])
@pytest.mark.parametrize(
    "rules",
    [SchoolRules(), SchoolRules(contacts_counted_as="families", video_visit_counts_as="home")],
)
async def test_the_digests_month_is_the_standings_in_six_queries(
    db: Database, day: date, day_complete: bool, rules: SchoolRules
) -> None:
    # The daily digest counts each class's students in the database instead of reading them.
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    for teacher, when in (("王芳", day), ("周婷", day), ("钱进", day), ("李强", date(2026, 9, 7))):
        await add_visits(db, ts, teacher, ["张小明", "赵刚", "王磊"], day=when)
        await add_visits(db, ts, teacher, ["张小明"], day=when, form=VisitForm.PHONE)
        await add_visits(db, ts, teacher, ["李娜"], day=when, form=VisitForm.VIDEO)
    await add_visits(db, ts, "孙丽", ["赵刚"], day=date(2026, 6, 30))  # last school year
    await add_visits(db, ts, "孙丽", ["陈静"], day=date(2026, 10, 12))  # earlier this year
    await add_visits(db, ts, "孙丽", ["赵刚"], day=day + timedelta(days=1))  # after `day`
    async with db.session() as session:
        gone = await session.get(Student, ts.students["王磊"].id)  # left, with visits on record
        assert gone is not None
        gone.active = False
        headless = await session.get(SchoolClass, ts.classes["四(1)班"].id)  # no head teacher
        assert headless is not None
        headless.head_teacher_id = None
        left = await session.get(Staff, ts.staff["李强"].id)  # a head teacher who left
        assert left is not None
        left.active = False
    async with db.session() as session:
        full = await school_standing(
            session=session,
            school_id=ts.school.id or 0,
            day=day,
            rules=rules,
            day_complete=day_complete,
        )
    async with db.session() as session:
        with counting_selects(db) as selects:
            overview = await month_overview(
                session=session,
                school_id=ts.school.id or 0,
                day=day,
                rules=rules,
                day_complete=day_complete,
            )
    assert overview.span == full.span
    assert overview.classes == full.classes
    assert overview.teachers == [(t.name, t.month) for t in full.teachers if t.month is not None]
    assert overview.behind_pace() == [(t.name, t.month) for t in full.behind_pace()]
    assert overview.has_calendar == full.has_calendar
    assert len(selects) == OVERVIEW_QUERIES
    assert sum(c.students for c in overview.classes) > 0


@pytest.mark.parametrize(
    ("rules", "contacts", "coverage", "key"),
    [
        # The seed's readings (the defaults): 人次; the head teacher's own visits; beyond routine.
        (SchoolRules(), 3, Tally(1, 6), Tally(0, 2)),
        (SchoolRules(contacts_counted_as="families"), 2, Tally(1, 6), Tally(0, 2)),
        (SchoolRules(coverage_by="anyone"), 3, Tally(2, 6), Tally(0, 2)),
        (SchoolRules(key_visits_beyond_routine=False), 3, Tally(1, 6), Tally(1, 2)),
    ],
)
async def test_each_counting_rule_is_a_setting_with_the_seeds_reading_as_default(
    db: Database, rules: SchoolRules, contacts: int, coverage: Tally, key: Tally
) -> None:
    ts = await seed_school(db)
    # 王芳: a 重点 home visit to 张小明 (单亲·留守), and two calls to 李娜's family.
    await add_visits(db, ts, "王芳", ["张小明"], category=VisitCategory.KEY)
    await add_visits(db, ts, "王芳", ["李娜", "李娜"], form=VisitForm.PHONE)
    await add_visits(db, ts, "李强", ["王磊"])  # another teacher's home visit
    standing = await standing_of(db, ts, "王芳", rules=rules)
    assert standing.month.contacts.done == contacts
    assert (standing.coverage, standing.key_visits) == (coverage, key)
    async with db.session() as session:  # the save's line counts the same way
        month = await teacher_month(session=session, staff=ts.staff["王芳"], day=DAY, rules=rules)
    assert month == standing.month
