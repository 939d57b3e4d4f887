"""Fan-out: one notice to N guardians through the real outbox worker, at Telegram's limits.

Why: a school-wide notice is thousands of messages. Telegram accepts about 30 a second from a
bot and one a second in a chat, and answers 429 above that; the sender must go as fast as that
allows, never faster, and deliver every message exactly once.

How, all on 127.0.0.1: a local fake Bot API (`tests.fakes.bot_api_server`) that enforces 30
messages/s overall and 1/s per chat (any second, sliding) and answers 429 with `retry_after`
above that, in a process of its own (`benchmarks.bot_api_process`: Telegram is elsewhere, and a
fake sharing the bot's event loop counts the loop's pauses as the bot's bursts); a scratch
database with N outbox rows, one per guardian, each to its own chat, keyed as the notices
feature keys them (`notice:{id}:guardian:{gid}:telegram`); then the real
`DeliveryWorker` with the real `TelegramChannel` over python-telegram-bot's HTTP stack (an
`ExtBot` with the bot's `TelegramRateLimiter`, as `build_application` sets it up) and the
garbage collector as the bot's runners set it (`bot.gc_tuning`; `--no-gc-tuning`: CPython's),
until every row is settled.

Printed: messages/s (from the first message's arrival to the last's, and over the whole run),
the ratio to Telegram's 30/s, the 429s the fake answered, the busiest second overall and in one
chat (every call that arrived, refused ones included), and the data check: what the fake
received compared with the outbox rows (duplicates, losses, rows not `sent`).

With `--schools N`, N schools send at once from this one process, each its own notice to N
guardians through its own bot (a fake Bot API of its own, in its own process, enforcing that
bot's limits) and its own delivery worker, all on one database pool and one event loop; each
school gets its report: every bot should reach ≥ 0.9 of its own limit.

Run it from the repository root: `python benchmarks/fanout.py [--guardians N] [--schools N]
[--quick] [--no-gc-tuning] [--database sqlite|postgresql --database-url URL]`. 5,000 guardians
take about three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/fanout.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import col, func, select
from telegram.ext import ExtBot

from benchmarks.bot_api_process import BotApiProcess, FloodRecord
from benchmarks.updates import (
    BenchmarkError,
    collector_tuned,
    keep_traffic_local,
    scratch_database,
)
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_pacing import (
    TELEGRAM_PER_CHAT_PER_SECOND,
    TELEGRAM_PER_SECOND,
    TelegramRateLimiter,
)
from bot.channels.telegram_render import CHANNEL
from bot.delivery.worker import DeliveryWorker
from handlers.types import Button, Reply
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from models.school.tables import School

TOKEN = "123:FANOUT"
LOCAL_HOST = "127.0.0.1"
NOTICE_ID = 1
#: Telegram chat ids of the simulated guardians (one chat each).
FIRST_CHAT_ID = 800_000_001
TARGET_RATIO = 0.9
QUICK_GUARDIANS = 60
#: Rows written per transaction while preparing the run.
ENQUEUE_CHUNK = 500


def row_key(guardian: int) -> str:
    return f"notice:{NOTICE_ID}:guardian:{guardian}:{CHANNEL}"


def chat_of(guardian: int) -> str:
    return str(FIRST_CHAT_ID + guardian)


def notice(guardian: int) -> Reply:
    text = (
        f"〔2026〕第012号 关于冬季作息时间调整的通知（第{guardian}号家长）\n"
        "各位家长：自12月1日起，学校冬季作息时间调整为8:00到校、16:30放学。请按时接送孩子。"
    )
    return Reply.with_buttons(text, [[Button("确认收到", f"!receipt:{NOTICE_ID}")]])


# -- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    guardians: int
    database: str
    #: From the worker's start until every row was settled.
    seconds: float
    #: From the first message's arrival at the fake to the last's.
    span: float
    delivered: int
    refused: int
    peak: int
    peak_in_chat: int
    duplicates: int
    losses: int
    statuses: dict[str, int]
    errors_logged: int

    @property
    def rate(self) -> float:
        """Messages per second while sending: N messages take N - 1 gaps."""
        return (self.delivered - 1) / self.span if self.span > 0 and self.delivered > 1 else 0.0

    @property
    def overall_rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / TELEGRAM_PER_SECOND

    @property
    def problems(self) -> tuple[str, ...]:
        found = []
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate message(s)")
        if self.losses:
            found.append(f"{self.losses} guardian(s) got nothing")
        not_sent = {s: n for s, n in self.statuses.items() if s != OutboxStatus.SENT and n}
        if not_sent:
            found.append(f"outbox rows not sent: {not_sent}")
        return tuple(found)

    @property
    def within_limits(self) -> bool:
        """Whether every second's arrivals, refused ones included, stayed within the limits."""
        return self.peak <= TELEGRAM_PER_SECOND and self.peak_in_chat <= (
            TELEGRAM_PER_CHAT_PER_SECOND
        )

    def render(self) -> str:
        lines = [
            f"fan-out: {self.guardians} guardians (one chat each), {self.database}, the real "
            f"DeliveryWorker + TelegramChannel over HTTP to a fake Bot API on {LOCAL_HOST} "
            f"enforcing {TELEGRAM_PER_SECOND} msg/s overall and "
            f"{TELEGRAM_PER_CHAT_PER_SECOND}/s per chat",
            "",
            f"delivered:   {self.delivered} messages in {self.span:.1f} s "
            f"(first to last arrival): {self.rate:.1f} msg/s",
            f"ratio:       {self.ratio:.2f} of the limit (target ≥ {TARGET_RATIO}"
            + ("" if self.ratio >= TARGET_RATIO else ", NOT met")
            + ")",
            f"whole run:   {self.seconds:.1f} s, {self.overall_rate:.1f} msg/s "
            "(start-up and the last row's bookkeeping included)",
            f"429s:        {self.refused} (each honoured: the chat, and the bot when the chat "
            "was spaced, waited retry_after)",
            f"busiest 1 s: {self.peak} messages overall, {self.peak_in_chat} in one chat "
            "(every call that arrived, refused ones included; "
            + ("within the limits)" if self.within_limits else "OVER the limits)"),
            f"duplicates:  {self.duplicates}",
            f"losses:      {self.losses}",
            "outbox:      "
            + ", ".join(f"{n} {status}" for status, n in self.statuses.items() if n),
        ]
        if self.errors_logged:
            lines.append(f"errors logged: {self.errors_logged}")
        if self.problems:
            lines += ["data check FAILED:", *(f"  - {p}" for p in self.problems)]
        else:
            lines.append(
                "data check: every guardian received the notice exactly once; every row is sent"
            )
        return "\n".join(lines)


