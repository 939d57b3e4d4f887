"""Faults during a fan-out: the outbox loses nothing and sends nothing twice when things break.

Why: a school-wide notice is thousands of messages, and while they go out a worker process can
die, the database can drop its connections, the messenger can answer 5xx for a while, and its
access tokens can expire. The outbox's promise (`bot.delivery.worker`) is that none of this
loses a message or sends one twice; a send whose request may have left when its worker died is
recorded `unknown` and never resent blindly. This script breaks things on purpose and counts.

How, all on 127.0.0.1: a scratch database (by default a new database on the PostgreSQL server
at `DEFAULT_SERVER` when it answers, else a temporary SQLite file), the fake Bot API
(`tests.fakes.bot_api_server`, enforcing Telegram's 30 messages/s and 1/s per chat with 429s)
or the fake WeCom server (`tests.fakes.wecom_server`) in this process, and the delivery worker
as separate OS processes (`benchmarks.fault_worker`: the real `DeliveryWorker` with the real
Telegram or WeCom channel). A notice to N guardians is queued as the notices feature queues it
(one outbox row per guardian, keyed `notice:{id}:guardian:{gid}:{channel}`, one transaction),
then, by scenario:

1. `kill`: the worker is killed with SIGKILL at K random moments while it sends (each time
   after it has delivered something since its start) and started again at once;
2. `pg`: (PostgreSQL only) the worker's database connections are terminated
   (`pg_terminate_backend`) at T random moments while it sends; the same process goes on;
3. `outage`: the fake Bot API answers 500 to everything for S seconds, from the moment a
   quarter of the notice has arrived;
4. `wecom`: two worker processes send the notice over WeCom, and the fake WeCom server expires
   every access token (42001) E times while they do.

Counted for each: messages queued; delivered (distinct guardians the fake saw a message for);
lost (a guardian the fake saw nothing for whose row does not say `unknown`: 0); sent twice (0);
rows left `unknown`, checked against the fake (received: not lost; neither: the request never
arrived, left for a person as `unknown_outcomes` lists them); rows not settled or `failed` (0).
The WeCom scenario also counts the token fetches of each worker after each expiry (at most one
each, at least one in all). It exits 1 when any count is wrong.

Run it from the repository root: `python -m benchmarks.faults [--scenario kill|pg|outage|wecom]
[--guardians 2000] [--kills 20] [--database-url URL]`. The defaults take about eleven minutes
on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select

from benchmarks.fault_worker import APPLICATION_NAME, READY
from benchmarks.updates import BenchmarkError, keep_traffic_local, scratch_database
from bot.channels.telegram_render import CHANNEL as TELEGRAM
from bot.channels.wecom import CHANNEL as WECOM
from handlers.types import Button, Reply
from models.db.engine import Database, create_engine
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from models.school.tables import School
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import FakeBotApi, RateLimit
from tests.fakes.wecom_server import WecomServer

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOST = "127.0.0.1"
#: The PostgreSQL server tried when no --database-url is given (a scratch database is made there).
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TOKEN = "123:FAULTS"
SCHOOL_NAME = "故障演练小学"
SCENARIOS = ("kill", "pg", "outage", "wecom")
#: Each scenario's notice, and the first chat id of its guardians (chats never overlap).
NOTICE_IDS = {"kill": 9101, "pg": 9102, "outage": 9103, "wecom": 9104}
FIRST_CHAT = {"kill": 810_000_000, "pg": 820_000_000, "outage": 830_000_000}
WECOM_LOG_FETCH = "wecom: fetched a new access token"
#: Telegram's pace as the worker keeps it (a little under 30/s), for planning the faults.
PLANNED_RATE = 28.0
#: How long each round of the `pg` scenario keeps ending the worker's connections.
BURST_SECONDS = 1.0


#: A scenario's chat id (or WeCom member) for guardian number n.
ChatOf = Callable[[int], str]


class FaultsError(BenchmarkError):
    """The run could not be carried out (as opposed to counts that came out wrong)."""


# -- options ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    scenarios: tuple[str, ...] = SCENARIOS
    database_url: str | None = None
    guardians: int = 2_000
    kills: int = 20
    terminations: int = 5
    outage: float = 30.0
    expiries: int = 3
    #: The worker's lease and poll interval (the bot's own by default).
    lease: float = 120.0
    poll_interval: float = 5.0
    seed: int = 14
    #: Seconds a scenario may take before it counts as stuck.
    time_limit: float = 900.0
    #: Where the workers' logs are kept (default: a temporary folder, removed at the end).
    log_dir: Path | None = None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="faults during a fan-out, and what they cost")
    parser.add_argument(
        "--scenario", choices=SCENARIOS, action="append", help="run only this one (repeatable)"
    )
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL server (a scratch database is made there; default {DEFAULT_SERVER} "
        "when it answers, else SQLite), or `sqlite` for a temporary SQLite file",
    )
    parser.add_argument("--guardians", type=int, default=Options.guardians, metavar="N")
    parser.add_argument("--kills", type=int, default=Options.kills, metavar="K")
    parser.add_argument("--terminations", type=int, default=Options.terminations, metavar="T")
    parser.add_argument("--outage", type=float, default=Options.outage, metavar="SECONDS")
    parser.add_argument("--expiries", type=int, default=Options.expiries, metavar="E")
    parser.add_argument("--lease", type=float, default=Options.lease, metavar="SECONDS")
    parser.add_argument(
        "--poll-interval", type=float, default=Options.poll_interval, metavar="SECONDS"
    )
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--time-limit", type=float, default=Options.time_limit, metavar="SECONDS")
    parser.add_argument("--log-dir", type=Path, help="keep the worker processes' logs here")
    args = parser.parse_args(argv)
    if args.guardians < 10:
        parser.error("--guardians must be at least 10")
    return Options(
        scenarios=tuple(s for s in SCENARIOS if s in args.scenario) if args.scenario else SCENARIOS,
        database_url=args.database_url,
        guardians=args.guardians,
        kills=args.kills,
        terminations=args.terminations,
        outage=args.outage,
        expiries=args.expiries,
        lease=args.lease,
        poll_interval=args.poll_interval,
        seed=args.seed,
        time_limit=args.time_limit,
        log_dir=args.log_dir,
    )


# -- the database -----------------------------------------------------------------------------


async def reachable(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[str, str]]:
    """(kind, URL) of a migrated scratch database, dropped afterwards (never the caller's)."""
    if url is None:
        url = DEFAULT_SERVER if await reachable(DEFAULT_SERVER) else "sqlite"
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if kind == "postgresql" and not await reachable(url):
        raise FaultsError(f"PostgreSQL does not answer at {make_url(url).host}")
    async with scratch_database(kind, url if kind == "postgresql" else None) as scratch:
        yield kind, scratch


def notice_text(notice_id: int, guardian: int) -> str:
    return (
        f"〔2026〕第{notice_id}号 关于寒假安全教育的通知（第{guardian}号家长）\n"
        "各位家长：寒假将至，请督促孩子注意交通、用火和防溺水安全，外出告知去向。"
    )


async def add_school(db: Database) -> int:
    async with db.session() as session:
        school = School(name=SCHOOL_NAME)
        session.add(school)
        await session.flush()
        assert school.id is not None
        return school.id


async def queue_notice(run: Run, scenario: str, chat_of: ChatOf) -> None:
    """One row per guardian in one transaction, keyed and shaped as the notices feature does."""
    db, guardians = run.db, run.options.guardians
    notice_id = NOTICE_IDS[scenario]
    channel = WECOM if scenario == "wecom" else TELEGRAM
    async with db.session() as session:
        for guardian in range(1, guardians + 1):
            reply = Reply.with_buttons(
                notice_text(notice_id, guardian), [[Button("确认收到", f"!receipt:{notice_id}")]]
            )
            await enqueue(
                session=session,
                school_id=run.school_id,
                key=f"notice:{notice_id}:guardian:{guardian}:{channel}",
                kind="notice",
                channel=channel,
                chat_id=chat_of(guardian),
                payload=reply.to_dict(),
            )


def _ours(scenario: str) -> ColumnElement[bool]:
    return col(OutboxMessage.key).like(f"notice:{NOTICE_IDS[scenario]}:%")


async def row_states(db: Database, scenario: str) -> dict[str, str]:
    """chat id → status of every row of the scenario's notice."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(_ours(scenario))
            )
        ).all()
    return {chat: str(status) for chat, status in rows}


async def still_open(db: Database, scenario: str) -> int:
    async with db.session() as session:
        return int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        _ours(scenario),
                        col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    )
                )
            ).one()
        )


# -- worker processes -------------------------------------------------------------------------


class WorkerProcess:
    """`python -m benchmarks.fault_worker …` as a child process, its log in a file."""

    def __init__(self, args: list[str], log: IO[bytes]) -> None:
        self.args = args
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.fault_worker",
            *self.args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(60):
                while True:
                    line = await self.process.stdout.readline()
                    if not line:
                        raise FaultsError("a worker process stopped while starting (see its log)")
                    if line.decode().strip() == READY:
                        return
        except TimeoutError:
            raise FaultsError("a worker process did not start within 60 s") from None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when the machine or the OOM killer stops it."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM: the worker finishes what it claimed and exits; killed after 30 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            async with asyncio.timeout(30):
                await self.process.wait()
        except TimeoutError:
            await self.kill()


@contextlib.asynccontextmanager
async def workers(
    count: int, args: list[str], folder: Path, name: str
) -> AsyncIterator[list[WorkerProcess]]:
    logs = [(folder / f"{name}-{n + 1}.log").open("ab") for n in range(count)]
    started = [WorkerProcess(args, log) for log in logs]
    try:
        await asyncio.gather(*(w.start() for w in started))
        yield started
    finally:
        await asyncio.gather(*(w.stop() for w in started), return_exceptions=True)
        for log in logs:
            log.close()


def worker_args(run: Run, **channel: str) -> list[str]:
    """The worker's command line: the school's rows only, as the school's bot sends them."""
    options = run.options
    args = ["--database-url", run.url, "--school-id", str(run.school_id)]
    args += ["--lease", f"{options.lease:g}"]
    args += ["--poll-interval", f"{options.poll_interval:g}"]
    for name, value in channel.items():
        args += [f"--{name.replace('_', '-')}", value]
    return args


# -- counting ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """What one scenario did to one notice, checked against what the fake server received."""

    scenario: str
    title: str
    queued: int
    #: Guardians the fake saw at least one message for.
    delivered: int
    #: Messages beyond the first to a guardian, and messages to chats that were not queued.
    twice: int
    #: Guardians who got nothing and whose row does not say `unknown`.
    lost: int
    statuses: Counter[str]
    unknown_received: int
    unknown_neither: int
    seconds: float
    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.lost:
            self.problems.append(f"{self.lost} guardian(s) lost")
        if self.twice:
            self.problems.append(f"{self.twice} message(s) sent twice")
        if self.delivered + self.unknown_neither != self.queued:
            self.problems.append("delivered and unknown-not-received do not add up to queued")
        for status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED):
            if self.statuses[status]:
                self.problems.append(f"{self.statuses[status]} row(s) left {status.value}")

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        unknown = self.statuses[OutboxStatus.UNKNOWN]
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()) if n)
        lines = [
            f"[{self.scenario}] {self.title}",
            f"  queued {self.queued} · delivered {self.delivered} (as the fake server saw "
            f"them) · lost {self.lost} · sent twice {self.twice} · {self.seconds:.1f} s",
            f"  outbox: {states}; unknown {unknown}: {self.unknown_received} received by the "
            f"fake (not lost), {self.unknown_neither} neither (never arrived; left for a person "
            "as unknown)",
            *(f"  {fact}" for fact in self.facts),
            "  " + ("OK" if self.ok else "WRONG: " + "; ".join(self.problems)),
        ]
        return "\n".join(lines)


