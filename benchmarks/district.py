"""How long the district view and the morning sweep take for a district of 100 schools and
300,000 students after a school year of visits, and how many statements.

Why: issue 14 asks for a district on one deployment — 100 schools, 300,000 students, a school
year of visits, about 1.5 M rows — whose morning sweep fits in 10 s on PostgreSQL. The district
view (`models.district.compliance.district_compliance`: every school's quota, pace, 入户率,
overdue immediate visits, unreached incidents, receipt rate and overdue ledger items) must read
it in a fixed number of statements for the whole district (`STATEMENTS`), not a few per school,
and well inside that budget.

How: a scratch database (a temporary SQLite file, or a database of its own on a PostgreSQL
server, dropped afterwards) is migrated, then filled by bulk inserts with ids given up front —
PostgreSQL's COPY (asyncpg's `copy_records_to_table`) for the big tables, multi-row INSERTs
for the rest and on SQLite. Each school: a calendar (every tenth school has none), 66 classes of
about 45 students (for 3,000), a head teacher each, subject teachers teaching three classes, two
coaches and 德育处; a guardian per student; a school year of visits on the semesters' weekdays
through yesterday (head teachers about ten home visits a month, some well behind, subject
teachers about three, phone calls on top); immediate-visit duties (some overdue), incidents
(some not reached), notices to one grade with their receipts (most confirmed) and ledger items
(some overdue); a bound Telegram account for every member of staff. After the schools, the
bureau's own entry: a roster of one 区域管理员 and no student. Everything is drawn at random with
a fixed seed. PostgreSQL is ANALYZEd after the load, as autovacuum would.

Then `district_compliance` runs `--repeat` times, each in a fresh session; its statements are
counted (as `benchmarks/digest.py` counts them) and the median, the worst and the first are
printed against the target, with the district digest's text timed once and its totals. The
chat's whole `/district` answer, as a 区域管理员 gets it (the figures with each school's own
rules, the chart drawn in a child process and stored), is timed once too. The
district's 入户 total is checked against a plain count of the `visit` table.

Last, the morning sweep (`benchmarks.district_sweep`): every school's scheduled jobs of the
morning of `--today` (a Monday by default: the weekly nudge's day), each through its school's
`JobScheduler` as the scheduler fires them — the slot claimed, the job run in its transaction,
its messages queued in the outbox, nothing delivered — `--sweep-repeat` times with the slots and
the outbox cleared between runs; schools one after another (`--sweep-concurrency N`: up to N at
once on the event loop; `--sweep-workers N`, on PostgreSQL: in N processes, each firing every
school's slots and the first to claim a slot running it, as `bot run --all-schools --workers N`
does). It prints the median, the seconds per school, the charts' share, the
statements per school (lowest and highest) and the rows queued by job. It exits 1 if the
district's figures or statements are wrong, or if the sweep's runs queued different rows.

Run it from the repository root: `python benchmarks/district.py [--schools 100]
[--students-per-school 3000] [--repeat 5] [--sweep-repeat 3] [--sweep-concurrency 1]
[--sweep-workers 1] [--database-url postgresql://…] [--quiet]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/district.py`: import the project
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.digest import GRADES, ZONE, counting_statements, scratch_database
from benchmarks.district_sweep import Sweep, time_sweep
from handlers.district import district_digest_text, district_reply
from handlers.i18n import translator
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.engine import Database
from models.district.compliance import STATEMENTS, DistrictReport, district_compliance
from models.duties.tables import Duty, DutyTrigger
from models.incidents.tables import Incident, IncidentKind
from models.ledger.tables import LedgerItem, LedgerSource, LedgerStatus
from models.notices.tables import AudienceKind, Notice, NoticeKind, NoticeReceipt, NoticeStatus
from models.roster.tables import Guardian, Staff, StaffRole, Student, StudentGuardian, Teaching
from models.school.rules import DEFAULT_RULES
from models.school.tables import Group, GroupCoach, School, SchoolClass, Term, TermKind
from models.visits.tables import Visit, VisitCategory, VisitForm

#: The issue's budget for the whole morning sweep; the district view is one part of it.
SWEEP_SECONDS = 10.0
#: The morning the district is built for and swept: a Monday (the weekly nudge's day) late in
#: the school year.
SWEEP_MONDAY = date(2027, 6, 14)
#: Rows per INSERT (SQLite) or per COPY (PostgreSQL).
CHUNK = 20_000
TAGS = ("", "", "", "", "", "", "贫困", "单亲", "留守", "学习困难")


# -- rows with every column ------------------------------------------------------------------------


def _fill(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """The columns a row leaves out and their values: the column's default, else NULL (COPY
    applies no default, so every column is given)."""
    now = datetime.now(UTC)
    missing: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given:
            continue
        default = column.default
        if default is None:
            missing[column.name] = None
        elif getattr(default, "is_callable", False):
            missing[column.name] = now
        else:
            missing[column.name] = getattr(default, "arg", None)
    return missing


def _json(value: Any) -> Any:
    """A list as COPY gives it to a json column."""
    return json.dumps(value) if isinstance(value, list) else value


@dataclass
class Loader:
    """Writes rows table by table: COPY on PostgreSQL, multi-row INSERTs on SQLite."""

    connection: AsyncConnection
    postgres: bool
    counts: dict[str, int] = field(default_factory=dict)

    async def rows(
        self, model: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        table: Table = model.__table__
        if not rows:
            return
        missing = _fill(table, columns)
        names = [*columns, *missing]
        tail = tuple(missing.values())
        json_columns = any(str(table.columns[n].type) == "JSON" for n in names)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        for start in range(0, len(rows), CHUNK):
            chunk = [row + tail for row in rows[start : start + CHUNK]]
            if self.postgres:
                chunk = [tuple(_json(v) for v in row) for row in chunk] if json_columns else chunk
                raw = await self.connection.get_raw_connection()
                driver: Any = raw.driver_connection
                await driver.copy_records_to_table(table.name, records=chunk, columns=names)
            else:
                await self.connection.execute(
                    insert(table), [dict(zip(names, row, strict=True)) for row in chunk]
                )

    async def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids given, and gather its statistics."""
        if not self.postgres:
            return
        for model in ORDER:
            table: Table = model.__table__
            if "id" in table.columns and table.name in self.counts:
                await self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'(SELECT MAX(id) FROM "{table.name}"))'
                    )
                )
        await self.connection.commit()
        await self.connection.execution_options(isolation_level="AUTOCOMMIT")
        await self.connection.execute(text("ANALYZE"))


