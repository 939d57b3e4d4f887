"""How long a 大走访's figures take for a 3,000-student school after a school year of visits, and
how many statements.

Why: `/campaign`'s views (a teacher's list, the overview for 德育处, the principal and the
leaders) read everything from `models.campaigns.queries.campaign_figures`: 入户率 per class,
grade, school and leader, double visits, the households not yet visited, left-behind contacts
this month, each teacher's households. It must stay a fixed number of statements whatever the
school's size, and under 1 s on SQLite and PostgreSQL for a school of 3,000 students after a
school-year-long campaign (the chart not counted: it is drawn in a child process afterwards).

How: the school of `benchmarks/digest.py` (3,000 students in 66 classes, 150 teachers, a school
year of routine visits of every form), with guardians such that about one student in eight
shares a guardian with a brother or sister in another class (households of two or three
children); a campaign from the school year's first day to its last over the whole school, in
person only, its 包保表 generated as `/campaign` generates it (head teacher first, siblings
together) with one leader per grade; then, by bulk inserts, the campaign's own visits: most
households visited at home by their responsible teacher, some twice, some also by another
teacher (double visits), the left-behind households phoned most months, and two or three
contacts a year per household (telephone, letters, parents at school). Everything is drawn at
random with a fixed seed.

`campaign_figures` runs `--repeat` times, each in a fresh session; the statements of every run
are counted (as `benchmarks/ledger.py` counts them) and the median, the worst and the first are
printed against the target, with the figures. They are checked against a plain count of the
`visit` table (households visited, double visits, left-behind households contacted this month);
it exits 1 if a count or the number of statements is wrong.

Run it from the repository root: `python benchmarks/campaign.py [--students 3000] [--repeat 9]
[--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/campaign.py`: import the project
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.digest import (
    DEFAULT_TODAY,
    ZONE,
    build_school,
    counting_statements,
    scratch_database,
)
from models.campaigns import queries
from models.campaigns.figures import CampaignFigures
from models.campaigns.rules import VisitRule, check_campaign
from models.campaigns.tables import AssignmentSource, Campaign
from models.db.engine import Database
from models.roster.tables import Guardian, StudentGuardian
from models.visits.tables import Visit, VisitCategory, VisitForm

TARGET_SECONDS = 1.0
CHUNK = 2000
#: Share of students given a brother or sister's guardian (siblings in other classes).
SIBLING_SHARE = 0.13
#: The campaign's own visits.
VISITED_SHARE = 0.86
SECOND_VISIT_SHARE = 0.10
DOUBLE_SHARE = 0.03
LEFT_BEHIND_MONTHLY_SHARE = 0.8


@dataclass(frozen=True)
class BuiltCampaign:
    campaign: Campaign
    households: int
    students: int
    #: Every visit of the school (the digest's routine ones and the campaign's).
    visits: int
    campaign_visits: int


async def _guardians(session: AsyncSession, school_id: int, rng: random.Random) -> int:
    """Guardians for every student, some shared by siblings in two (or three) classes; the
    number of guardians made."""
    db = await session.connection()
    pupils = [
        (int(sid), int(cid))
        for sid, cid in (
            await db.execute(
                text("SELECT id, class_id FROM student WHERE school_id = :s ORDER BY id"),
                {"s": school_id},
            )
        ).all()
    ]
    owner: dict[int, int] = {}  # student id → index of its guardian
    guardians = 0
    for index, (student_id, class_id) in enumerate(pupils):
        if index and rng.random() < SIBLING_SHARE:
            # The guardian of an earlier student of another class: a brother or sister.
            for _try in range(5):
                other, other_class = pupils[rng.randrange(index)]
                if other_class != class_id:
                    owner[student_id] = owner[other]
                    break
        if student_id not in owner:
            owner[student_id] = guardians
            guardians += 1
    rows = [
        {"school_id": school_id, "name": f"家长{n:05d}", "phone": f"138{n:08d}"}
        for n in range(guardians)
    ]
    for start in range(0, len(rows), CHUNK):
        await db.execute(insert(Guardian), rows[start : start + CHUNK])
    ids = list(
        (
            await db.execute(
                text("SELECT id FROM guardian WHERE school_id = :s ORDER BY id"), {"s": school_id}
            )
        ).scalars()
    )
    links = [
        {"student_id": sid, "guardian_id": ids[g], "relation": "母亲", "position": 1}
        for sid, g in owner.items()
    ]
    for start in range(0, len(links), CHUNK):
        await db.execute(insert(StudentGuardian), links[start : start + CHUNK])
    return guardians


def _visit(
    school_id: int, teacher: int, student: int, day: date, form: VisitForm
) -> dict[str, Any]:
    logged = datetime.combine(day, clock_time(19, 30), tzinfo=ZONE).astimezone(UTC)
    return {
        "school_id": school_id,
        "teacher_id": teacher,
        "student_id": student,
        "visit_date": day,
        "form": form,
        "category": VisitCategory.ROUTINE,
        "met": "母亲",
        "school_report": "",
        "home_learned": "",
        "family": "",
        "guidance": "",
        "measures": "",
        "problems": "",
        "needs_school": False,
        "notes": "",
        "channel": "telegram",
        "created_at": logged,
    }


async def build_campaign(
    session: AsyncSession,
    *,
    students: int,
    teachers: int,
    today: date,
    seed: int = 11,
) -> BuiltCampaign:
    """The school, its households, the campaign and its 包保表, and a year of visits."""
    rng = random.Random(seed)
    school = await build_school(session, students=students, teachers=teachers, today=today)
    school_id = school.school_id
    await _guardians(session, school_id, rng)
    first = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    last = date(first.year + 1, 6, 30)
    spec = check_campaign(
        "学年大走访", first, last, visit_rule=VisitRule.IN_PERSON, left_behind_monthly=True
    )
    now = datetime.combine(first, clock_time(8, 0), tzinfo=ZONE).astimezone(UTC)
    campaign = await queries.create_campaign(session, school_id, spec, by=None, now=now)
    found = await queries.campaign_roster(session, campaign)
    assignment = queries.generated(found)
    grade_of = {k.class_id: k.grade for k in found.roster.classes}
    leaders = {class_id: f"第{grade}年级分管校领导" for class_id, grade in grade_of.items()}
    await queries.write_assignment(
        session,
        campaign,
        assignment,
        source=AssignmentSource.GENERATED,
        by=None,
        now=now,
        leaders=leaders,
        households=found.roster.households,
    )

    households = found.roster.households
    teachers_of = {k: sorted(v) for k, v in found.roster.teachers_of_class.items()}
    responsible = {r.household: r for r in assignment.responsible}
    tags = {
        int(sid): str(t)
        for sid, t in (
            await (await session.connection()).execute(
                text("SELECT id, tags FROM student WHERE school_id = :s"), {"s": school_id}
            )
        ).all()
    }
    last_day = min(last, today - timedelta(days=1))
    span = (last_day - first).days
    rows: list[dict[str, Any]] = []

    def day_in(a: date, b: date) -> date:
        return a + timedelta(days=rng.randint(0, max(0, (b - a).days)))

    for household in households:
        row = responsible.get(household.key)
        if row is None:
            continue
        child = household.child_in(row.class_id).student_id
        others = [t for t in teachers_of.get(row.class_id, []) if t != row.teacher_id]
        if rng.random() < VISITED_SHARE:
            day = first + timedelta(days=rng.randint(0, span))
            rows.append(_visit(school_id, row.teacher_id, child, day, VisitForm.HOME))
            if rng.random() < SECOND_VISIT_SHARE:
                rows.append(
                    _visit(school_id, row.teacher_id, child, day_in(day, last_day), VisitForm.HOME)
                )
            if others and rng.random() < DOUBLE_SHARE / VISITED_SHARE:
                rows.append(
                    _visit(
                        school_id, rng.choice(others), child, day_in(day, last_day), VisitForm.HOME
                    )
                )
        for _contact in range(rng.randint(2, 3)):
            form = rng.choice([VisitForm.PHONE, VisitForm.LETTER, VisitForm.PARENT_CAME])
            rows.append(_visit(school_id, row.teacher_id, child, day_in(first, last_day), form))
        if any("留守" in tags.get(c.student_id, "") for c in household.children):
            month = first
            while month <= last_day:
                if rng.random() < LEFT_BEHIND_MONTHLY_SHARE:
                    end = min(last_day, (month + timedelta(days=31)).replace(day=1) - timedelta(1))
                    rows.append(
                        _visit(
                            school_id, row.teacher_id, child, day_in(month, end), VisitForm.PHONE
                        )
                    )
                month = (month + timedelta(days=31)).replace(day=1)
    db = await session.connection()
    for start in range(0, len(rows), 5000):
        await db.execute(insert(Visit), rows[start : start + 5000])
    return BuiltCampaign(
        campaign=campaign,
        households=len(households),
        students=students,
        visits=school.visits + len(rows),
        campaign_visits=len(rows),
    )


# -- the check: a plain count of the visit table -----------------------------------------------


@dataclass(frozen=True)
class Expected:
    visited: int
    doubles: int
    left_behind: int
    contacted: int


async def plain_count(
    session: AsyncSession, campaign: Campaign, today: date, home_forms: tuple[str, ...]
) -> Expected:
    """The figures counted again in plain Python over plain SQL (no campaign code): households
    by shared guardians, visits in person between the campaign's days."""
    db = await session.connection()
    links = (
        await db.execute(
            text(
                "SELECT sg.student_id, sg.guardian_id, s.tags FROM student_guardian sg "
                "JOIN student s ON s.id = sg.student_id WHERE s.school_id = :s AND s.active"
            ),
            {"s": campaign.school_id},
        )
    ).all()
    by_guardian: dict[int, list[int]] = defaultdict(list)
    for student, guardian, _tags in links:
        by_guardian[int(guardian)].append(int(student))
    # Every student here has one guardian: a household is a guardian's children.
    household_of = {s: g for g, kids in by_guardian.items() for s in kids}
    left = {household_of[int(s)] for s, _g, t in links if "留守" in str(t).split(",")}
    last = min(today, campaign.end_date)
    visits = (
        await db.execute(
            text(
                "SELECT id, student_id, teacher_id, visit_date, form FROM visit "
                "WHERE school_id = :s AND visit_date >= :a AND visit_date <= :b"
            ),
            {"s": campaign.school_id, "a": campaign.start_date, "b": last},
        )
    ).all()
    ordered = sorted(
        (date.fromisoformat(str(d)[:10]), int(i), int(s), int(t), str(f))
        for i, s, t, d, f in visits
    )
    first: dict[int, int] = {}
    doubles = 0
    contacted: set[int] = set()
    for day, _id, student, teacher, form in ordered:
        household = household_of.get(student)
        if household is None:
            continue
        if (day.year, day.month) == (last.year, last.month):
            contacted.add(household)
        if form not in home_forms:
            continue
        visitor = first.setdefault(household, teacher)
        doubles += visitor != teacher
    return Expected(len(first), doubles, len(left), len(contacted & left))