def count(
    scenario: str,
    title: str,
    states: dict[str, str],
    received: Counter[str],
    seconds: float,
) -> Counts:
    """Rows (chat → status) against the messages the fake accepted (chat → how many)."""
    statuses = Counter(states.values())
    unknown = {chat for chat, status in states.items() if status == OutboxStatus.UNKNOWN}
    counts = Counts(
        scenario=scenario,
        title=title,
        queued=len(states),
        delivered=sum(1 for chat in states if received[chat]),
        twice=sum(n - 1 for chat, n in received.items() if chat in states and n > 1)
        + sum(n for chat, n in received.items() if chat not in states),
        lost=sum(1 for chat in states if not received[chat] and chat not in unknown),
        statuses=statuses,
        unknown_received=sum(1 for chat in unknown if received[chat]),
        unknown_neither=sum(1 for chat in unknown if not received[chat]),
        seconds=seconds,
    )
    counts.check()
    return counts


def delivered_beyond(api: FakeBotApi, messages: int) -> Callable[[], bool]:
    """True once the fake holds more than `messages` messages."""
    return lambda: len(api.delivered()) > messages


def reached(counter: Callable[[], int], target: int) -> bool:
    return counter() >= target


def telegram_received(api: FakeBotApi) -> Counter[str]:
    return Counter(str(message["chat"]["id"]) for message in api.delivered())


