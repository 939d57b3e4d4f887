"""How long 德育处's daily digest takes for a big school, and how many queries it runs.

Why: the digest reads the whole school every morning (every teacher's month, every class, a year
of visits for the quota standing); the issue asks for a fixed number of queries whatever the
school's size, and under a second on SQLite for 3,000 students and 150 teachers.

How: a scratch SQLite file (or a database of its own on a PostgreSQL server, dropped afterwards)
is migrated, then filled with bulk inserts: 66 classes (6 grades × 11) of ~45 students, 66 head
teachers and 84 subject teachers teaching three classes each, 德育处 and the principal, the
school year's terms, a school year of visits (head teachers ~12 a month, subject teachers ~9,
some with problems), immediate-visit duties (some overdue) and incidents (some with guardians
not reached). Then, each in a fresh session, it times `gather_digest` + `digest_text` (best of
`--repeat`, and the first run), counts the SQL statements, and times the chart separately (it is
drawn off the event loop). It prints the figures, the digest's text and exits 1 if the query
count differs from `models.digest.queries.QUERIES`.

Run it from the repository root: `python benchmarks/digest.py [--students 3000] [--teachers 150]
[--database-url postgresql://…] [--chart-out digest.png]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # `python benchmarks/digest.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.chart import completion_chart
from handlers.digest import digest_text
from handlers.i18n import translator
from models.db.engine import Database, create_engine
from models.db.migrate import upgrade
from models.digest.queries import QUERIES, DigestFigures, gather_digest
from models.duties.tables import Duty, DutyTrigger
from models.incidents.tables import Incident, IncidentKind
from models.roster.tables import Staff, Student, Teaching
from models.school.tables import School, SchoolClass, Term, TermKind
from models.visits.tables import Visit, VisitCategory, VisitForm

ZONE = ZoneInfo("Asia/Shanghai")
#: The morning the digest is built for: late in the school year, so a year of visits is there.
DEFAULT_TODAY = date(2027, 6, 16)
GRADES = "一二三四五六"
TARGET_SECONDS = 1.0


# -- the school -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltSchool:
    school_id: int
    name: str
    students: int
    teachers: int
    classes: int
    visits: int
    duties: int
    incidents: int


def _school_year_terms(today: date) -> list[tuple[TermKind, str, date, date]]:
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    y = start.year
    return [
        (TermKind.SEMESTER, f"{y}秋季学期", start, date(y + 1, 1, 20)),
        (TermKind.WINTER_BREAK, f"{y + 1}寒假", date(y + 1, 1, 21), date(y + 1, 2, 20)),
        (TermKind.SEMESTER, f"{y + 1}春季学期", date(y + 1, 2, 21), date(y + 1, 7, 5)),
        (TermKind.SUMMER_BREAK, f"{y + 1}暑假", date(y + 1, 7, 6), date(y + 1, 8, 31)),
    ]


def _weekdays(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


async def build_school(
    session: AsyncSession,
    *,
    students: int = 3000,
    teachers: int = 150,
    today: date = DEFAULT_TODAY,
    seed: int = 7,
    name: str = "基准小学",
) -> BuiltSchool:
    """A school with a school year of activity up to `today`, by bulk inserts (no ORM flushes
    per row). Class count: one per ~45 students; teachers beyond the head teachers teach three
    classes each. Deterministic for a given seed."""
    rng = random.Random(seed)
    school = School(name=name)
    session.add(school)
    await session.flush()
    db = await session.connection()
    school_id = school.id or 0
    terms = _school_year_terms(today)
    await db.execute(
        insert(Term),
        [
            {"school_id": school_id, "kind": kind, "name": label, "start_date": a, "end_date": b}
            for kind, label, a, b in terms
        ],
    )

    per_grade = max(1, round(students / 45 / len(GRADES)))
    class_count = min(teachers, per_grade * len(GRADES))
    staff_rows = [
        {"school_id": school_id, "staff_no": f"T{n:04d}", "name": f"教师{n:04d}", "roles": ""}
        for n in range(1, teachers + 1)
    ]
    staff_rows += [
        {"school_id": school_id, "staff_no": "A0001", "name": "德育处主任", "roles": "admin"},
        {"school_id": school_id, "staff_no": "P0001", "name": "校长", "roles": "principal"},
    ]
    await db.execute(insert(Staff), staff_rows)
    staff_ids = list(
        (
            await db.execute(
                text("SELECT id FROM staff WHERE school_id = :s AND roles = '' ORDER BY staff_no"),
                {"s": school_id},
            )
        ).scalars()
    )
    heads, others = staff_ids[:class_count], staff_ids[class_count:]

    class_rows = []
    for index in range(class_count):
        grade, number = index // per_grade + 1, index % per_grade + 1
        class_rows.append(
            {
                "school_id": school_id,
                "grade": grade,
                "number": number,
                "name": f"{GRADES[(grade - 1) % len(GRADES)]}({number})班",
                "head_teacher_id": heads[index],
            }
        )
    await db.execute(insert(SchoolClass), class_rows)
    class_ids = list(
        (
            await db.execute(
                text("SELECT id FROM school_class WHERE school_id = :s ORDER BY grade, number"),
                {"s": school_id},
            )
        ).scalars()
    )
    taught: dict[int, list[int]] = {}
    teaching_rows = []
    for n, staff_id in enumerate(others):
        chosen = sorted({class_ids[(n * 3 + k) % class_count] for k in range(3)})
        taught[staff_id] = chosen
        teaching_rows += [{"staff_id": staff_id, "class_id": c, "subject": "数学"} for c in chosen]
    if teaching_rows:
        await db.execute(insert(Teaching), teaching_rows)

    tags = ["", "", "", "", "", "", "贫困", "单亲", "留守", "学习困难"]
    await db.execute(
        insert(Student),
        [
            {
                "school_id": school_id,
                "student_no": f"S{n:05d}",
                "name": f"学生{n:05d}",
                "class_id": class_ids[n % class_count],
                "tags": rng.choice(tags),
            }
            for n in range(students)
        ],
    )
    pupils: dict[int, list[int]] = {}
    for student_id, class_id in (
        await db.execute(
            text("SELECT id, class_id FROM student WHERE school_id = :s"), {"s": school_id}
        )
    ).all():
        pupils.setdefault(class_id, []).append(student_id)

    semesters = [(a, b) for kind, _, a, b in terms if kind == TermKind.SEMESTER]
    yesterday = today - timedelta(days=1)
    days = [d for a, b in semesters for d in _weekdays(a, min(b, yesterday)) if d <= yesterday]
    forms, categories = list(VisitForm), list(VisitCategory)
    visit_rows: list[dict[str, Any]] = []

    def visits_for(teacher: int, class_choice: list[int], per_day: float) -> None:
        for day in days:
            for _ in range(int(per_day) + (rng.random() < per_day % 1)):
                student = rng.choice(pupils[rng.choice(class_choice)])
                problem = rng.random() < 0.05
                logged = datetime.combine(day, clock_time(19, 0), tzinfo=ZONE)
                visit_rows.append(
                    {
                        "school_id": school_id,
                        "teacher_id": teacher,
                        "student_id": student,
                        "visit_date": day,
                        "form": rng.choice(forms),
                        "category": rng.choices(categories, weights=(8, 2, 1))[0],
                        "met": "母亲",
                        "school_report": "",
                        "home_learned": "",
                        "family": "",
                        "guidance": "",
                        "measures": "",
                        "problems": "作业经常不能按时完成" if problem else "",
                        "needs_school": problem and rng.random() < 0.5,
                        "notes": "",
                        "channel": "telegram",
                        "created_at": logged.astimezone(UTC),
                    }
                )

    for index, head in enumerate(heads):
        # ~12 a month, a few head teachers well behind.
        visits_for(head, [class_ids[index]], 0.55 if index % 9 else 0.2)
    for staff_id in others:
        visits_for(staff_id, taught[staff_id], 0.42)
    for chunk in range(0, len(visit_rows), 5000):
        await db.execute(insert(Visit), visit_rows[chunk : chunk + 5000])

    now = datetime.combine(today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    duty_rows = []
    for n in range(max(1, class_count // 2)):
        index = n % class_count
        triggered = now - timedelta(hours=6 + 9 * n)
        duty_rows.append(
            {
                "school_id": school_id,
                "student_id": pupils[class_ids[index]][0],
                "teacher_id": heads[index],
                "trigger": rng.choice(list(DutyTrigger)),
                "source_key": f"bench:{n}",
                "reason": "",
                "triggered_at": triggered,
                "due_at": triggered + timedelta(hours=24),
                "done_at": None if n % 3 else triggered + timedelta(hours=5),
                "visit_id": None,
                "created_at": triggered,
            }
        )
    await db.execute(insert(Duty), duty_rows)
    incident_rows = []
    for n in range(max(1, class_count // 4)):
        index = (n * 5) % class_count
        reported = now - timedelta(days=n, hours=3)
        incident_rows.append(
            {
                "school_id": school_id,
                "student_id": pupils[class_ids[index]][1 % len(pupils[class_ids[index]])],
                "reporter_id": heads[index],
                "kind": rng.choice(list(IncidentKind)),
                "what": "课间摔倒",
                "where_now": "已送医务室",
                "photo_ref": "",
                "photo_channel": "",
                "reported_at": reported,
                "acknowledged_at": reported + timedelta(minutes=3) if n % 2 else None,
                "not_reached_at": None if n % 2 else reported + timedelta(minutes=10),
                "phoned_at": reported + timedelta(minutes=30) if n % 4 == 2 else None,
            }
        )
    await db.execute(insert(Incident), incident_rows)
    return BuiltSchool(
        school_id=school_id,
        name=name,
        students=students,
        teachers=teachers,
        classes=class_count,
        visits=len(visit_rows),
        duties=len(duty_rows),
        incidents=len(incident_rows),
    )


# -- counting statements ----------------------------------------------------------------------


@contextmanager
def counting_statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement run while inside (transaction control left out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head not in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def build_digest(
    database: Database, school_id: int, name: str, now: datetime
) -> tuple[DigestFigures, str, int]:
    """Figures and text in a fresh session; returns them and the statements run."""
    async with database.session() as session:
        await session.connection()  # the transaction is open: count only the digest
        with counting_statements(database) as seen:
            figures = await gather_digest(
                session=session, school_id=school_id, school_name=name, now=now, zone=ZONE
            )
            body = digest_text(figures, translator("zh"), ZONE)
    return figures, body, len(seen)


# -- the run ----------------------------------------------------------------------------------------


@asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[Database]:
    """A migrated, empty database: a temporary SQLite file, or a new PostgreSQL database."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="jiafang-digest-") as folder:
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            await asyncio.to_thread(upgrade, sqlite_url)
            database = Database(sqlite_url)
            try:
                yield database
            finally:
                await database.dispose()
        return
    name = f"jiafang_digest_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, scratch)
        database = Database(scratch)
        try:
            yield database
        finally:
            await database.dispose()
    finally:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time 德育处's daily digest on a big school")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--teachers", type=int, default=150)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--repeat", type=int, default=5, help="timed builds (best is reported)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    parser.add_argument("--chart-out", type=Path, default=None, help="write the chart here")
    parser.add_argument("--quiet", action="store_true", help="do not print the digest's text")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Report:
    school: BuiltSchool
    queries: int
    first: float
    best: float
    median: float
    chart_first: float
    chart_best: float
    chart_bytes: int
    text: str

    def render(self) -> str:
        s = self.school
        verdict = "met" if self.best < TARGET_SECONDS else "NOT met"
        return "\n".join(
            [
                f"school: {s.students} students, {s.teachers} teachers, {s.classes} classes, "
                f"{s.visits} visits, {s.duties} duties, {s.incidents} incidents",
                f"queries: {self.queries} (fixed: {QUERIES})",
                f"figures + text: best {self.best * 1000:.0f} ms, median "
                f"{self.median * 1000:.0f} ms, first {self.first * 1000:.0f} ms "
                f"(target < {TARGET_SECONDS:g} s: {verdict})",
                f"chart: best {self.chart_best * 1000:.0f} ms, first "
                f"{self.chart_first * 1000:.0f} ms (font loading), {self.chart_bytes} bytes",
            ]
        )


