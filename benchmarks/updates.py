"""Updates per second through the real Telegram `Application`, next to a bare echo bot.

Why: the bot does a database transaction per update (conversation state, dedupe, the visit
itself); this measures what that costs against python-telegram-bot alone, on the same harness,
in the same run, so the figure is a ratio that does not depend on the machine.

How: a local fake Bot API (`tests.fakes.bot_api_server`, 127.0.0.1, a random port) serves
getUpdates; the bot runs with real long polling, so every update and every answer travels over
HTTP. M simulated teachers, concurrently, each run their share of N complete `/visit`
conversations closed-loop: a teacher sends its next update only when the bot has finished the
previous one. Latency per update = from the moment it is queued in the fake server to the
bot's last API call for that chat (sendMessage / editMessageText / answerCallbackQuery).
"Finished" is seen by a catch-all handler in a late handler group, which python-telegram-bot
runs after the real handler has returned. The echo bot gets the same number of updates of the
same shapes (texts and button presses), fourteen a conversation. Ours has one more in a
conversation whose student and day another conversation of the run had already chosen: the bot
asks 今天已记录过…仍要再记一条吗？ at 保存 and the teacher answers 仍要保存 (so 保存's update
is the question, and the save comes with the answer); the rates are per update either way. A round is the echo bot, then ours, seconds apart; the
ratio reported is the median round's, so that a stretch of the machine running slower (which
moves both rates) weighs as little as possible.

Run it from the repository root: `python benchmarks/updates.py [--conversations N]
[--teachers M] [--rounds R] [--database sqlite|postgresql --database-url URL] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/updates.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram import ALLOWED_UPDATES, CONCURRENT_UPDATES, build_application
from bot.channels.telegram_render import CHANNEL
from bot.demo import seed_demo
from bot.gc_tuning import tune_after_startup
from bot.runner import build_dispatcher
from bot.settings import Settings
from handlers.student_picker import CLASS, STUDENT
from models.accounts.invites import bind_account
from models.accounts.tables import PersonKind
from models.conversations.store import Conversation
from models.db.columns import utcnow
from models.db.engine import Database, create_engine
from models.db.migrate import upgrade
from models.outbox.tables import OutboxMessage
from models.roster.scope import classes_in_scope
from models.roster.tables import Staff
from models.visits.tables import Visit
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import FakeBotApi, JSONDict, TgUser, UpdateFactory

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

TOKEN = "123:BENCH"
LOCAL_HOST = "127.0.0.1"
#: Telegram user ids of the simulated teachers.
FIRST_USER_ID = 900_000_001
#: The handler group of the "update finished" marker: after every group the bots use.
FINISHED_GROUP = 1_000
#: How long one update may take before the run is declared stuck.
UPDATE_TIMEOUT = 30.0
TARGET_RATIO = 0.6


# -- what a teacher sends -----------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """A text message (a command or an answer)."""

    text: str


@dataclass(frozen=True)
class Press:
    """A press on the button labelled `label`; `expect` must then be in the bot's last message."""

    label: str
    expect: str | None = None


@dataclass(frozen=True)
class Pick:
    """A press on one of the buttons whose data is `prefix` + an id, a different one each time."""

    prefix: str


Step = Say | Press | Pick

#: One complete /visit: class, student, form, category, date, who was met, two sections
#: answered, three skipped, no problem, 保存. Fourteen updates.
VISIT: tuple[Step, ...] = (
    Say("/visit"),
    Pick(CLASS),
    Pick(STUDENT),
    Press("上门家访"),
    Press("常规"),
    Press("今天"),
    Press("母亲"),
    Say("最近作业按时完成，上课能主动举手发言。"),
    Say("在家能自己整理书包，周末帮奶奶做家务。"),
    Press("跳过"),
    Press("跳过"),
    Press("跳过"),
    Press("无"),
    Press("保存", expect="已保存"),
)