async def settle(db: Database, scenario: str, limit: float, alive: Callable[[], bool]) -> None:
    """Wait until no row of the notice is pending or sending."""
    try:
        async with asyncio.timeout(limit):
            while await still_open(db, scenario):
                if not alive():
                    raise FaultsError(f"{scenario}: the worker process died")
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise FaultsError(f"{scenario}: rows still open after {limit:g} s") from None


async def until(predicate: Callable[[], bool], limit: float, what: str) -> None:
    try:
        async with asyncio.timeout(limit):
            while True:
                if predicate():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise FaultsError(f"{what} did not happen within {limit:g} s") from None


# -- the scenarios ----------------------------------------------------------------------------


@dataclass
class Run:
    options: Options
    kind: str
    url: str
    db: Database
    folder: Path
    rng: random.Random
    school_id: int

    def chats(self, scenario: str) -> ChatOf:
        first = FIRST_CHAT[scenario]
        return lambda guardian: str(first + guardian)

    def fan_out_seconds(self) -> float:
        return self.options.guardians / PLANNED_RATE


@contextlib.asynccontextmanager
async def telegram_fake() -> AsyncIterator[tuple[FakeBotApi, RateLimit, BotApiServer]]:
    limits = RateLimit(per_second=30, per_chat_per_second=1)
    api = FakeBotApi(rate_limit=limits)
    async with BotApiServer(api, host=LOCAL_HOST, token=TOKEN) as server:
        yield api, limits, server


