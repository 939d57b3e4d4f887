"""Every school of a district in one process (`python -m bot run --all-schools --webhook`): what
it costs to start, to keep running idle, and to answer each school once.

```
python benchmarks/every_school.py                       # 100 schools, SQLite
python benchmarks/every_school.py --database postgresql --database-url postgresql://postgres@127.0.0.1:5432/test
python benchmarks/every_school.py --schools 10          # a smaller district
```

All on 127.0.0.1: a scratch database (SQLite file, or a database of its own on the server,
dropped afterwards) with N small schools (`tests.helpers.factories`: 5 teachers, 4 students
each), every school's Telegram token stored (`school set`'s encryption), one fake Telegram
answering every token (`ManyBotsApiServer`), and `serve_every_school` running in this process by
webhook. It prints:

- the seconds from the call to every school running (each bot's getMe and setWebhook, its
  outbox worker and its scheduler's catch-up and start);
- the process's resident memory before and after, and per school;
- the database connections the process holds (PostgreSQL: `pg_stat_activity`);
- over `--idle` seconds (65: a minute boundary, when every school's every-minute jobs fire) with
  no message: the CPU the process used (share of one core), on PostgreSQL the transactions it
  committed per second, and how late the event loop woke a task sleeping 50 ms at a time (what
  an update arriving meanwhile would wait);
- one `/start <invite>` from one teacher of every school, all at once, posted to each school's
  webhook path (each bot's first update), then one `/whoami` each, all at once: the seconds
  until every school's bot has answered its teacher, and p50 / p95;
- what reading the schools again costs (every 60 s while it serves): the milliseconds of a
  read that finds nothing changed (median of five, and its CPU), and the seconds of one after a
  school's rule was changed with `school set` (that school restarted, the others untouched);
- the seconds to stop, and to start again (each school's schedule already stored).

It exits 1 when a school did not start or did not answer. `tests/test_every_school.py` tests the
behaviour; this only measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.updates import BenchmarkError, scratch_database
from benchmarks.workers import free_port
from bot.channels.telegram_webhook import SECRET_HEADER, webhook_secrets
from bot.every_school import EverySchool, SchoolBot, serve_every_school
from bot.school_cli import Change
from bot.school_commands import set_school
from bot.settings import Settings
from models.accounts.invites import issue_invite
from models.accounts.tables import PersonKind
from models.db.columns import utcnow
from models.db.engine import Database
from models.school.config import SchoolConfig
from models.school.secrets import encrypt, new_key
from tests.fakes.bot_api_server import ManyBotsApiServer
from tests.fakes.telegram_request import TgUser, UpdateFactory
from tests.helpers.factories import build_school

TEACHER = TgUser(7001, "芳")


@dataclass(frozen=True)
class School:
    school_id: int
    token: str
    invite: str


def rss_mb() -> float:
    """This process's resident memory (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def seed(db: Database, key: str, count: int) -> list[School]:
    """`count` small schools, each with a stored token and an invite for its first teacher."""
    schools = []
    async with db.session() as session:
        for n in range(count):
            built = await build_school(session, name=f"第{n + 1:03d}小学")
            school_id = built.school.id or 0
            token = f"{5000 + n}:school-bot-{n:03d}"
            session.add(SchoolConfig(school_id=school_id, telegram_token=encrypt(key, token)))
            issued = await issue_invite(
                session=session,
                school_id=school_id,
                kind=PersonKind.STAFF,
                person_id=built.staff["王芳"].id or 0,
                now=utcnow(),
                ttl=timedelta(days=30),
            )
            schools.append(School(school_id, token, issued.code))
        await session.commit()
    return schools


async def loop_lags(seconds: float, tick: float = 0.05) -> list[float]:
    """How late the event loop wakes a task that sleeps `tick` at a time, for `seconds`, sorted
    (what an update arriving meanwhile would wait before the bot even reads it)."""
    lags = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        asked = time.perf_counter()
        await asyncio.sleep(tick)
        lags.append(max(0.0, time.perf_counter() - asked - tick))
    return sorted(lags)