#: What the bot asks at 保存 when the student already has a visit of that form that day (another
#: conversation of the run chose the same student and day), and the answer of a teacher who did
#: visit again: one update more in that conversation, counted in our bot's updates.
DUPLICATE_QUESTION = "仍要再记一条"
SAVE_ANYWAY = Press("仍要保存", expect="已保存")


class BenchmarkError(Exception):
    """The run could not go on (no answer, an unexpected reply); the message says where."""


# -- the fake Bot API, with what the driver needs per chat ----------------------------------------


@dataclass
class RecordingBotApi(FakeBotApi):
    """`FakeBotApi` that also keeps, per chat, the last answer time, keyboard and message.

    Kept as dictionaries so the driver never scans the whole message history (which would
    slow the shared event loop down as the run goes on and bias the figures).
    """

    answered_at: dict[int, float] = field(default_factory=dict)
    keyboards: dict[int, JSONDict] = field(default_factory=dict)
    last_message: dict[int, JSONDict] = field(default_factory=dict)
    query_chats: dict[str, int] = field(default_factory=dict)

    async def call(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSONDict]:
        arrived = time.perf_counter()
        chat = self._chat_of(params)
        if chat is not None:
            self.answered_at[chat] = arrived
        status, body = await super().call(method, params)
        result = body.get("result")
        if isinstance(result, dict) and "message_id" in result:
            self._remember(method, result)
        return status, body

    def _chat_of(self, params: Mapping[str, Any]) -> int | None:
        if "chat_id" in params:
            return int(params["chat_id"])
        query_id = params.get("callback_query_id")
        return self.query_chats.get(str(query_id)) if query_id is not None else None

    def _remember(self, method: str, message: JSONDict) -> None:
        chat = int(message["chat"]["id"])
        if method in ("sendMessage", "editMessageText"):
            self.last_message[chat] = message  # a pressed question may be edited into the next
        shown = self.keyboards.get(chat)
        if "reply_markup" in message:
            if shown is None or int(shown["message_id"]) <= int(message["message_id"]):
                self.keyboards[chat] = message
        elif shown is not None and shown["message_id"] == message["message_id"]:
            del self.keyboards[chat]  # its buttons were taken away by an edit


# -- the simulated teachers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Teacher:
    user: TgUser
    #: The staff member the Telegram account is bound to (0 for the echo bot).
    staff_id: int = 0