async def scenario_kill(run: Run) -> Counts:
    o = run.options
    await queue_notice(run, "kill", run.chats("kill"))
    # Spread the kills over the fan-out: random gaps averaging a share of its length.
    mean_gap = 0.8 * run.fan_out_seconds() / (o.kills + 1)
    moments: list[float] = []
    async with telegram_fake() as (api, limits, server):
        args = worker_args(run, telegram_base_url=server.base_url, telegram_token=TOKEN)
        started = time.monotonic()
        async with workers(1, args, run.folder, "kill") as (worker,):
            for _ in range(o.kills):
                limit = o.lease + o.poll_interval + 60
                await until(delivered_beyond(api, len(api.delivered())), limit, "a delivery")
                await asyncio.sleep(run.rng.uniform(0, 2 * mean_gap))
                if not await still_open(run.db, "kill"):
                    break
                await worker.kill()
                moments.append(time.monotonic() - started)
                await worker.start()
            limit = o.time_limit
            await settle(run.db, "kill", limit, lambda: worker.alive)
        seconds = time.monotonic() - started
        received = telegram_received(api)
    counts = count(
        "kill",
        f"kill -9 of the delivery worker {o.kills} times during a {o.guardians}-guardian "
        f"fan-out, restarted at once ({run.kind}, lease {o.lease:g} s)",
        await row_states(run.db, "kill"),
        received,
        seconds,
    )
    shown = ", ".join(f"{m:.1f}" for m in moments[:10]) + (" …" if len(moments) > 10 else "")
    counts.facts.append(f"kills: {len(moments)} (at {shown} s); 429s answered: {limits.refused}")
    if len(moments) < o.kills:
        counts.problems.append(f"only {len(moments)} of {o.kills} kills landed before the end")
    return counts


async def terminate_worker_connections(db: Database) -> int:
    """pg_terminate_backend of every connection the worker process holds; how many."""
    statement = text(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = :name"
    )
    async with db.session() as session:
        connection = await session.connection()
        return int((await connection.execute(statement, {"name": APPLICATION_NAME})).scalar_one())


async def terminate_for(db: Database, seconds: float) -> int:
    """Terminate the worker's connections again and again for `seconds` (every 50 ms), so that
    statements in progress are hit too, not only connections idle in its pool; how many."""
    ended = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ended += await terminate_worker_connections(db)
        await asyncio.sleep(0.05)
    return ended