# -- the run ----------------------------------------------------------------------------------------


async def enqueue_notice(db: Database, guardians: int, name: str = "基准学校") -> int:
    """One outbox row per guardian, as the notices feature writes them, for a new school named
    `name`; its id."""
    async with db.session() as session:
        school = School(name=name)
        session.add(school)
        await session.flush()
        school_id = school.id or 0
    for start in range(1, guardians + 1, ENQUEUE_CHUNK):
        async with db.session() as session:
            for guardian in range(start, min(start + ENQUEUE_CHUNK, guardians + 1)):
                await enqueue(
                    session=session,
                    school_id=school_id,
                    key=row_key(guardian),
                    kind="notice",
                    channel=CHANNEL,
                    chat_id=chat_of(guardian),
                    payload=notice(guardian).to_dict(),
                )
    return school_id


async def statuses(db: Database, school_id: int) -> Counter[str]:
    async with db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage.status, func.count())
                .where(
                    col(OutboxMessage.channel) == CHANNEL,
                    col(OutboxMessage.school_id) == school_id,
                )
                .group_by(col(OutboxMessage.status))
            )
        ).all()
    return Counter({str(status): int(n) for status, n in rows})


async def still_open(db: Database, school_id: int) -> int:
    """The school's rows not settled yet (pending or sending): an index lookup, cheap while
    sending."""
    async with db.session() as session:
        open_states = [OutboxStatus.PENDING, OutboxStatus.SENDING]
        return int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        col(OutboxMessage.status).in_(open_states),
                        col(OutboxMessage.school_id) == school_id,
                    )
                )
            ).one()
        )


async def deliver_all(db: Database, worker: DeliveryWorker, school_id: int) -> float:
    """Run the school's worker until none of its rows is pending or sending; the seconds it
    took."""
    started = time.perf_counter()
    running = asyncio.create_task(worker.run_forever(), name="fanout-delivery")
    try:
        while True:
            await asyncio.sleep(0.5)
            if not await still_open(db, school_id):
                return time.perf_counter() - started
            if running.done():
                running.result()
                raise BenchmarkError("the delivery worker stopped")
    finally:
        worker.stop()
        await asyncio.wait_for(running, 30)


def compare(received: Counter[str], guardians: int) -> tuple[int, int, int]:
    """What the fake received (messages per chat) against the rows: (messages delivered,
    duplicates, losses)."""
    expected = {chat_of(g) for g in range(1, guardians + 1)}
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    duplicates += sum(n for chat, n in received.items() if chat not in expected)
    losses = sum(1 for chat in expected if not received[chat])
    return sum(received.values()), duplicates, losses


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass(frozen=True)
class Options:
    guardians: int = 5_000
    database: str = "sqlite"
    database_url: str | None = None
    time_limit: float = 1_800.0
    #: Schools sending at once, each its own notice to `guardians` through its own bot (a fake
    #: Bot API of its own enforcing that bot's limits) and its own delivery worker.
    schools: int = 1
    #: The garbage collector as the bot's runners set it (`bot.gc_tuning`); False: CPython's.
    gc_tuned: bool = True