async def connections(db: Database) -> int | None:
    """Connections to this database other than the one asking (PostgreSQL only)."""
    if not db.url.startswith(("postgresql", "postgres")):
        return None
    async with db.engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int((await connection.execute(query)).scalar_one())


async def commits(db: Database) -> int | None:
    if not db.url.startswith(("postgresql", "postgres")):
        return None
    async with db.engine.connect() as connection:
        query = text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int((await connection.execute(query)).scalar_one())


async def answer_all(
    settings: Settings,
    schools: list[School],
    telegram: ManyBotsApiServer,
    text: str,
    *,
    update_id: int,
) -> list[float]:
    """Each school's teacher sends `text` (`{invite}`: the school's invite) at once; seconds
    until each school's bot has answered it."""
    updates = UpdateFactory(start=100)
    sent = time.perf_counter()
    answered: dict[str, float] = {}

    async def one(http: aiohttp.ClientSession, school: School) -> None:
        secrets = webhook_secrets(settings, school.school_id)
        payload = updates.text(TEACHER, text.format(invite=school.invite), update_id=update_id)
        api = telegram.apis[school.token]
        before = len(api.sent_texts(TEACHER.id))
        url = f"{settings.telegram_webhook_url}{secrets.path}"
        async with http.post(url, json=payload, headers={SECRET_HEADER: secrets.token}) as r:
            if r.status != 200:
                raise BenchmarkError(f"school {school.school_id}: webhook answered {r.status}")
        for _ in range(1200):
            if len(api.sent_texts(TEACHER.id)) > before:
                answered[school.token] = time.perf_counter() - sent
                return
            await asyncio.sleep(0.05)
        raise BenchmarkError(f"school {school.school_id} did not answer within 60 s")

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(one(http, school) for school in schools))
    return sorted(answered.values())


async def run(args: argparse.Namespace) -> int:
    key = new_key()
    async with scratch_database(args.database, args.database_url) as url:
        db = Database(url)
        try:
            schools = await seed(db, key, args.schools)
            async with ManyBotsApiServer(s.token for s in schools) as telegram:
                port = free_port()
                settings = Settings(
                    _env_file=None,
                    database_url=url,
                    secrets_key=SecretStr(key),
                    telegram_base_url=telegram.base_url,
                    telegram_base_file_url=telegram.base_file_url,
                    telegram_webhook_url=f"http://127.0.0.1:{port}",
                    web_host="127.0.0.1",
                    web_port=port,
                    log_level="WARNING",
                )
                await measure(args, settings, db, schools, telegram)
        finally:
            await db.dispose()
    return 0


@dataclass
class Started:
    """`serve_every_school` as started by `every_school_running`."""

    running: list[SchoolBot]
    start_seconds: float
    every: EverySchool | None = None
    #: Set once the block has ended and every school has stopped.
    stop_seconds: float = 0.0


@asynccontextmanager
async def every_school_running(settings: Settings) -> AsyncIterator[Started]:
    """Every school served by webhook in this process for the block, then stopped."""
    stop = asyncio.Event()
    ready: asyncio.Future[EverySchool] = asyncio.get_running_loop().create_future()
    began = time.perf_counter()
    task = asyncio.create_task(
        serve_every_school(
            settings,
            webhook=True,
            stop=stop,
            refresh_every=3600,  # read again only when measured
            started=ready.set_result,
        )
    )
    started = Started([], 0.0)
    try:
        either: set[asyncio.Future[Any]] = {task, ready}
        done, _ = await asyncio.wait(either, timeout=600, return_when="FIRST_COMPLETED")
        if ready not in done:
            raise BenchmarkError(f"the schools did not start: {task}")
        every = ready.result()
        started = Started(list(every.bots.values()), time.perf_counter() - began, every)
        yield started
    finally:
        stopping = time.perf_counter()
        stop.set()
        await asyncio.wait_for(task, timeout=120)
        started.stop_seconds = time.perf_counter() - stopping