def agrees(figures: CampaignFigures, expected: Expected) -> bool:
    return (
        figures.coverage.school.visited == expected.visited
        and len(figures.doubles) == expected.doubles
        and figures.left_behind.households == expected.left_behind
        and figures.left_behind.visited == expected.contacted
    )


# -- the timing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    statements: int
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def worst(self) -> float:
        return max(self.times)

    @property
    def fixed(self) -> bool:
        return self.statements == queries.FIGURES_STATEMENTS

    def render(self) -> str:
        fixed = "fixed" if self.fixed else f"NOT {queries.FIGURES_STATEMENTS}"
        verdict = "met" if self.median < TARGET_SECONDS else "NOT met"
        return (
            f"campaign_figures: {self.statements} statements ({fixed}); median "
            f"{self.median * 1000:.1f} ms, worst {self.worst * 1000:.1f} ms of {len(self.times)} "
            f"runs, first {self.times[0] * 1000:.1f} ms (target < {TARGET_SECONDS:g} s: {verdict})"
        )


async def time_figures(
    database: Database, campaign: Campaign, today: date, repeat: int
) -> tuple[Timing, CampaignFigures]:
    times: list[float] = []
    counts: set[int] = set()
    figures: CampaignFigures | None = None
    for _ in range(max(1, repeat)):
        async with database.session() as session:
            await session.connection()  # the transaction is open: count only the read
            with counting_statements(database) as seen:
                started = time.perf_counter()
                figures = await queries.campaign_figures(session, campaign, today=today)
                times.append(time.perf_counter() - started)
            counts.add(len(seen))
    assert figures is not None
    return Timing(counts.pop() if len(counts) == 1 else -1, times), figures