async def scenario_pg(run: Run) -> Counts:
    o = run.options
    await queue_notice(run, "pg", run.chats("pg"))
    # Half the fan-out's length shared out: the last round still meets traffic (a kill strands
    # rows until their lease ends, so the kills have that margin; this scenario has not).
    mean_gap = 0.5 * run.fan_out_seconds() / (o.terminations + 1)
    terminated: list[int] = []
    async with telegram_fake() as (api, limits, server):
        args = worker_args(run, telegram_base_url=server.base_url, telegram_token=TOKEN)
        started = time.monotonic()
        async with workers(1, args, run.folder, "pg") as (worker,):
            for _ in range(o.terminations):
                limit = o.lease + o.poll_interval + 60
                await until(delivered_beyond(api, len(api.delivered())), limit, "a delivery")
                await asyncio.sleep(run.rng.uniform(0, 2 * mean_gap))
                if not await still_open(run.db, "pg"):
                    break
                terminated.append(await terminate_for(run.db, BURST_SECONDS))
            await settle(run.db, "pg", o.time_limit, lambda: worker.alive)
            alive = worker.alive
        seconds = time.monotonic() - started
        received = telegram_received(api)
    counts = count(
        "pg",
        f"PostgreSQL connections of the worker terminated in {o.terminations} rounds of "
        f"{BURST_SECONDS:g} s (every 50 ms) during a {o.guardians}-guardian fan-out "
        f"(pg_terminate_backend; lease {o.lease:g} s)",
        await row_states(run.db, "pg"),
        received,
        seconds,
    )
    counts.facts.append(
        f"rounds: {len(terminated)}, connections ended in each: "
        f"{', '.join(map(str, terminated))}; the same worker process ran to the end: "
        f"{'yes' if alive else 'NO'}; 429s answered: {limits.refused}"
    )
    if len(terminated) < o.terminations:
        counts.problems.append(f"only {len(terminated)} of {o.terminations} terminations landed")
    if not all(terminated):
        counts.problems.append("a termination found no connection of the worker")
    if not alive:
        counts.problems.append("the worker process died")
    return counts


