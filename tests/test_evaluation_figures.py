"""Every teacher's evaluation figures read from a real database (models/evaluation/queries.py),
against a fixture semester computed by hand: the first semester of 2026-27 (1 Sep 2026 – 22 Jan
2027) with its winter break (23 Jan – 22 Feb 2027), evaluated on 1 March 2027.

王芳 heads 三(2)班 (张小明 单亲·留守 and 王磊 学习困难 are special-type; 杨帆 is never visited):

| month | 上门 (routine) | all contacts | target visits / contacts |
|---|---|---|---|
| Sep | 10 | 10 | 10 / 8 |
| Oct | 8 | 10 (2 calls to 张小明) | 10 / 8 |
| Nov | 0 | 0 | 10 / 8 |
| Dec | 10 (one 重点 to 王磊) | 10 | 10 / 8 |
| Jan | 4 | 4 | 8 / 6 (22 of 31 days in term, rounded up) |

Winter break: 3 上门 (张小明, 李娜, 刘洋) of 6, and of the must-visit list (张小明, 王磊) one.
Two records filed more than 7 days late (8 and 10 days), one exactly 7 days (not late), of 37.
Duties: on time; a day late; six hours late; missed; one due after the period (left out).
Ledger: three items recorded in the semester, two closed; one from August (left out).
Campaign 十月大走访 (October, in person): 王芳 is responsible for 张小明's, 李娜's and 王磊's
households; she visits 李娜 and 王磊 at home and only phones 张小明's, whom 李强 visits at home.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from models.campaigns.evaluation import Part
from models.db.engine import Database
from models.evaluation.period import choose_period
from models.evaluation.queries import (
    STATEMENTS,
    STATEMENTS_WITH_SUMMER,
    EvaluationReport,
    evaluation_report,
    school_terms,
)
from models.quota.rules import QuotaRole, Tally
from models.school.rules import DEFAULT_RULES
from tests.helpers import factories
from tests.helpers.evaluation import EVALUATED, build_semester
from tests.helpers.factories import seed_school
from tests.helpers.quota import YEAR_2026, add_terms, add_visits
from tests.helpers.statements import counting_selects


async def report_of(
    db: Database, ts: factories.TestSchool, *, now: datetime = EVALUATED, wanted: str = "2026-09-01"
) -> tuple[EvaluationReport, int]:
    async with db.session() as session:
        with counting_selects(db) as selects:
            terms = await school_terms(session, ts.school.id or 0)
            period = choose_period(terms, wanted, now.date())
            report = await evaluation_report(
                session, ts.school, period, now=now, rules=DEFAULT_RULES
            )
    return report, len(selects)


async def test_the_head_teachers_semester_is_as_computed_by_hand(db: Database) -> None:
    ts = await build_semester(db)
    report, statements = await report_of(db, ts)
    assert statements == STATEMENTS
    assert (report.period.first, report.period.last) == (date(2026, 9, 1), date(2027, 2, 22))
    wang = report.teacher(ts.staff["王芳"].id or 0)
    assert wang is not None and wang.role is QuotaRole.HEAD_TEACHER
    found = wang.evaluation
    assert [(m.done, m.target) for m in found.inputs.routine] == [
        (10, 10),
        (8, 10),
        (0, 10),
        (10, 10),
        (4, 8),
    ]
    assert [(m.done, m.target) for m in found.inputs.contacts] == [
        (10, 8),
        (10, 8),
        (0, 8),
        (10, 8),
        (4, 6),
    ]
    assert found.inputs.key_visits == Tally(1, 2)
    assert [(b.visits, b.must_visit) for b in wang.breaks] == [(Tally(3, 6), Tally(1, 2))]
    assert found.inputs.break_visits == Tally(4, 8)
    assert (found.late_records, found.records) == (2, 37)
    assert (found.duties.on_time, found.duties.late, found.duties.missed) == (1, 2, 1)
    assert found.duties.median_delay == timedelta(hours=15)
    assert len(wang.duties) == 4
    assert found.inputs.class_coverage == Tally(5, 6)
    assert found.inputs.campaign == Tally(2, 3)
    assert found.inputs.ledger == Tally(2, 3)
    parts = {
        Part.ROUTINE_VISITS: Fraction(1 + Fraction(8, 10) + 0 + 1 + Fraction(1, 2), 5),
        Part.PARENT_CONTACTS: Fraction(1 + 1 + 0 + 1 + Fraction(2, 3), 5),
        Part.KEY_VISITS: Fraction(1, 2),
        Part.BREAK_VISITS: Fraction(1, 2),
        Part.DUTIES: Fraction(2 + 1 + 1, 2 * 4),
        Part.RECORDS_ON_TIME: Fraction(35, 37),
        Part.CLASS_COVERAGE: Fraction(5, 6),
        Part.CAMPAIGN: Fraction(2, 3),
        Part.LEDGER: Fraction(2, 3),
    }
    assert found.parts == parts
    weighted = (
        20 * parts[Part.ROUTINE_VISITS]
        + 15 * parts[Part.PARENT_CONTACTS]
        + 10 * parts[Part.KEY_VISITS]
        + 10 * parts[Part.BREAK_VISITS]
        + 15 * parts[Part.DUTIES]
        + 10 * parts[Part.RECORDS_ON_TIME]
        + 10 * parts[Part.CLASS_COVERAGE]
        + 5 * parts[Part.CAMPAIGN]
        + 5 * parts[Part.LEDGER]
    )  # 66.159…
    assert found.score == 66.2 == round(float(weighted), 1)


async def test_a_coach_is_scored_on_parent_contacts_and_records_only(db: Database) -> None:
    ts = await build_semester(db)
    report, _ = await report_of(db, ts)
    coach = report.teacher(ts.staff["钱进"].id or 0)
    assert coach is not None and coach.role is QuotaRole.COACH
    assert coach.evaluation.inputs.routine == ()
    assert set(coach.evaluation.parts) == {Part.PARENT_CONTACTS, Part.RECORDS_ON_TIME}
    # Contacts 1, 0, 0, 0, 0 → ⅕; records 8 of 8: (15·⅕ + 10·1) / 25.
    assert coach.score == 52.0


async def test_a_colleagues_visit_covers_the_household_but_is_not_the_teachers_work(
    db: Database,
) -> None:
    ts = await build_semester(db)
    report, _ = await report_of(db, ts)
    li = report.teacher(ts.staff["李强"].id or 0)
    assert li is not None and li.evaluation.inputs.campaign is None


async def test_staff_without_a_class_or_group_are_not_evaluated_and_the_best_come_first(
    db: Database,
) -> None:
    ts = await build_semester(db)
    report, _ = await report_of(db, ts)
    names = [t.name for t in report.teachers]
    assert "赵敏" not in names
    assert sorted(names) == sorted(["王芳", "李强", "孙丽", "钱进"])
    scores = [t.score for t in report.teachers if t.score is not None]
    assert scores == sorted(scores, reverse=True)
    assert report.visits == 37 + 8 + 1


async def test_a_running_month_counts_against_the_pace_as_quota_does(db: Database) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "刘洋"], day=date(2026, 11, 10))
    now = datetime(2026, 11, 15, 4, tzinfo=UTC)
    report, _ = await report_of(db, ts, now=now, wanted="")
    wang = report.teacher(ts.staff["王芳"].id or 0)
    assert wang is not None
    # September and October full, November: 4 of the 5 due by the start of the 15th.
    assert [(m.month, m.done, m.target) for m in wang.evaluation.inputs.routine] == [
        (date(2026, 9, 1), 0, 10),
        (date(2026, 10, 1), 0, 10),
        (date(2026, 11, 1), 4, 5),
    ]
    assert wang.breaks == ()  # the winter break has not begun


async def test_the_school_year_adds_the_summer_list_in_one_more_statement(db: Database) -> None:
    ts = await build_semester(db)
    now = datetime(2027, 9, 5, 2, tzinfo=UTC)
    async with db.session() as session:
        with counting_selects(db) as selects:
            terms = await school_terms(session, ts.school.id or 0)
            period = choose_period(terms, "2026-09-01", now.date(), year=True)
            report = await evaluation_report(
                session, ts.school, period, now=now, rules=DEFAULT_RULES
            )
    assert len(selects) == STATEMENTS_WITH_SUMMER
    assert report.period.label == "2026-2027学年"
    # September to July: February from the 23rd, July to the 3rd.
    assert [m.month for m in report.months] == [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7]
    wang = report.teacher(ts.staff["王芳"].id or 0)
    assert wang is not None
    assert wang.evaluation.inputs.routine[5].target == 3  # 10 × 6/28, rounded up
    # The winter break as in the semester; the summer's list is empty (nobody taken over).
    assert [b.name for b in wang.breaks] == ["winter_break"]