class Driver:
    """Queues each teacher's updates and waits for the bot to finish each one (closed loop)."""

    def __init__(self, api: RecordingBotApi) -> None:
        self.api = api
        self.updates = UpdateFactory()
        self.latencies: list[float] = []
        #: (staff id, student id) of every visit the conversations should have saved.
        self.expected_visits: Counter[tuple[int, int]] = Counter()
        self._finished: dict[int, asyncio.Future[None]] = {}

    async def on_finished(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The marker handler: every handler of earlier groups is done with `update`."""
        future = self._finished.pop(update.update_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def update_for(self, step: Step, teacher: Teacher, conversation: int) -> JSONDict:
        raise NotImplementedError

    def check(self, step: Step, teacher: Teacher) -> None:
        """Raise if the bot's answer to `step` is not what a teacher expects next."""

    async def converse(self, teacher: Teacher, conversations: Sequence[int]) -> None:
        for conversation in conversations:
            for step in VISIT:
                await self.send(teacher, self.update_for(step, teacher, conversation))
                self.check(await self.follow_up(step, teacher, conversation), teacher)

    async def follow_up(self, step: Step, teacher: Teacher, conversation: int) -> Step:
        """Answer a question the bot asked after `step` (an update more); the step whose answer
        is to be checked."""
        return step

    async def send(self, teacher: Teacher, update: JSONDict) -> None:
        query = update.get("callback_query")
        if query is not None:
            self.api.query_chats[str(query["id"])] = teacher.user.id
        finished = asyncio.get_running_loop().create_future()
        self._finished[int(update["update_id"])] = finished
        queued = time.perf_counter()
        self.api.push_update(update)
        try:
            await asyncio.wait_for(finished, UPDATE_TIMEOUT)
        except TimeoutError:
            raise BenchmarkError(
                f"update {update['update_id']} was not handled within {UPDATE_TIMEOUT:g} s"
            ) from None
        answered = self.api.answered_at.get(teacher.user.id, 0.0)
        if answered < queued:
            raise BenchmarkError(f"the bot did not answer update {update['update_id']}")
        self.latencies.append(answered - queued)


class VisitDriver(Driver):
    """Presses the buttons the real bot offers, as a teacher would."""

    def __init__(self, api: RecordingBotApi) -> None:
        super().__init__(api)
        #: Conversations that were asked `DUPLICATE_QUESTION` and answered 仍要保存.
        self.saved_anyway = 0

    def update_for(self, step: Step, teacher: Teacher, conversation: int) -> JSONDict:
        if isinstance(step, Say):
            return self.updates.text(teacher.user, step.text)
        keyboard = self.api.keyboards.get(teacher.user.id)
        if keyboard is None:
            raise BenchmarkError(f"no buttons to press for {step}: {self._last_text(teacher)}")
        buttons = [b for row in keyboard["reply_markup"]["inline_keyboard"] for b in row]
        if isinstance(step, Press):
            data = [b["callback_data"] for b in buttons if b["text"] == step.label]
        else:
            data = [
                b["callback_data"]
                for b in buttons
                if b["callback_data"].startswith(step.prefix)
                and b["callback_data"][len(step.prefix) :].isdigit()
            ]
        if not data:
            labels = [b["text"] for b in buttons]
            raise BenchmarkError(f"no button for {step} in {labels}: {self._last_text(teacher)}")
        chosen = str(data[conversation % len(data)])
        if isinstance(step, Pick) and step.prefix == STUDENT:
            self.expected_visits[(teacher.staff_id, int(chosen[len(STUDENT) :]))] += 1
        return self.updates.callback(
            teacher.user,
            chosen,
            message_id=int(keyboard["message_id"]),
            message_text=str(keyboard.get("text", "")),
        )

    async def follow_up(self, step: Step, teacher: Teacher, conversation: int) -> Step:
        if step == VISIT[-1] and DUPLICATE_QUESTION in self._last_text(teacher):
            self.saved_anyway += 1
            await self.send(teacher, self.update_for(SAVE_ANYWAY, teacher, conversation))
            return SAVE_ANYWAY
        return step

    def check(self, step: Step, teacher: Teacher) -> None:
        if isinstance(step, Press) and step.expect is not None:
            said = self._last_text(teacher)
            if step.expect not in said:
                raise BenchmarkError(f"after {step.label!r} the bot said: {said}")

    def _last_text(self, teacher: Teacher) -> str:
        return str(self.api.last_message.get(teacher.user.id, {}).get("text", "(nothing)"))


class EchoDriver(Driver):
    """The same updates for the echo bot: the same texts; presses on its last message."""

    def update_for(self, step: Step, teacher: Teacher, conversation: int) -> JSONDict:
        if isinstance(step, Say):
            return self.updates.text(teacher.user, step.text)
        message = self.api.last_message[teacher.user.id]
        data = step.label if isinstance(step, Press) else f"{step.prefix}{conversation + 1}"
        return self.updates.callback(
            teacher.user,
            data,
            message_id=int(message["message_id"]),
            message_text=str(message.get("text", "")),
        )


# -- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    bot: str
    updates: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else 0.0)
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


@dataclass(frozen=True)
class Round:
    """One echo run and one run of our bot, back to back."""

    echo: Figures
    bot: Figures

    @property
    def ratio(self) -> float:
        return self.bot.rate / self.echo.rate if self.echo.rate > 0 else 0.0