# -- the district ------------------------------------------------------------------------------------


@dataclass
class Ids:
    """The next id of each table (the database is empty: ids are given up front)."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str, count: int = 1) -> int:
        first = self.next.get(table, 1)
        self.next[table] = first + count
        return first


def _terms(today: date, calendar: bool) -> list[tuple[TermKind, str, date, date]]:
    y = today.year if today.month >= 9 else today.year - 1
    if not calendar:
        return []
    return [
        (TermKind.SEMESTER, f"{y}秋季学期", date(y, 9, 1), date(y + 1, 1, 20)),
        (TermKind.WINTER_BREAK, f"{y + 1}寒假", date(y + 1, 1, 21), date(y + 1, 2, 20)),
        (TermKind.SEMESTER, f"{y + 1}春季学期", date(y + 1, 2, 21), date(y + 1, 7, 5)),
        (TermKind.SUMMER_BREAK, f"{y + 1}暑假", date(y + 1, 7, 6), date(y + 1, 8, 31)),
    ]


def _school_days(today: date, terms: list[tuple[TermKind, str, date, date]]) -> list[date]:
    y = today.year if today.month >= 9 else today.year - 1
    spans = [(a, b) for kind, _, a, b in terms if kind is TermKind.SEMESTER] or [
        (date(y, 9, 1), today)
    ]
    days = []
    for first, last in spans:
        day = first
        while day <= min(last, today - timedelta(days=1)):
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Built:
    schools: int
    students: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass
class _Rows:
    """One school's rows, table by table."""

    tables: dict[Any, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)

    def add(self, model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        found = self.tables.setdefault(model, (columns, []))
        found[1].extend(rows)


def _visit(
    vid: int, school: int, teacher: int, student: int, day: date, form: VisitForm
) -> tuple[Any, ...]:
    logged = datetime.combine(day, clock_time(19, 30), tzinfo=ZONE).astimezone(UTC)
    return (vid, school, teacher, student, day, form.value, VisitCategory.ROUTINE.value, logged)


VISIT_COLUMNS = [
    *("id", "school_id", "teacher_id", "student_id", "visit_date", "form", "category"),
    "created_at",
]


def _school(ids: Ids, n: int, students: int, today: date, rng: random.Random, out: _Rows) -> None:
    """School `n`'s rows: roster, calendar, a year of visits and the morning's exceptions."""
    sid = ids.take("school")
    now = datetime.combine(today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    out.add(School, ["id", "name", "timezone"], [(sid, f"第{n:03d}小学", "Asia/Shanghai")])
    terms = _terms(today, calendar=n % 10 != 0)
    out.add(
        Term,
        ["id", "school_id", "kind", "name", "start_date", "end_date"],
        [(ids.take("term"), sid, kind.value, name, a, b) for kind, name, a, b in terms],
    )
    per_grade = max(1, round(students / 45 / len(GRADES)))
    classes = per_grade * len(GRADES)
    subjects = max(1, round(classes * 1.2))
    staff_first = ids.take("staff", classes + subjects + 3)
    heads = list(range(staff_first, staff_first + classes))
    others = list(range(staff_first + classes, staff_first + classes + subjects))
    coaches = [staff_first + classes + subjects, staff_first + classes + subjects + 1]
    admin = staff_first + classes + subjects + 2
    out.add(
        Staff,
        ["id", "school_id", "staff_no", "name", "roles", "active"],
        [
            (person, sid, f"T{k:04d}", f"教师{k:04d}", "admin" if person == admin else "", True)
            for k, person in enumerate(range(staff_first, admin + 1))
        ],
    )
    _accounts(ids, sid, range(staff_first, admin + 1), out)
    class_first = ids.take("school_class", classes)
    class_ids = list(range(class_first, class_first + classes))
    out.add(
        SchoolClass,
        ["id", "school_id", "grade", "number", "name", "head_teacher_id"],
        [
            (
                cid,
                sid,
                k // per_grade + 1,
                k % per_grade + 1,
                f"{GRADES[k // per_grade]}({k % per_grade + 1})班",
                heads[k],
            )
            for k, cid in enumerate(class_ids)
        ],
    )
    taught = {
        t: sorted({class_ids[(k * 3 + j) % classes] for j in range(3)})
        for k, t in enumerate(others)
    }
    out.add(
        Teaching,
        ["staff_id", "class_id", "subject"],
        [(t, c, "数学") for t, cs in taught.items() for c in cs],
    )
    group = ids.take("student_group")
    out.add(Group, ["id", "school_id", "name"], [(group, sid, "篮球队")])
    out.add(GroupCoach, ["group_id", "staff_id"], [(group, c) for c in coaches])

    first_student = ids.take("student", students)
    pupils: dict[int, list[int]] = {c: [] for c in class_ids}
    student_rows = []
    for k in range(students):
        student_id, class_id = first_student + k, class_ids[k % classes]
        pupils[class_id].append(student_id)
        student_rows.append(
            (student_id, sid, f"S{k:05d}", f"学生{k:05d}", class_id, rng.choice(TAGS), True)
        )
    out.add(
        Student,
        ["id", "school_id", "student_no", "name", "class_id", "tags", "active"],
        student_rows,
    )
    first_guardian = ids.take("guardian", students)
    out.add(
        Guardian,
        ["id", "school_id", "name", "phone"],
        [(first_guardian + k, sid, f"家长{k:05d}", f"13{sid:03d}{k:06d}") for k in range(students)],
    )
    out.add(
        StudentGuardian,
        ["student_id", "guardian_id", "relation", "position"],
        [(first_student + k, first_guardian + k, "母亲", 1) for k in range(students)],
    )

    days = _school_days(today, terms)
    visits: list[tuple[Any, ...]] = []
    school_pace = rng.uniform(0.7, 1.1)

    def visit(teacher: int, student: int, day: date, form: VisitForm) -> None:
        visits.append(_visit(ids.take("visit"), sid, teacher, student, day, form))

    for k, head in enumerate(heads):
        own = pupils[class_ids[k]]
        rate = 0.5 * school_pace * (0.4 if k % 9 == 0 else rng.uniform(0.85, 1.15))
        for day in days:
            if rng.random() < rate:
                visit(head, rng.choice(own), day, VisitForm.HOME)
            if rng.random() < 0.12:
                visit(head, rng.choice(own), day, VisitForm.PHONE)
    for teacher in others:
        mine = [s for c in taught[teacher] for s in pupils[c]]
        for day in days:
            if rng.random() < 0.15 * school_pace:
                visit(teacher, rng.choice(mine), day, VisitForm.HOME)
            if rng.random() < 0.3:
                visit(teacher, rng.choice(mine), day, VisitForm.PHONE)
    for coach in coaches:
        for day in days:
            if rng.random() < 0.35 * school_pace:
                visit(coach, first_student + rng.randrange(students), day, VisitForm.PHONE)
    out.add(Visit, VISIT_COLUMNS, visits)

    hour = timedelta(hours=1)
    duties = []
    for k in range(max(2, classes // 3)):
        due = now - (6 + 11 * k) * hour
        done = None if k % 3 == 0 or due > now else due - 2 * hour
        duties.append(
            (
                ids.take("duty"),
                sid,
                pupils[class_ids[k % classes]][0],
                heads[k % classes],
                DutyTrigger.OTHER.value,
                f"bench:{k}",
                due - 24 * hour,
                due,
                done,
            )
        )
    out.add(
        Duty,
        [
            "id",
            "school_id",
            "student_id",
            "teacher_id",
            "trigger",
            "source_key",
            "triggered_at",
            "due_at",
            "done_at",
        ],
        duties,
    )
    incidents = []
    for k in range(max(1, classes // 12)):
        reported = now - timedelta(days=k, hours=3)
        unreached = k % 2 == 0
        incidents.append(
            (
                ids.take("incident"),
                sid,
                pupils[class_ids[(5 * k) % classes]][0],
                heads[(5 * k) % classes],
                IncidentKind.INJURY.value,
                "课间摔倒",
                reported,
                None if unreached else reported + 0.05 * hour,
                reported + 0.2 * hour if unreached else None,
                reported + 0.5 * hour if unreached and k % 4 == 2 else None,
            )
        )
    out.add(
        Incident,
        [
            *("id", "school_id", "student_id", "reporter_id", "kind", "what", "reported_at"),
            *("acknowledged_at", "not_reached_at", "phoned_at"),
        ],
        incidents,
    )
    confirm_share = rng.uniform(0.6, 0.98)
    for k, days_ago in enumerate((3, 12, 25, 45)):
        notice = ids.take("notice")
        grade = k % len(GRADES)
        published = now - timedelta(days=days_ago)
        out.add(
            Notice,
            [
                *("id", "school_id", "year", "serial", "kind", "title", "body", "author_id"),
                *("audience_kind", "audience_ids", "receipt_required", "display_until"),
                *("status", "published_at"),
            ],
            [
                (
                    notice,
                    sid,
                    published.year,
                    k + 1,
                    NoticeKind.OTHER.value,
                    f"通知{k + 1}",
                    "请家长知悉。",
                    admin,
                    AudienceKind.GRADES.value,
                    [grade + 1],
                    True,
                    today + timedelta(days=30),
                    NoticeStatus.PUBLISHED.value,
                    published,
                )
            ],
        )
        audience = [
            (s, c)
            for c in class_ids[grade * per_grade : (grade + 1) * per_grade]
            for s in pupils[c]
        ]
        out.add(
            NoticeReceipt,
            ["notice_id", "student_id", "class_id", "confirmed_at"],
            [
                (notice, s, c, published + hour if rng.random() < confirm_share else None)
                for s, c in audience
            ],
        )
    out.add(
        LedgerItem,
        [
            *("id", "school_id", "class_id", "source", "description", "created_at", "status"),
            "due_on",
        ],
        [
            (
                ids.take("ledger_item"),
                sid,
                class_ids[k % classes],
                LedgerSource.MANUAL.value,
                "作业问题",
                now - timedelta(days=20 - k),
                (LedgerStatus.ACTIVE if k % 3 else LedgerStatus.CLOSED).value,
                today + timedelta(days=k - 5),
            )
            for k in range(12)
        ],
    )


def _accounts(ids: Ids, sid: int, staff: range, out: _Rows) -> None:
    """A bound Telegram account (Chinese) for every member of staff: what the morning's jobs
    queue for."""
    first = ids.take("channel_account", len(staff))
    out.add(
        ChannelAccount,
        ["id", "channel", "external_id", "chat_id", "school_id", "person_kind", "person_id"],
        [
            (first + k, "telegram", str(person), str(person), sid, PersonKind.STAFF.value, person)
            for k, person in enumerate(staff)
        ],
    )


def _bureau(ids: Ids, out: _Rows) -> None:
    """The bureau's own entry: a roster of one 区域管理员 (no student: no school of the view),
    who gets the district digest every school-day morning."""
    sid = ids.take("school")
    out.add(School, ["id", "name", "timezone"], [(sid, "区教育局", "Asia/Shanghai")])
    person = ids.take("staff")
    out.add(
        Staff,
        ["id", "school_id", "staff_no", "name", "roles", "active"],
        [(person, sid, "Q0001", "区域管理员", StaffRole.DISTRICT.value, True)],
    )
    _accounts(ids, sid, range(person, person + 1), out)


#: The order tables are written in (foreign keys first).
ORDER: tuple[Any, ...] = (
    School,
    Term,
    Staff,
    ChannelAccount,
    SchoolClass,
    Teaching,
    Group,
    GroupCoach,
    Student,
    Guardian,
    StudentGuardian,
    Visit,
    Duty,
    Incident,
    Notice,
    NoticeReceipt,
    LedgerItem,
)


async def build_district(
    database: Database, *, schools: int, students: int, today: date, seed: int = 14
) -> Built:
    """The district, school by school, written as it is drawn (memory stays one school's)."""
    started = time.perf_counter()
    rng, ids = random.Random(seed), Ids()
    postgres = database.engine.dialect.name == "postgresql"
    async with database.engine.connect() as connection:
        loader = Loader(connection, postgres)
        for n in range(1, schools + 2):
            out = _Rows()
            if n <= schools:
                _school(ids, n, students, today, rng, out)
            else:
                _bureau(ids, out)
            for model in ORDER:
                if model in out.tables:
                    columns, rows = out.tables[model]
                    await loader.rows(model, columns, rows)
        await connection.commit()
        await loader.finish()
    return Built(schools, schools * students, dict(loader.counts), time.perf_counter() - started)


# -- the check: a plain count ------------------------------------------------------------------------


async def plain_homes_visited(database: Database, today: date) -> int:
    """Active students with a home visit from 1 September through yesterday, counted plainly."""
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    async with database.engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT DISTINCT v.student_id FROM visit v "
                "JOIN student s ON s.id = v.student_id WHERE s.active AND v.form = 'home' "
                "AND v.visit_date >= :a AND v.visit_date < :b) AS visited"
            ),
            {"a": start, "b": today},
        )
        return int(found.scalar_one())


# -- the timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    statements: int
    times: list[float]
    text_seconds: float

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def fixed(self) -> bool:
        return self.statements == STATEMENTS

    def render(self) -> str:
        fixed = "fixed" if self.fixed else f"NOT {STATEMENTS}"
        return (
            f"district_compliance: {self.statements} statements for the whole district ({fixed}); "
            f"median {self.median * 1000:.0f} ms, worst {max(self.times) * 1000:.0f} ms of "
            f"{len(self.times)} runs, first {self.times[0] * 1000:.0f} ms; the digest's text "
            f"{self.text_seconds * 1000:.1f} ms"
        )


async def time_report(
    database: Database, today: date, now: datetime, repeat: int
) -> tuple[Timing, DistrictReport, str]:
    times: list[float] = []
    counts: set[int] = set()
    report: DistrictReport | None = None
    for _ in range(max(1, repeat)):
        async with database.session() as session:
            await session.connection()  # the transaction is open: count only the report
            with counting_statements(database) as seen:
                started = time.perf_counter()
                report = await district_compliance(session, today=today, now=now)
                times.append(time.perf_counter() - started)
            counts.add(len(seen))
    assert report is not None
    started = time.perf_counter()
    body = district_digest_text(translator("zh"), report)
    text_seconds = time.perf_counter() - started
    return Timing(counts.pop() if len(counts) == 1 else -1, times, text_seconds), report, body


@dataclass(frozen=True)
class Answer:
    """The chat's `/district` answer, timed once."""

    seconds: float
    characters: int
    #: The chart's size in bytes; None when it was not drawn (no CJK font).
    chart_bytes: int | None

    def render(self) -> str:
        chart = (
            f"its chart {self.chart_bytes / 1024:.0f} KB"
            if self.chart_bytes is not None
            else "no chart (no CJK font)"
        )
        return (
            f"/district answer (figures by each school's rules, chart drawn in a child process "
            f"and stored): {self.seconds:.2f} s; {self.characters:,} characters of text, {chart}"
        )


async def time_answer(database: Database, today: date, now: datetime) -> Answer:
    async with database.session() as session:
        started = time.perf_counter()
        reply = await district_reply(
            session=session, today=today, now=now, rules=DEFAULT_RULES, t=translator("zh")
        )
        seconds = time.perf_counter() - started
    image = reply.image
    size = len(image.data) if image is not None and image.data is not None else None
    return Answer(seconds, len(reply.text), size)


@dataclass(frozen=True)
class Report:
    database: str
    built: Built
    timing: Timing
    report: DistrictReport
    text: str
    plain_homes: int
    answer: Answer
    sweep: Sweep

    @property
    def agrees(self) -> bool:
        return self.report.totals.homes_visited == self.plain_homes and (
            self.report.totals.students == self.built.students
        )

    @property
    def good(self) -> bool:
        return self.timing.fixed and self.agrees and self.sweep.consistent

    def render(self) -> str:
        b, total = self.built, self.report.totals
        rows = ", ".join(
            f"{name} {count:,}" for name, count in sorted(b.rows.items(), key=lambda r: -r[1])
        )
        return "\n".join(
            [
                f"{self.database}: {b.schools} schools, {b.students:,} students; {b.total_rows:,} rows "
                f"({rows}) generated in {b.seconds:.1f} s",
                self.timing.render(),
                self.answer.render(),
                f"district: quota {total.visits_met:,}/{total.visits_target:,} "
                f"({total.quota_percent}%), on pace {total.on_pace:,}/{total.teachers:,}, "
                f"入户 {total.homes_visited:,}/{total.students:,} ({total.coverage_percent}%), "
                f"overdue duties {total.overdue_duties}, unreached incidents "
                f"{total.unreached_incidents}, receipts {total.confirmed:,}/{total.receipts:,} "
                f"({total.receipt_percent}%), ledger overdue {total.ledger_overdue}",
                "入户 agrees with a plain count of the visits"
                if self.agrees
                else f"COUNTS DO NOT AGREE: plain 入户 {self.plain_homes:,}",
                *self.sweep.render(SWEEP_SECONDS),
            ]
        )


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time the district view for a big district")
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--students-per-school", type=int, default=3000)
    parser.add_argument("--today", type=date.fromisoformat, default=SWEEP_MONDAY)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (the median is reported)")
    parser.add_argument(
        "--sweep-repeat", type=int, default=3, help="morning sweeps (the median is reported)"
    )
    parser.add_argument(
        "--sweep-concurrency", type=int, default=1, help="schools swept at once (default 1)"
    )
    parser.add_argument(
        "--sweep-workers",
        type=int,
        default=1,
        help="processes firing every school's slots, the first to claim one running it "
        "(default 1; PostgreSQL)",
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    parser.add_argument("--quiet", action="store_true", help="do not print the digest's text")
    options = parser.parse_args(argv)
    if options.sweep_workers > 1 and not options.database_url:
        parser.error("--sweep-workers needs PostgreSQL (--database-url): SQLite is one process's")
    return options


async def run_benchmark(options: argparse.Namespace) -> Report:
    now = datetime.combine(options.today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    async with scratch_database(options.database_url) as database:
        built = await build_district(
            database,
            schools=options.schools,
            students=options.students_per_school,
            today=options.today,
        )
        timing, report, body = await time_report(database, options.today, now, options.repeat)
        answer = await time_answer(database, options.today, now)
        plain = await plain_homes_visited(database, options.today)
        sweep = await time_sweep(
            database,
            options.today,
            options.sweep_repeat,
            options.sweep_concurrency,
            options.sweep_workers,
        )
    name = "PostgreSQL" if options.database_url else "SQLite"
    return Report(name, built, timing, report, body, plain, answer, sweep)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    if not options.quiet:
        print(report.text)
        print()
    print(report.render())
    return 0 if report.good else 1


if __name__ == "__main__":
    sys.exit(main())
