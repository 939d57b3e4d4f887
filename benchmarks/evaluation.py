"""How long teachers' evaluation takes for a big school, and how many statements it runs.

Why: `/evaluation` and `export evaluation` score every teacher of the school for a semester or a
school year (`models.evaluation.queries.evaluation_report`): routine visits and parent contacts
month by month, key and break visits, immediate-visit duties, records filed late, the class's
coverage, the 大走访 campaign's households and the ledger. That must stay a fixed number of
statements whatever the school's size, and under 1 s on SQLite and PostgreSQL for a school of
3,000 students with a year of visits.

How: the school of `benchmarks/digest.py` (3,000 students in 66 classes, 150 teachers, a school
year of visits up to mid-June, duties), with a seventh of its visits filed late (up to 12 days
after the visit); a guardian for every student, every tenth student a sibling of the next
(their households shared); a four-week autumn campaign whose 包保表 gives every household to its
home class's head teacher; and the ledger of `benchmarks/ledger.py` (about 2,000 items with
owners, most closed). Then, each in a fresh session, `--repeat` times, it times the calendar
read and the report for

* (a) the autumn semester (with its winter break), over;
* (b) the school year, still running (its months so far, the month in progress at its pace);

and prints the statements run, the median, the worst and the first against the target, with a
few of the figures (teachers scored, the mean score, the campaign's households). It exits 1 if a
statement count differs from `models.evaluation.queries.STATEMENTS`.

Run it from the repository root: `python benchmarks/evaluation.py [--students 3000]
[--teachers 150] [--repeat 10] [--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/evaluation.py`: the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.digest import (
    DEFAULT_TODAY,
    ZONE,
    BuiltSchool,
    build_school,
    counting_statements,
    scratch_database,
)
from benchmarks.ledger import build_ledger
from models.campaigns.rules import CampaignScope, VisitRule
from models.campaigns.tables import AssignmentSource, Campaign, CampaignAssignment
from models.db.engine import Database
from models.evaluation.period import Period, choose_period
from models.evaluation.queries import STATEMENTS, EvaluationReport, evaluation_report, school_terms
from models.families.households import households_from
from models.roster.tables import Guardian, StudentGuardian
from models.school.rules import SchoolRules
from models.school.tables import School

TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Extras:
    households: int
    assigned: int
    late_filed: int
    ledger_items: int


async def add_families_and_campaign(
    session: AsyncSession, school: BuiltSchool, today: date
) -> Extras:
    """Guardians (every tenth student shares the next one's), a campaign over October and
    November of the school year, its 包保表 (each household to its home class's head teacher),
    and a seventh of the visits filed late."""
    db = await session.connection()
    sid = school.school_id
    students = [
        (int(s), int(c))
        for s, c in (
            await db.execute(
                text("SELECT id, class_id FROM student WHERE school_id = :s ORDER BY id"),
                {"s": sid},
            )
        ).all()
    ]
    heads = {
        int(c): int(h)
        for c, h in (
            await db.execute(
                text("SELECT id, head_teacher_id FROM school_class WHERE school_id = :s"),
                {"s": sid},
            )
        ).all()
    }
    await db.execute(
        insert(Guardian),
        [
            {"school_id": sid, "name": f"家长{n:05d}", "phone": f"139{n:08d}"}
            for n in range(len(students))
        ],
    )
    guardians = list(
        (
            await db.execute(
                text("SELECT id FROM guardian WHERE school_id = :s ORDER BY id"), {"s": sid}
            )
        ).scalars()
    )
    links = []
    for n, (student, _class) in enumerate(students):
        # Every tenth student is the next one's sibling: they share a guardian.
        guardian = guardians[n + 1] if n % 10 == 0 and n + 1 < len(students) else guardians[n]
        links.append({"student_id": student, "guardian_id": guardian, "relation": "母亲"})
    await db.execute(insert(StudentGuardian), links)
    class_of = dict(students)
    found = households_from(
        (link["student_id"], class_of[link["student_id"]], link["guardian_id"]) for link in links
    )
    year = today.year if today.month >= 9 else today.year - 1
    campaign = Campaign(
        school_id=sid,
        name="秋季大走访",
        start_date=date(year, 10, 8),
        end_date=date(year, 11, 30),
        scope=CampaignScope.SCHOOL,
        visit_rule=VisitRule.IN_PERSON,
    )
    session.add(campaign)
    await session.flush()
    rows = []
    for household in found:
        home = household.children[0]
        rows.append(
            {
                "school_id": sid,
                "campaign_id": campaign.id,
                "student_id": home.student_id,
                "household": household.key,
                "class_id": home.class_id,
                "teacher_id": heads[home.class_id],
                "leader": "",
                "source": AssignmentSource.GENERATED,
                "assigned_by": None,
                "assigned_at": datetime.now(UTC),
            }
        )
    await db.execute(insert(CampaignAssignment), rows)
    late = (
        await db.execute(
            text(
                "UPDATE visit SET filed_days_late = (id % 13) WHERE school_id = :s AND id % 7 = 0"
            ),
            {"s": sid},
        )
    ).rowcount
    return Extras(len(found), len(rows), int(late or 0), 0)


@dataclass(frozen=True)
class Timing:
    name: str
    statements: int
    median: float
    worst: float
    first: float
    teachers: int
    scored: int
    mean_score: float
    campaign: tuple[int, int]

    @property
    def fixed(self) -> bool:
        return self.statements == STATEMENTS

    def render(self) -> str:
        verdict = "met" if self.median < TARGET_SECONDS else "NOT met"
        done, assigned = self.campaign
        return (
            f"{self.name}: {self.statements} statements "
            f"({'fixed' if self.fixed else f'expected {STATEMENTS}'}); median "
            f"{self.median * 1000:.0f} ms, worst {self.worst * 1000:.0f} ms, first "
            f"{self.first * 1000:.0f} ms (target < {TARGET_SECONDS:g} s: {verdict}); "
            f"{self.teachers} teachers, {self.scored} scored, mean {self.mean_score:.1f}; "
            f"campaign households visited by their teacher {done}/{assigned}"
        )


async def timed_report(
    database: Database,
    school_id: int,
    now: datetime,
    *,
    wanted: str | None,
    year: bool,
    rules: SchoolRules,
) -> tuple[EvaluationReport, int, float]:
    """The calendar read, the period chosen and the report, in a fresh session."""
    async with database.session() as session:
        school = await session.get(School, school_id)
        assert school is not None
        await session.connection()
        started = time.perf_counter()
        with counting_statements(database) as seen:
            terms = await school_terms(session, school_id)
            period: Period = choose_period(terms, wanted, now.astimezone(ZONE).date(), year=year)
            report = await evaluation_report(session, school, period, now=now, rules=rules)
        elapsed = time.perf_counter() - started
    return report, len(seen), elapsed


async def run_case(
    database: Database,
    school_id: int,
    now: datetime,
    name: str,
    *,
    wanted: str | None,
    year: bool,
    repeat: int,
) -> Timing:
    rules = SchoolRules()
    times: list[float] = []
    counts: set[int] = set()
    report: EvaluationReport | None = None
    for _ in range(max(1, repeat)):
        report, count, elapsed = await timed_report(
            database, school_id, now, wanted=wanted, year=year, rules=rules
        )
        times.append(elapsed)
        counts.add(count)
    assert report is not None
    scores = [t.score for t in report.teachers if t.score is not None]
    campaign = [t.evaluation.inputs.campaign for t in report.teachers]
    return Timing(
        name=name,
        statements=max(counts) if len(counts) == 1 else -1,
        median=statistics.median(times),
        worst=max(times),
        first=times[0],
        teachers=len(report.teachers),
        scored=len(scores),
        mean_score=statistics.mean(scores) if scores else 0.0,
        campaign=(
            sum(c.done for c in campaign if c is not None),
            sum(c.target for c in campaign if c is not None),
        ),
    )


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time teachers' evaluation for a big school")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--teachers", type=int, default=150)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each report")
    parser.add_argument("--ledger-items", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Report:
    school: BuiltSchool
    extras: Extras
    timings: list[Timing]

    @property
    def good(self) -> bool:
        return all(t.fixed for t in self.timings)

    def render(self) -> str:
        s, e = self.school, self.extras
        return "\n".join(
            [
                f"school: {s.students} students, {s.teachers} teachers, {s.classes} classes, "
                f"{s.visits} visits ({e.late_filed} filed late), {s.duties} duties, "
                f"{e.ledger_items} ledger items, {e.households} households "
                f"({e.assigned} in the campaign's 包保表)",
                *(t.render() for t in self.timings),
            ]
        )


async def run_benchmark(options: argparse.Namespace) -> Report:
    today: date = options.today
    now = datetime.combine(today, clock_time(10, 0), tzinfo=ZONE).astimezone(UTC)
    first = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    async with scratch_database(options.database_url) as database:
        async with database.session() as session:
            school = await build_school(
                session, students=options.students, teachers=options.teachers, today=today
            )
            extras = await add_families_and_campaign(session, school, today)
            ledger = await build_ledger(session, school, items=options.ledger_items, today=today)
        extras = Extras(extras.households, extras.assigned, extras.late_filed, ledger.items)
        timings = [
            await run_case(
                database,
                school.school_id,
                now,
                "(a) the autumn semester and its winter break",
                wanted=first.isoformat(),
                year=False,
                repeat=options.repeat,
            ),
            await run_case(
                database,
                school.school_id,
                now,
                "(b) the school year so far",
                wanted=None,
                year=True,
                repeat=options.repeat,
            ),
        ]
    return Report(school, extras, timings)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    print(report.render())
    return 0 if report.good else 1


if __name__ == "__main__":
    sys.exit(main())
