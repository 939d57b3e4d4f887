"""The district view's figures: two schools side by side, counted by hand
(`tests/helpers/district.py` tells how), in a fixed number of statements."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.db.engine import Database
from models.district.compliance import STATEMENTS, DistrictReport, district_compliance
from models.roster.tables import Staff
from models.school.rules import SchoolRules
from models.school.tables import School
from tests.helpers.district import FIRST, NOW, SECOND, TODAY, add_bureau, build_district
from tests.helpers.statements import counting_selects


async def _report(db: Database, **options: object) -> DistrictReport:
    async with db.session() as session:
        return await district_compliance(session, today=TODAY, now=NOW, **options)  # type: ignore[arg-type]


async def test_each_school_has_its_own_figures_counted_as_the_rules_say(db: Database) -> None:
    await build_district(db)
    report = await _report(db)
    first, second = report.schools
    assert (first.name, second.name) == (FIRST, SECOND)
    assert (first.students, first.staff) == (4, 3)
    assert (first.visits, first.visits_met, first.visits_target) == (13, 11, 13)
    assert (first.teachers, first.on_pace) == (2, 1)
    assert (first.homes_visited, first.coverage_percent) == (3, 75)
    assert (first.overdue_duties, first.unreached_incidents, first.ledger_overdue) == (2, 1, 1)
    assert (first.notices, first.receipts, first.confirmed, first.receipt_percent) == (1, 4, 3, 75)
    assert first.quota_percent == 85 and first.has_calendar
    assert (second.students, second.staff) == (2, 2)
    assert (second.visits, second.visits_met, second.visits_target) == (5, 5, 10)
    assert (second.teachers, second.on_pace, second.homes_visited) == (2, 1, 1)
    assert (second.overdue_duties, second.unreached_incidents, second.ledger_overdue) == (0, 0, 0)
    assert (second.receipts, second.receipt_percent) == (0, None)
    assert not second.has_calendar and second.in_term


async def test_the_district_totals_are_sums_and_its_rates_the_districts_own(db: Database) -> None:
    await build_district(db)
    totals = (await _report(db)).totals
    assert (totals.students, totals.teachers, totals.on_pace) == (6, 4, 2)
    assert (totals.visits_met, totals.visits_target, totals.quota_percent) == (16, 23, 70)
    assert (totals.homes_visited, totals.coverage_percent) == (4, 67)
    assert (totals.overdue_duties, totals.unreached_incidents, totals.receipt_percent) == (2, 1, 75)


async def test_a_school_counting_video_as_a_home_visit_has_it_in_its_coverage(
    db: Database,
) -> None:
    district = await build_district(db)
    video = SchoolRules(video_visit_counts_as="home")
    report = await _report(db, rules_for={district.second_id: video})
    second = next(s for s in report.schools if s.school_id == district.second_id)
    first = next(s for s in report.schools if s.school_id == district.first_id)
    assert (second.homes_visited, second.coverage_percent) == (2, 100)
    assert first.homes_visited == 3


async def test_a_report_for_an_earlier_moment_counts_what_was_open_then(db: Database) -> None:
    await build_district(db)
    async with db.session() as session:
        earlier = await district_compliance(session, today=TODAY, now=NOW - timedelta(hours=26))
    first = next(s for s in earlier.schools if s.name == FIRST)
    # 26 hours earlier: only the two duties due 30 hours before the morning were overdue, one
    # of them done 40 hours before (so: one); the incident was not yet found unreached.
    assert (first.overdue_duties, first.unreached_incidents) == (1, 0)


async def test_the_school_needing_most_attention_comes_first(db: Database) -> None:
    await build_district(db, empty_schools=2)
    names = [s.name for s in (await _report(db)).schools]
    assert names[0] == FIRST
    assert names.index(SECOND) < names.index("空白小学1")  # 50 % before the empty ones' 100 %


async def test_the_whole_district_is_read_in_the_same_few_statements(db: Database) -> None:
    await build_district(db)
    with counting_selects(db) as two:
        await _report(db)
    async with db.session() as session:
        from tests.helpers.district import add_school

        for n in range(3):
            await add_school(session, f"加建小学{n}", [("T1", f"加建{n}")], [f"加建学生{n}"])
        await session.commit()
    with counting_selects(db) as five:
        report = await _report(db)
    assert len(report.schools) == 5
    assert len(two) == len(five) == STATEMENTS


async def test_an_empty_database_gives_an_empty_report_in_one_statement(db: Database) -> None:
    with counting_selects(db) as seen:
        report = await _report(db)
    assert report.schools == [] and len(seen) == 1
    assert report.totals.students == 0 and report.totals.coverage_percent is None


async def test_the_bureaus_own_entry_is_no_school_but_a_school_with_a_district_admin_is(
    db: Database,
) -> None:
    await add_bureau(db)
    await build_district(db, empty_schools=1)
    async with db.session() as session:
        first = (await session.exec(select(School).where(School.name == FIRST))).one()
        session.add(
            Staff(school_id=first.id or 0, staff_no="D09", name="驻校督导", roles="district")
        )
        await session.commit()
    report = await _report(db)
    assert sorted(s.name for s in report.schools) == sorted([FIRST, SECOND, "空白小学1"])
    assert next(s for s in report.schools if s.name == FIRST).staff == 4