@dataclass(frozen=True)
class Report:
    rounds: tuple[Round, ...]
    conversations: int
    teachers: int
    database: str
    #: What the data check found wrong (empty: every conversation saved exactly one visit).
    problems: tuple[str, ...]
    errors_logged: int

    @property
    def echo(self) -> Figures:
        return self._median_round.echo

    @property
    def bot(self) -> Figures:
        return self._median_round.bot

    @property
    def ratio(self) -> float:
        """The median round's ratio: each ratio compares two runs a few seconds apart, so a
        machine that is faster or slower for a while moves both sides of it."""
        return self._median_round.ratio

    @property
    def _median_round(self) -> Round:
        ordered = sorted(self.rounds, key=lambda r: r.ratio)
        return ordered[(len(ordered) - 1) // 2]

    def render(self) -> str:
        lines = [
            f"{self.conversations} /visit conversations from {self.teachers} teachers, "
            f"{self.database}, long polling over HTTP to a fake Bot API on {LOCAL_HOST}; "
            f"{len(self.rounds)} round(s), each the echo bot then ours",
            "",
            f"{'round':<6} {'bot':<8} {'updates':>8} {'seconds':>8} {'updates/s':>10} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'ratio':>6}",
        ]
        for number, round_ in enumerate(self.rounds, start=1):
            for figures in (round_.echo, round_.bot):
                ratio = f"{round_.ratio:>6.2f}" if figures is round_.bot else ""
                lines.append(
                    f"{number:<6} {figures.bot:<8} {figures.updates:>8} {figures.seconds:>8.2f} "
                    f"{figures.rate:>10.1f} {figures.percentile_ms(50):>8.1f} "
                    f"{figures.percentile_ms(95):>8.1f} {ratio}".rstrip()
                )
        median = " (the median round's)" if len(self.rounds) > 1 else ""
        lines += ["", f"ratio: {self.ratio:.2f}{median} (target ≥ {TARGET_RATIO})"]
        if self.problems:
            lines += ["data check FAILED:", *(f"  - {p}" for p in self.problems)]
        else:
            lines.append(
                f"data check: in every round, {self.conversations} conversations saved "
                f"{self.conversations} visits, each exactly once; no conversation left open; "
                "nothing queued"
            )
        if self.errors_logged:
            lines.append(f"errors logged during the runs: {self.errors_logged}")
        return "\n".join(lines)


# -- running a bot over long polling ----------------------------------------------------------------


@asynccontextmanager
async def polling(application: AnyApplication) -> AsyncIterator[None]:
    """Start as `run_polling` does (post_init included) and stop the same way."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    updater = application.updater
    assert updater is not None
    await updater.start_polling(
        poll_interval=0, timeout=timedelta(seconds=1), allowed_updates=list(ALLOWED_UPDATES)
    )
    await application.start()
    try:
        yield
    finally:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()


async def drive(
    name: str, application: AnyApplication, driver: Driver, teachers: Sequence[Teacher], n: int
) -> Figures:
    """Run `n` conversations split over `teachers`, all at once; the figures of the run."""
    application.add_handler(TypeHandler(Update, driver.on_finished), group=FINISHED_GROUP)
    async with polling(application):
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for index, teacher in enumerate(teachers):
                group.create_task(driver.converse(teacher, range(index, n, len(teachers))))
        seconds = time.perf_counter() - started
    return Figures(name, len(driver.latencies), seconds, tuple(driver.latencies))


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.text is not None:
        await context.bot.send_message(chat_id=message.chat_id, text=message.text)


async def _echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    # The update id keeps two presses of the same button from being "not modified".
    await query.edit_message_text(f"✓ {query.data} #{update.update_id}")


def echo_application(server: BotApiServer) -> AnyApplication:
    """A bare python-telegram-bot bot, built like ours (same concurrency, same job queue)."""
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    application.add_handler(CallbackQueryHandler(_echo_press))
    application.add_handler(MessageHandler(filters.TEXT, _echo_text))
    return application


def users(m: int) -> list[TgUser]:
    return [TgUser(FIRST_USER_ID + k, f"老师{k + 1}") for k in range(m)]


async def run_echo(m: int, n: int) -> Figures:
    api = RecordingBotApi()
    async with BotApiServer(api, host=LOCAL_HOST, token=TOKEN) as server:
        teachers = [Teacher(user) for user in users(m)]
        return await drive("echo", echo_application(server), EchoDriver(api), teachers, n)


# -- our bot: database, school, teachers -----------------------------------------------------------


async def _admin_execute(server_url: str, statement: str) -> None:
    engine = create_engine(server_url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database(kind: str, server_url: str | None) -> AsyncIterator[str]:
    """An empty, migrated database of its own, removed afterwards (never the caller's data)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jiafang-bench-") as folder:
            url = f"sqlite:///{folder}/bench.db"
            await asyncio.to_thread(upgrade, url)
            yield url
        return
    if not server_url or not server_url.startswith(("postgresql", "postgres")):
        raise BenchmarkError("--database postgresql needs --database-url postgresql://…")
    name = f"jiafang_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed_teachers(db: Database, settings: Settings, m: int) -> list[Teacher]:
    """The demo school, and `m` Telegram accounts bound in turn to its teachers of several classes.

    Teachers of several classes are the ones whose /visit asks for the class first, so every
    conversation has the same fourteen updates. Several accounts may share one staff member.
    """
    now = utcnow()
    await seed_demo(db, school_name=settings.school_name, now=now)
    async with db.session() as session:
        staff = (await session.exec(select(Staff).order_by(col(Staff.staff_no)))).all()
        loggers = [s for s in staff if len(await classes_in_scope(session=session, staff=s)) > 1]
        if not loggers:
            raise BenchmarkError("the demo school has no teacher of several classes")
        teachers = []
        for k, user in enumerate(users(m)):
            person = loggers[k % len(loggers)]
            await bind_account(
                session=session,
                channel=CHANNEL,
                external_id=str(user.id),
                chat_id=str(user.id),
                school_id=person.school_id,
                kind=PersonKind.STAFF,
                person_id=person.id or 0,
                language="zh",
                now=now,
            )
            teachers.append(Teacher(user, person.id or 0))
    return teachers


async def check_data(db: Database, expected: Counter[tuple[int, int]]) -> list[str]:
    """Every conversation saved exactly one visit, and nothing else was left behind."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Visit.teacher_id, Visit.student_id).where(Visit.channel == CHANNEL)
            )
        ).all()
        still_open = (
            await session.exec(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.channel == CHANNEL)
            )
        ).one()
        queued = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.channel == CHANNEL)
            )
        ).one()
    saved = Counter((teacher, student) for teacher, student in rows)
    problems = []
    if saved != expected:
        missing, extra = expected - saved, saved - expected
        problems.append(
            f"{sum(expected.values())} conversations, {len(rows)} visits saved "
            f"({sum(missing.values())} missing, {sum(extra.values())} extra)"
        )
    if still_open:
        problems.append(f"{still_open} conversation(s) left open")
    if queued:
        problems.append(f"{queued} outbox message(s) queued (no visit flagged a problem)")
    return problems


@contextmanager
def collector_tuned(tuned: bool = True) -> Iterator[None]:
    """The garbage collector as `python -m bot run` sets it once the bot has started
    (`bot.gc_tuning`), then CPython's settings again, for the echo bot of the next round.
    With `tuned` False, CPython's settings throughout (to measure what the tuning gives)."""
    threshold = gc.get_threshold()
    if tuned:
        tune_after_startup()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


async def run_bot(
    m: int, n: int, database_url: str, *, gc_tuned: bool = True
) -> tuple[Figures, list[str]]:
    api = RecordingBotApi()
    async with BotApiServer(api, host=LOCAL_HOST, token=TOKEN) as server:
        settings = Settings(
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_base_url=server.base_url,
            telegram_base_file_url=server.base_file_url,
            database_url=database_url,
        )
        db = Database(database_url)
        try:
            teachers = await seed_teachers(db, settings, m)
            application = build_application(settings, db, build_dispatcher(settings, db))
            driver = VisitDriver(api)
            with collector_tuned(gc_tuned):
                figures = await drive("jiafang", application, driver, teachers, n)
            return figures, await check_data(db, driver.expected_visits)
        finally:
            await db.dispose()


# -- entry point ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    conversations: int = 200
    teachers: int = 20
    database: str = "sqlite"
    database_url: str | None = None
    time_limit: float = 900.0
    #: Echo-then-ours rounds; the report's ratio is the median round's.
    rounds: int = 5
    #: Run our bot with the collector as `bot run` tunes it (False: CPython's defaults).
    gc_tuned: bool = True


class ErrorCount(logging.Handler):
    """Counts ERROR log records (a failed update is logged, not raised, by the bot)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def keep_traffic_local() -> None:
    """Never send 127.0.0.1 traffic through a proxy from the environment (httpx trusts it)."""
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = ",".join(v for v in (os.environ.get(name), LOCAL_HOST) if v)


async def run_benchmark(options: Options) -> Report:
    """Rounds of the echo bot then ours, on fresh fake servers and a fresh database each time;
    bounded by `options.time_limit`."""
    if options.conversations < 1 or options.teachers < 1 or options.rounds < 1:
        raise BenchmarkError("--conversations, --teachers and --rounds must be at least 1")
    keep_traffic_local()
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    rounds: list[Round] = []
    problems: list[str] = []
    try:
        async with asyncio.timeout(options.time_limit):
            for _ in range(options.rounds):
                echo = await run_echo(options.teachers, options.conversations)
                async with scratch_database(options.database, options.database_url) as url:
                    bot, found = await run_bot(
                        options.teachers, options.conversations, url, gc_tuned=options.gc_tuned
                    )
                rounds.append(Round(echo, bot))
                problems += found
    except TimeoutError:
        raise BenchmarkError(f"the run took longer than {options.time_limit:g} s") from None
    finally:
        logging.getLogger().removeHandler(errors)
    return Report(
        rounds=tuple(rounds),
        conversations=options.conversations,
        teachers=options.teachers,
        database=options.database,
        problems=tuple(problems),
        errors_logged=errors.count,
    )


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description="updates/s and latency of the bot's /visit against a bare echo bot"
    )
    parser.add_argument("--conversations", type=int, default=Options.conversations, metavar="N")
    parser.add_argument("--teachers", type=int, default=Options.teachers, metavar="M")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server (a scratch database is created on it and dropped afterwards)",
    )
    parser.add_argument("--time-limit", type=float, default=Options.time_limit, metavar="SECONDS")
    parser.add_argument(
        "--rounds", type=int, default=Options.rounds, metavar="R", help="echo-then-ours rounds"
    )
    parser.add_argument(
        "--quick", action="store_true", help="4 conversations from 2 teachers, one round"
    )
    parser.add_argument(
        "--gc-defaults",
        action="store_true",
        help="run our bot with CPython's garbage-collector settings (bot/gc_tuning.py off)",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    return Options(
        conversations=4 if quick else args.conversations,
        teachers=2 if quick else args.teachers,
        database=args.database,
        database_url=args.database_url,
        time_limit=args.time_limit,
        rounds=1 if quick else args.rounds,
        gc_tuned=not args.gc_defaults,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; exit 1 when the run failed or left wrong data behind."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = parse_options(argv)
    try:
        report = asyncio.run(run_benchmark(options))
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(report.render())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