@dataclass
class _School:
    """One school's part of the run: its fake Telegram (its bot's limits, in a process of its
    own) and its worker."""

    number: int
    token: str
    school_id: int = 0
    seconds: float = 0.0
    counts: Counter[str] | None = None
    seen: FloodRecord | None = None

    def report(self, options: Options, errors: int) -> Report:
        seen = self.seen or FloodRecord([], 0, Counter())
        limits = seen.limits(TELEGRAM_PER_SECOND, TELEGRAM_PER_CHAT_PER_SECOND)
        delivered, duplicates, losses = compare(seen.received, options.guardians)
        arrivals = [at for at, _ in limits.arrivals]
        counts = self.counts or Counter()
        return Report(
            guardians=options.guardians,
            database=options.database,
            seconds=self.seconds,
            span=(arrivals[-1] - arrivals[0]) if arrivals else 0.0,
            delivered=delivered,
            refused=limits.refused,
            peak=limits.peak(),
            peak_in_chat=limits.peak(per_chat=True),
            duplicates=duplicates,
            losses=losses,
            statuses={str(status): counts[status] for status in OutboxStatus},
            errors_logged=errors,
        )


async def _send_notice(db: Database, school: _School, fake: BotApiProcess) -> None:
    """The school's worker with its bot, until every row of the school is settled; then what
    its fake Bot API saw."""
    bot = ExtBot(
        school.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=AiohttpRequest(pool_size=16),
        rate_limiter=TelegramRateLimiter(),
    )
    async with bot:
        worker = DeliveryWorker(db, {CHANNEL: TelegramChannel(bot)}, school_id=school.school_id)
        school.seconds = await deliver_all(db, worker, school.school_id)
    school.counts = await statuses(db, school.school_id)
    school.seen = await fake.finish()


async def run_schools(options: Options) -> list[Report]:
    """Every school's notice sent at once, each by its own bot and worker in this process (its
    fake Bot API in a process of its own, as Telegram is elsewhere); a report per school."""
    if options.guardians < 2:
        raise BenchmarkError("--guardians must be at least 2")
    if options.schools < 1:
        raise BenchmarkError("--schools must be at least 1")
    keep_traffic_local()
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    schools = [
        _School(number, TOKEN if number == 1 else f"{number}{TOKEN}")
        for number in range(1, options.schools + 1)
    ]
    try:
        async with (
            asyncio.timeout(options.time_limit),
            scratch_database(options.database, options.database_url) as url,
            contextlib.AsyncExitStack() as stack,
        ):
            fakes = [
                await stack.enter_async_context(
                    BotApiProcess(
                        school.token,
                        per_second=TELEGRAM_PER_SECOND,
                        per_chat_per_second=TELEGRAM_PER_CHAT_PER_SECOND,
                    )
                )
                for school in schools
            ]
            db = Database(url)
            try:
                for school in schools:
                    name = "基准学校" if school.number == 1 else f"基准学校{school.number}"
                    school.school_id = await enqueue_notice(db, options.guardians, name)
                with collector_tuned(options.gc_tuned):  # as the bot's runners set it
                    await asyncio.gather(
                        *(
                            _send_notice(db, school, fake)
                            for school, fake in zip(schools, fakes, strict=True)
                        )
                    )
            finally:
                await db.dispose()
    except TimeoutError:
        raise BenchmarkError(f"the run took longer than {options.time_limit:g} s") from None
    finally:
        logging.getLogger().removeHandler(errors)
    return [school.report(options, errors.count) for school in schools]


async def run_benchmark(options: Options) -> Report:
    """One school's fan-out (`--schools 1`); its report."""
    return (await run_schools(replace(options, schools=1)))[0]


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description="one notice to N guardians through the outbox, at Telegram's limits"
    )
    parser.add_argument("--guardians", type=int, default=Options.guardians, metavar="N")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server (a scratch database is created on it and dropped afterwards)",
    )
    parser.add_argument("--time-limit", type=float, default=Options.time_limit, metavar="SECONDS")
    parser.add_argument(
        "--schools",
        type=int,
        default=1,
        metavar="N",
        help="N schools at once, each its own notice through its own bot and worker",
    )
    parser.add_argument(
        "--no-gc-tuning",
        action="store_true",
        help="send with CPython's garbage-collector settings (bot/gc_tuning.py off)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_GUARDIANS} guardians (the smoke test)"
    )
    args = parser.parse_args(argv)
    return Options(
        guardians=QUICK_GUARDIANS if args.quick else args.guardians,
        database=args.database,
        database_url=args.database_url,
        time_limit=args.time_limit,
        schools=args.schools,
        gc_tuned=not args.no_gc_tuning,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; exit 1 when a message was lost or repeated or a limit was broken."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = parse_options(argv)
    try:
        reports = asyncio.run(run_schools(options))
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    for number, report in enumerate(reports, start=1):
        if len(reports) > 1:
            print(f"\n== school {number} of {len(reports)}, sending at the same time ==")
        print(report.render())
    return 1 if any(report.problems for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