def figures_lines(figures: CampaignFigures) -> list[str]:
    cover = figures.coverage
    school = cover.school
    grades = "; ".join(
        f"grade {g} {r.visited}/{r.households} ({r.percent}%)" for g, r in cover.per_grade.items()
    )
    rates = [r.percent or 0 for r in cover.per_class.values()]
    leaders = "; ".join(
        f"{name} {r.visited}/{r.households}" for name, r in list(figures.by_leader.items())[:2]
    )
    return [
        f"入户率: school {school.visited}/{school.households} ({school.percent}%); {grades}",
        f"per class: {len(rates)} classes, {min(rates)}–{max(rates)}%; "
        f"by leader ({len(figures.by_leader)}): {leaders} …",
        f"not yet visited: {school.households - school.visited} households in "
        f"{len(figures.unvisited_per_class())} classes; double visits: {len(figures.doubles)}; "
        f"left-behind households contacted in {figures.month:%Y-%m}: "
        f"{figures.left_behind.visited}/{figures.left_behind.households}; "
        f"counted visits: {figures.counted}",
    ]


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time a 大走访's figures for a big school")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--teachers", type=int, default=150)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--repeat", type=int, default=9, help="timed runs")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Report:
    built: BuiltCampaign
    classes: int
    timing: Timing
    figures: CampaignFigures
    expected: Expected

    @property
    def agrees(self) -> bool:
        return agrees(self.figures, self.expected)

    @property
    def good(self) -> bool:
        return self.timing.fixed and self.agrees

    def render(self) -> str:
        b = self.built
        lines = [
            f"school: {b.students} students, {b.households} households in {self.classes} "
            f"classes; {b.visits} visits in the year ({b.campaign_visits} of them the "
            f"campaign's own)",
            self.timing.render(),
            *figures_lines(self.figures),
            "counts agree with a plain count of the visits"
            if self.agrees
            else f"COUNTS DO NOT AGREE: expected {self.expected}",
        ]
        return "\n".join(lines)


async def run_benchmark(options: argparse.Namespace) -> Report:
    async with scratch_database(options.database_url) as database:
        async with database.session() as session:
            built = await build_campaign(
                session, students=options.students, teachers=options.teachers, today=options.today
            )
        timing, figures = await time_figures(
            database, built.campaign, options.today, options.repeat
        )
        async with database.session() as session:
            expected = await plain_count(session, built.campaign, options.today, ("home",))
    return Report(built, len(figures.classes), timing, figures, expected)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    print(report.render())
    return 0 if report.good else 1


if __name__ == "__main__":
    sys.exit(main())