async def run_benchmark(options: argparse.Namespace) -> Report:
    now = datetime.combine(options.today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    async with scratch_database(options.database_url) as database:
        async with database.session() as session:
            school = await build_school(
                session, students=options.students, teachers=options.teachers, today=options.today
            )
        times: list[float] = []
        counts: set[int] = set()
        figures: DigestFigures | None = None
        body = ""
        for _ in range(max(1, options.repeat)):
            started = time.perf_counter()
            figures, body, count = await build_digest(database, school.school_id, school.name, now)
            times.append(time.perf_counter() - started)
            counts.add(count)
        assert figures is not None
        chart_times: list[float] = []
        png: bytes | None = None
        for _ in range(3):
            started = time.perf_counter()
            png = await asyncio.to_thread(completion_chart, figures, translator("zh"))
            chart_times.append(time.perf_counter() - started)
        if options.chart_out is not None and png is not None:
            options.chart_out.write_bytes(png)
    return Report(
        school=school,
        queries=max(counts) if len(counts) == 1 else -1,
        first=times[0],
        best=min(times),
        median=statistics.median(times),
        chart_first=chart_times[0],
        chart_best=min(chart_times),
        chart_bytes=len(png or b""),
        text=body,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    if not options.quiet:
        print(report.text)
        print()
    print(report.render())
    return 0 if report.queries == QUERIES else 1


if __name__ == "__main__":
    sys.exit(main())