async def measure(
    args: argparse.Namespace,
    settings: Settings,
    db: Database,
    schools: list[School],
    telegram: ManyBotsApiServer,
) -> None:
    before = rss_mb()
    async with every_school_running(settings) as started:
        if len(started.running) != len(schools):
            raise BenchmarkError(f"{len(started.running)} of {len(schools)} schools started")
        await asyncio.sleep(2)  # the catch-up's last writes settle
        after = rss_mb()
        held = await connections(db)
        cpu0, commits0, wall0 = time.process_time(), await commits(db), time.perf_counter()
        lags = await loop_lags(args.idle)
        cpu1, commits1, wall1 = time.process_time(), await commits(db), time.perf_counter()
        idle_cpu = (cpu1 - cpu0) / (wall1 - wall0)
        first = await answer_all(settings, schools, telegram, "/start {invite}", update_id=100)
        again = await answer_all(settings, schools, telegram, "/whoami", update_id=101)
        assert started.every is not None
        unchanged, changed = await refreshes(settings, started.every, schools[0])
    start_s = started.start_seconds
    print(f"schools: {len(schools)} on {args.database}, one process, by webhook")
    print(f"start: {start_s:.1f} s ({start_s / len(schools) * 1000:.0f} ms per school)")
    print(
        f"memory: {before:.0f} MB before, {after:.0f} MB running "
        f"({(after - before) / len(schools):.2f} MB per school)"
    )
    if held is not None:
        print(f"database connections held: {held}")
    print(f"idle: {idle_cpu * 100:.1f} % of one core over {args.idle:.0f} s", end="")
    if commits0 is not None and commits1 is not None:
        print(f", {(commits1 - commits0) / (wall1 - wall0):.1f} transactions/s", end="")
    print(f"; the event loop late by {max(lags) * 1000:.0f} ms at worst", end="")
    print(f" (p99 {lags[int(len(lags) * 0.99)] * 1000:.0f} ms)")
    for what, latencies in (("/start <invite> (each bot's first)", first), ("/whoami", again)):
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        print(
            f"{what} to every school at once: all answered in {latencies[-1]:.2f} s "
            f"(p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s)"
        )
    wall = statistics.median(w for w, _ in unchanged)
    cpu = statistics.median(c for _, c in unchanged)
    print(
        f"reading the schools again, nothing changed: {wall * 1000:.0f} ms "
        f"({cpu * 1000:.0f} ms of CPU; median of {len(unchanged)}); one school's rule changed: "
        f"{changed:.2f} s (that school restarted, {len(schools) - 1} untouched)"
    )
    print(f"stop: {started.stop_seconds:.1f} s")
    async with every_school_running(settings) as again_started:
        pass  # started again, then stopped at once
    again_s = again_started.start_seconds
    print(
        f"start again (the schedules already stored): {again_s:.1f} s "
        f"({again_s / len(schools) * 1000:.0f} ms per school)"
    )


async def refreshes(
    settings: Settings, every: EverySchool, school: School
) -> tuple[list[tuple[float, float]], float]:
    """Five reads of the schools with nothing changed ((wall, CPU) seconds each), then the
    seconds of the read after `school`'s rule was changed (`school set`); BenchmarkError unless
    exactly that school restarted."""
    unchanged = []
    for _ in range(5):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await every.refresh()
        unchanged.append((time.perf_counter() - wall0, time.process_time() - cpu0))
    before = dict(every.bots)
    change = Change(rules={"monthly_visits_head_teacher": 12})
    name = every.bots[school.school_id].name
    await set_school(settings, name, change, out=io.StringIO())
    wall0 = time.perf_counter()
    await every.refresh()
    changed = time.perf_counter() - wall0
    restarted = [i for i, bot in every.bots.items() if before.get(i) is not bot]
    if restarted != [school.school_id] or len(every.bots) != len(before):
        raise BenchmarkError(f"restarted {restarted}, not only school {school.school_id}")
    return unchanged, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--idle", type=float, default=65.0, help="seconds of idle measured (a minute's jobs)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    try:
        return asyncio.run(run(args))
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
