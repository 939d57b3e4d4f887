"""The dispatcher alone: what one update costs us, without any messenger or HTTP.

    python benchmarks/dispatcher.py                      # 100 conversations on SQLite
    python benchmarks/dispatcher.py --database postgresql --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/dispatcher.py --conversations 20 --repeat 3

It seeds the tests' small school on a scratch database (a temporary SQLite file, or a database of
its own on the PostgreSQL server, dropped afterwards), binds one teacher on the console channel
and drives complete `/visit` conversations through `Dispatcher.handle`, one after the other (the
same fourteen updates as a teacher on the console, ending with 保存, each with an update key as
a messenger's), and prints the mean cost of an update and of each step. Each repeat uses a new
dispatcher (what it keeps between updates starts empty) on the same database; the best repeat
is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from benchmarks.updates import scratch_database
from models.db.engine import Database
from models.visits.tables import Visit
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import FULL_VISIT, MessengerUser, chat_as, visit_dispatcher

#: Monday 16 November 2026, 10:00 in Shanghai: inside the tests' school's autumn semester.
MONDAY_MORNING = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
#: Where the visits already saved are moved between conversations.
LONG_AGO = date(2000, 1, 1)
#: The conversation driven, ending with the save.
STEPS = (*FULL_VISIT, "保存")


@dataclass(frozen=True)
class Result:
    per_update_ms: float
    per_step_ms: dict[str, float]
    #: This process's CPU per update (the database server's is not in it): what a worker
    #: spends, and less moved by other work on the machine than the time.
    cpu_per_update_ms: float
    cpu_per_step_ms: dict[str, float]


async def backdate_visits(db: Database) -> None:
    """Move the visits saved so far to a day long past (not timed), so that the next
    conversation saves the day's first visit of the student, not a second one (which the bot
    asks about before saving)."""
    async with db.session() as session:
        await (await session.connection()).execute(update(Visit).values(visit_date=LONG_AGO))
        await session.commit()


async def drive(db: Database, clock: FakeClock, conversations: int) -> Result:
    ts = await seed_school(db)
    user = MessengerUser(await chat_as(db, clock, ts.staff["王芳"], visit_dispatcher(db, clock)))
    spent: dict[str, list[float]] = defaultdict(list)
    used: dict[str, list[float]] = defaultdict(list)
    for _ in range(conversations):
        for step in STEPS:
            started, cpu = time.perf_counter(), time.process_time()
            await user.steps(step)
            used[step].append(time.process_time() - cpu)
            spent[step].append(time.perf_counter() - started)
        if "已保存" not in user.text:
            raise SystemExit(f"the visit was not saved: {user.text}")
        await backdate_visits(db)
    updates = conversations * len(STEPS)
    return Result(
        per_update_ms=sum(map(sum, spent.values())) / updates * 1000,
        per_step_ms={step: statistics.mean(times) * 1000 for step, times in spent.items()},
        cpu_per_update_ms=sum(map(sum, used.values())) / updates * 1000,
        cpu_per_step_ms={step: statistics.mean(times) * 1000 for step, times in used.items()},
    )


async def run(database: str, url: str | None, conversations: int, repeat: int) -> Result:
    best: Result | None = None
    for _ in range(repeat):
        async with scratch_database(database, url) as scratch:
            db = Database(scratch)
            try:
                result = await drive(db, FakeClock(MONDAY_MORNING), conversations)
            finally:
                await db.dispose()
        if best is None or result.per_update_ms < best.per_update_ms:
            best = result
    assert best is not None
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the dispatcher's cost per update, alone")
    parser.add_argument("--conversations", type=int, default=100, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="R")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.database, args.database_url, args.conversations, args.repeat))
    print(
        f"{args.database}: {result.per_update_ms:.3f} ms per update, "
        f"{result.cpu_per_update_ms:.3f} ms of this process's CPU (best of {args.repeat})"
    )
    print(f"  {'step':<16} {'ms':>7} {'CPU ms':>7}")
    for step, ms in result.per_step_ms.items():
        print(f"  {step[:16]:<16} {ms:7.3f} {result.cpu_per_step_ms[step]:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