async def scenario_outage(run: Run) -> Counts:
    o = run.options
    await queue_notice(run, "outage", run.chats("outage"))
    async with telegram_fake() as (api, limits, server):
        args = worker_args(run, telegram_base_url=server.base_url, telegram_token=TOKEN)
        started = time.monotonic()
        async with workers(1, args, run.folder, "outage") as (worker,):
            quarter = max(1, o.guardians // 4)
            await until(lambda: len(api.delivered()) >= quarter, o.time_limit, "a quarter sent")
            api.outage(o.outage, status=500)
            outage_start = time.monotonic()
            outage_end = outage_start + o.outage
            at_start = len(api.delivered())
            await until(lambda: not api.in_outage(), o.outage + 5, "the outage's end")
            await settle(run.db, "outage", o.time_limit, lambda: worker.alive)
            all_after = time.monotonic() - outage_end
        seconds = time.monotonic() - started
        received = telegram_received(api)
    counts = count(
        "outage",
        f"the Bot API answering 500 for {o.outage:g} s in the middle of a {o.guardians}-"
        f"guardian fan-out (from {at_start} delivered; worker poll interval "
        f"{o.poll_interval:g} s)",
        await row_states(run.db, "outage"),
        received,
        seconds,
    )
    rest = o.guardians - at_start
    # The first message call after the outage (the rate limit records every one that passed it).
    first_after = min((at for at, _ in limits.arrivals if at >= outage_end), default=0.0)
    first_after -= outage_end
    counts.facts.append(
        f"500s answered: {api.outage_answers}; "
        f"recovery: first message {first_after:.1f} s after the outage ended, the remaining "
        f"{rest} in {all_after:.1f} s (at the pace alone: {rest / PLANNED_RATE:.1f} s); "
        f"outage began {outage_start - started:.1f} s in; 429s answered: {limits.refused}"
    )
    if counts.statuses[OutboxStatus.UNKNOWN]:
        counts.problems.append("a 500 answer was taken for an unknown outcome")
    return counts


def token_fetches(folder: Path, name: str, workers_count: int) -> list[list[float]]:
    """For each worker, the times it fetched a WeCom token (from its log)."""
    found = []
    for n in range(workers_count):
        log = (folder / f"{name}-{n + 1}.log").read_text(errors="replace")
        found.append(
            [
                float(match.group(1))
                for match in re.finditer(rf"^(\d+\.\d+) .*{re.escape(WECOM_LOG_FETCH)}", log, re.M)
            ]
        )
    return found


async def scenario_wecom(run: Run) -> Counts:
    o = run.options
    await queue_notice(run, "wecom", lambda g: f"fault-member-{g}")
    expiries: list[float] = []
    async with WecomServer(host=LOCAL_HOST) as server:
        args = worker_args(run, wecom_base_url=server.base_url)
        started = time.monotonic()

        def sent() -> int:
            return len(server.delivered)

        async with workers(2, args, run.folder, "wecom") as pair:
            for k in range(1, o.expiries + 1):
                share = o.guardians * k // (o.expiries + 1)
                await until(partial(reached, sent, share), o.time_limit, "deliveries")
                server.expire_tokens()
                expiries.append(time.time())
            await settle(run.db, "wecom", o.time_limit, lambda: all(w.alive for w in pair))
        seconds = time.monotonic() - started
        # A row is a text then a card (its button): counted by its text, its card checked.
        sends = [call.body for call in server.delivered if call.path == "message/send"]
        received = Counter(str(body["touser"]) for body in sends if body["msgtype"] == "text")
        cards = Counter(str(body["touser"]) for body in sends if body["msgtype"] != "text")
        refused = server.expired_answers
        gettokens = len(server.calls_to("gettoken"))
    counts = count(
        "wecom",
        f"WeCom access tokens expired (42001) {o.expiries} times during a {o.guardians}-member "
        f"fan-out over two worker processes ({run.kind})",
        await row_states(run.db, "wecom"),
        received,
        seconds,
    )
    cards_twice = sum(n - 1 for n in cards.values() if n > 1)
    if cards_twice:
        counts.twice += cards_twice
        counts.problems.append(f"{cards_twice} card(s) sent twice")
    fetches = token_fetches(run.folder, "wecom", 2)
    bounds = [*expiries, float("inf")]
    per_expiry = [
        [sum(1 for t in times if bounds[k] <= t < bounds[k + 1]) for times in fetches]
        for k in range(len(expiries))
    ]
    first = [sum(1 for t in times if not expiries or t < expiries[0]) for times in fetches]
    counts.facts.append(f"cards (the 确认收到 button, after each text): {cards.total()}")
    counts.facts.append(
        f"42001 answered: {refused}; gettoken calls: {gettokens} (first tokens: "
        f"{'+'.join(map(str, first))}; after each expiry, per worker: "
        + ", ".join("+".join(map(str, each)) for each in per_expiry)
        + ")"
    )
    if sum(map(len, fetches)) != gettokens:
        counts.problems.append("the workers' logs and the fake disagree on the token fetches")
    for k, each in enumerate(per_expiry, 1):
        if max(each) > 1:
            counts.problems.append(f"a worker fetched {max(each)} tokens after expiry {k}")
        if sum(each) < 1:
            counts.problems.append(f"no token was fetched after expiry {k}")
    if max(first, default=0) > 1:
        counts.problems.append("a worker fetched more than one token at its start")
    if refused < o.expiries:
        counts.problems.append("fewer 42001 answers than expiries: an expiry went unnoticed")
    return counts


RUNNERS = {
    "kill": scenario_kill,
    "pg": scenario_pg,
    "outage": scenario_outage,
    "wecom": scenario_wecom,
}


@dataclass
class Report:
    kind: str
    results: list[Counts]
    skipped: list[tuple[str, str]]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def render(self) -> str:
        lines = [f"faults during a fan-out ({self.kind}), the workers as separate processes", ""]
        for result in self.results:
            lines += [result.render(), ""]
        lines += [f"[{name}] skipped: {why}" for name, why in self.skipped]
        lines.append(
            f"all counts right ({self.seconds:.0f} s)"
            if self.ok
            else f"WRONG counts ({self.seconds:.0f} s)"
        )
        return "\n".join(lines)


async def run_benchmark(options: Options) -> Report:
    keep_traffic_local()
    started = time.monotonic()
    results: list[Counts] = []
    skipped: list[tuple[str, str]] = []
    async with database(options.database_url) as (kind, url):
        db = Database(url)
        try:
            with tempfile.TemporaryDirectory(prefix="jiafang-faults-") as scratch:
                folder = options.log_dir or Path(scratch)
                folder.mkdir(parents=True, exist_ok=True)
                rng = random.Random(options.seed)
                run = Run(options, kind, url, db, folder, rng, await add_school(db))
                for scenario in options.scenarios:
                    if scenario == "pg" and kind != "postgresql":
                        skipped.append((scenario, "SQLite has no server connections to end"))
                        continue
                    results.append(await RUNNERS[scenario](run))
        finally:
            await db.dispose()
    return Report(kind, results, skipped, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the counts; exit 1 when one is wrong or the run could not be carried out."""
    options = parse_options(argv)
    try:
        report = asyncio.run(run_benchmark(options))
    except BenchmarkError as exc:
        print(f"faults: {exc}", file=sys.stderr)
        return 1
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
