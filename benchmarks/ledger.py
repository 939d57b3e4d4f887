"""How long the problem ledger's reads take for a big school, and how many statements they run.

Why: 德育处's digest reads the ledger's line every morning, and `/ledger` shows 德育处 the counts
by class and the items needing attention; both must stay a fixed number of statements whatever
the ledger's size, and each under 0.3 s on SQLite for a school of 3,000 students with a year of
items.

How: the school of `benchmarks/digest.py` (3,000 students, 150 teachers, a school year of visits,
duties and incidents) in a scratch database, plus about 2,000 ledger items spread over the school
year by bulk inserts — from visits, incidents, overdue duties, parents' feedback (with their
feedback rows, a third of them complaints) and entered by hand — in mixed states: about 15 %
unclassified (some for days), 25 % in hand (some past their due date, tracked ones with progress
notes), 60 % closed with an outcome; each with its history (created, classified, notes, closed).
Then, each run in a fresh session, it times:

* (a) the digest's ledger line (`models.digest.ledger.ledger_line`: the calendar and
  `models.ledger.views.digest_counts`);
* (b) what `/ledger` shows 德育处: `counts_by_class` and `needing_attention`;

and prints, for each, the statements run, the median and the worst of `--repeat` runs, against
the target. It exits 1 if a statement count differs from the fixed one.

Run it from the repository root: `python benchmarks/ledger.py [--students 3000] [--items 2000]
[--repeat 20] [--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/ledger.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.digest import (
    DEFAULT_TODAY,
    ZONE,
    BuiltSchool,
    build_school,
    counting_statements,
    scratch_database,
)
from models.db.engine import Database
from models.digest.ledger import STATEMENTS as LINE_STATEMENTS
from models.digest.ledger import LedgerLine, ledger_line
from models.feedback.tables import Feedback, FeedbackAbout, FeedbackKind
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerSource,
    LedgerStatus,
)
from models.ledger.views import ClassCounts, ItemRow, counts_by_class, needing_attention
from models.roster.tables import Staff
from models.school.rules import SchoolRules

TARGET_SECONDS = 0.3
#: `counts_by_class` (one GROUP BY) and `needing_attention` (the rows and their count).
VIEW_STATEMENTS = 3


# -- the ledger ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltLedger:
    items: int
    events: int
    feedback: int
    by_status: dict[str, int]
    overdue: int


async def build_ledger(
    session: AsyncSession, school: BuiltSchool, *, items: int, today: date, seed: int = 11
) -> BuiltLedger:
    """About `items` ledger items over the school year up to `today`, with their histories."""
    rng = random.Random(seed)
    db = await session.connection()
    school_id = school.school_id
    pupils = [
        (int(sid), int(cid))
        for sid, cid in (
            await db.execute(
                text("SELECT id, class_id FROM student WHERE school_id = :s"), {"s": school_id}
            )
        ).all()
    ]
    staff = [
        int(sid)
        for (sid,) in (
            await db.execute(
                text("SELECT id FROM staff WHERE school_id = :s AND roles = ''"), {"s": school_id}
            )
        ).all()
    ]
    admin = int(
        (
            await db.execute(
                text("SELECT id FROM staff WHERE school_id = :s AND roles = 'admin'"),
                {"s": school_id},
            )
        ).scalar_one()
    )
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    span_days = (today - year_start).days
    now = datetime.combine(today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    sources = [
        (LedgerSource.VISIT, 40),
        (LedgerSource.INCIDENT, 10),
        (LedgerSource.DUTY_OVERDUE, 10),
        (LedgerSource.FEEDBACK, 15),
        (LedgerSource.MANUAL, 25),
    ]

    feedback_rows: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    for n in range(items):
        # Older items are mostly closed; the last weeks' mostly open or in hand.
        age = int(span_days * rng.random() ** 1.3)
        created = now - timedelta(days=age, hours=rng.randint(0, 12), minutes=rng.randint(0, 59))
        source = rng.choices([s for s, _ in sources], weights=[w for _, w in sources])[0]
        student_id, class_id = rng.choice(pupils)
        if source is LedgerSource.FEEDBACK:
            about = rng.choice(list(FeedbackAbout))
            feedback_kind = rng.choice(
                [FeedbackKind.COMPLAINT, FeedbackKind.SUGGESTION, FeedbackKind.OTHER]
            )
            feedback_rows.append(
                {
                    "school_id": school_id,
                    "code": f"B{n:07d}",
                    "kind": feedback_kind,
                    "about": about,
                    "about_class_id": class_id if about is FeedbackAbout.CLASS else None,
                    "about_staff_id": rng.choice(staff) if about is FeedbackAbout.TEACHER else None,
                    "text": "希望学校改进课后服务",
                    "photo_channel": "",
                    "photo_ref": "",
                    "anonymous": rng.random() < 0.3,
                    "guardian_id": None,
                    "created_at": created,
                    "ledger_item_id": None,
                }
            )
            student_id, class_id = 0, class_id if about is FeedbackAbout.CLASS else 0
        roll = rng.random()
        status: LedgerStatus
        if age < 3:
            status = LedgerStatus.OPEN if roll < 0.6 else LedgerStatus.ACTIVE
        elif age < 40:
            status = (
                LedgerStatus.OPEN
                if roll < 0.1
                else LedgerStatus.ACTIVE
                if roll < 0.55
                else LedgerStatus.CLOSED
            )
        else:
            status = (
                LedgerStatus.OPEN
                if roll < 0.02
                else LedgerStatus.ACTIVE
                if roll < 0.12
                else LedgerStatus.CLOSED
            )
        if source is LedgerSource.FEEDBACK and rng.random() < 0.1:
            status = LedgerStatus.OPEN  # a few parents' notes wait long for an owner
        plans.append(
            {
                "n": n,
                "created": created,
                "source": source,
                "student_id": student_id or None,
                "class_id": class_id or None,
                "status": status,
            }
        )
    if feedback_rows:
        await db.execute(insert(Feedback), feedback_rows)
    feedback_ids = iter(
        int(fid)
        for (fid,) in (
            await db.execute(
                text("SELECT id FROM feedback WHERE school_id = :s ORDER BY id"), {"s": school_id}
            )
        ).all()
    )

    item_rows: list[dict[str, Any]] = []
    for plan in plans:
        status = plan["status"]
        created = plan["created"]
        kind = rng.choice(list(LedgerKind)) if status is not LedgerStatus.OPEN else None
        classified = created + timedelta(hours=rng.uniform(1, 60))
        if status is LedgerStatus.ACTIVE:
            due = (classified + timedelta(days=rng.randint(1, 30))).astimezone(ZONE).date()
        elif status is LedgerStatus.CLOSED:
            due = (classified + timedelta(days=rng.randint(3, 30))).astimezone(ZONE).date()
        else:
            due = None
        closed = classified + timedelta(days=rng.uniform(0.5, 20))
        if status is LedgerStatus.CLOSED and closed > now:
            closed = now - timedelta(hours=1)
        source = plan["source"]
        item_rows.append(
            {
                "school_id": school_id,
                "student_id": plan["student_id"],
                "class_id": plan["class_id"],
                "source": source,
                "source_id": next(feedback_ids)
                if source is LedgerSource.FEEDBACK
                else (None if source is LedgerSource.MANUAL else 10_000_000 + plan["n"]),
                "description": "学生作业经常不能按时完成，家长希望学校协助",
                "recorded_by": rng.choice(staff) if source is LedgerSource.MANUAL else None,
                "created_at": created,
                "status": status,
                "kind": kind,
                "owner_id": rng.choice(staff) if kind is not None else None,
                "due_on": due,
                "follow_every_days": rng.choice((3, 7, 14)) if kind is LedgerKind.TRACK else None,
                "escalated_to": "区教育局" if kind is LedgerKind.ESCALATE else "",
                "first_response_at": classified if kind is not None else None,
                "last_progress_at": classified if kind is not None else None,
                "closed_at": closed if status is LedgerStatus.CLOSED else None,
                "outcome": rng.choice(list(LedgerOutcome))
                if status is LedgerStatus.CLOSED
                else None,
            }
        )
    for chunk in range(0, len(item_rows), 1000):
        await db.execute(insert(LedgerItem), item_rows[chunk : chunk + 1000])
    stored = (
        await db.execute(
            text(
                "SELECT id, status, kind, owner_id, created_at, first_response_at, closed_at, "
                "outcome FROM ledger_item WHERE school_id = :s ORDER BY id"
            ),
            {"s": school_id},
        )
    ).all()

    def moment(value: Any) -> datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    event_rows: list[dict[str, Any]] = []
    for item_id, status, kind, owner, created, responded, closed, outcome in stored:
        event_rows.append(
            {
                "item_id": item_id,
                "at": moment(created),
                "staff_id": None,
                "kind": LedgerEventKind.CREATED,
                "note": "",
            }
        )
        if kind is None:
            continue
        event_rows.append(
            {
                "item_id": item_id,
                "at": moment(responded),
                "staff_id": admin,
                "kind": LedgerEventKind.CLASSIFIED,
                "note": f"kind={kind};owner={owner}",
            }
        )
        for note in range(rng.randint(0, 3) if kind == LedgerKind.TRACK.value else 0):
            event_rows.append(
                {
                    "item_id": item_id,
                    "at": moment(responded) + timedelta(days=3 * (note + 1)),
                    "staff_id": owner,
                    "kind": LedgerEventKind.PROGRESS,
                    "note": "已与家长沟通",
                }
            )
        if status == LedgerStatus.CLOSED.value:
            event_rows.append(
                {
                    "item_id": item_id,
                    "at": moment(closed),
                    "staff_id": admin,
                    "kind": LedgerEventKind.CLOSED,
                    "note": f"[{outcome}] 已处理",
                }
            )
    for chunk in range(0, len(event_rows), 2000):
        await db.execute(insert(LedgerEvent), event_rows[chunk : chunk + 2000])

    by_status: dict[str, int] = {}
    for row in item_rows:
        by_status[row["status"].value] = by_status.get(row["status"].value, 0) + 1
    overdue = sum(
        1
        for row in item_rows
        if row["status"] is LedgerStatus.ACTIVE
        and row["due_on"] is not None
        and row["due_on"] < today
    )
    return BuiltLedger(
        items=len(item_rows),
        events=len(event_rows),
        feedback=len(feedback_rows),
        by_status=by_status,
        overdue=overdue,
    )


# -- timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    name: str
    statements: int
    fixed: int
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def worst(self) -> float:
        return max(self.times)

    def render(self) -> str:
        fixed = "fixed" if self.statements == self.fixed else f"NOT {self.fixed}"
        verdict = "met" if self.worst < TARGET_SECONDS else "NOT met"
        return (
            f"{self.name}: {self.statements} statements ({fixed}); median "
            f"{self.median * 1000:.1f} ms, worst {self.worst * 1000:.1f} ms of {len(self.times)} "
            f"runs, first {self.times[0] * 1000:.1f} ms (target < {TARGET_SECONDS:g} s: {verdict})"
        )


async def time_read(
    database: Database,
    name: str,
    fixed: int,
    read: Callable[[AsyncSession], Awaitable[object]],
    repeat: int,
) -> Timing:
    """`read` in a fresh session `repeat` times; the statements of each run must agree."""
    times: list[float] = []
    counts: set[int] = set()
    for _ in range(max(1, repeat)):
        async with database.session() as session:
            await session.connection()  # the transaction is open: count only the read
            with counting_statements(database) as seen:
                started = time.perf_counter()
                await read(session)
                times.append(time.perf_counter() - started)
            counts.add(len(seen))
    return Timing(name, counts.pop() if len(counts) == 1 else -1, fixed, times)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time the problem ledger's reads on a big school")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--teachers", type=int, default=150)
    parser.add_argument("--items", type=int, default=2000, help="ledger items over the year")
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each read")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Report:
    school: BuiltSchool
    ledger: BuiltLedger
    line: Timing
    views: Timing
    figures: str

    @property
    def fixed(self) -> bool:
        return self.line.statements == self.line.fixed and self.views.statements == self.views.fixed

    def render(self) -> str:
        s, led = self.school, self.ledger
        states = ", ".join(f"{k} {v}" for k, v in sorted(led.by_status.items()))
        return "\n".join(
            [
                f"school: {s.students} students, {s.teachers} teachers, {s.classes} classes, "
                f"{s.visits} visits",
                f"ledger: {led.items} items ({states}; {led.overdue} overdue), {led.events} "
                f"events, {led.feedback} feedback",
                self.figures,
                self.line.render(),
                self.views.render(),
            ]
        )


async def run_benchmark(options: argparse.Namespace) -> Report:
    now = datetime.combine(options.today, clock_time(7, 30), tzinfo=ZONE).astimezone(UTC)
    rules = SchoolRules()
    async with scratch_database(options.database_url) as database:
        async with database.session() as session:
            school = await build_school(
                session, students=options.students, teachers=options.teachers, today=options.today
            )
            ledger = await build_ledger(session, school, items=options.items, today=options.today)
        async with database.session() as session:
            admin = (
                await session.exec(
                    select(Staff).where(
                        col(Staff.school_id) == school.school_id, col(Staff.roles) == "admin"
                    )
                )
            ).one()

        async def line(session: AsyncSession) -> LedgerLine:
            return await ledger_line(
                session, school_id=school.school_id, now=now, zone=ZONE, rules=rules
            )

        async def views(
            session: AsyncSession,
        ) -> tuple[list[ClassCounts], tuple[list[ItemRow], int]]:
            by_class = await counts_by_class(session, admin, today=options.today)
            attention = await needing_attention(session, admin, today=options.today)
            return by_class, attention

        line_timing = await time_read(
            database, "(a) digest line", LINE_STATEMENTS, line, options.repeat
        )
        view_timing = await time_read(
            database,
            "(b) /ledger for 德育处 (counts_by_class + needing_attention)",
            VIEW_STATEMENTS,
            views,
            options.repeat,
        )
        async with database.session() as session:
            counts = (await line(session)).counts
            by_class, (rows, total) = await views(session)
    figures = (
        f"digest line: new {counts.new}, overdue {counts.overdue}, unclassified late "
        f"{counts.unclassified_late}, complaints unassigned {counts.complaints_unassigned}; "
        f"/ledger: {len(by_class)} class rows, {total} needing attention ({len(rows)} shown)"
    )
    return Report(school, ledger, line_timing, view_timing, figures)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    print(report.render())
    return 0 if report.fixed else 1


if __name__ == "__main__":
    sys.exit(main())
