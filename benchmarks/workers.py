"""Updates per second with 1 and 2 worker processes by webhook on PostgreSQL, next to an echo bot.

Why: a district runs the bot as several processes of `python -m bot run --webhook` behind a load
balancer, on one PostgreSQL database, with the messenger limits shared through Redis. Any worker
may take any update: a conversation's step is version-checked in the database and an update is
handled once whatever worker it reaches (its `update_id` is recorded). This measures what that
deployment does, against a bare python-telegram-bot echo bot on the same harness in the same run.

How: everything on 127.0.0.1. This process is Telegram and the load balancer: the fake Bot API
(`tests.fakes.bot_api_server`) answers the bots' calls, and each update is POSTed (JSON, with the
`X-Telegram-Bot-Api-Secret-Token` header, to the path the workers registered with `setWebhook`)
to the next worker in turn. The bots are OS processes of their own: N workers of
`python -m bot run --webhook` (each its own WEB_PORT and TELEGRAM_WEBHOOK_URL; the same
TELEGRAM_WEBHOOK_SECRET, DATABASE_URL and RATE_LIMIT_URL; quiet hours off; no WeCom) on a scratch
PostgreSQL database with the demo school and the teachers' accounts bound
(`benchmarks.updates.seed_teachers`), and the echo bot of `benchmarks.updates` in one process
fed by an aiohttp webhook route (`benchmarks/echo_webhook.py`).

M simulated teachers each run their share of N complete `/visit` conversations (fourteen
updates each) closed-loop, as in `benchmarks/updates.py`: a teacher sends the next update once
the bot has answered the last one. Here the bots run elsewhere, so "answered" is what the
teacher sees: a text is answered by a sendMessage to the chat, a button press by
answerCallbackQuery and the edit (or message) with the next question; both bots answer every
update that way. Latency = from just before the POST to that answer reaching the fake Bot API.
(Our bot may still take an older message's buttons away after a text: that call is not
waited for.) A round is the echo bot, then each worker count, each on a fresh fake server and
our bot on a fresh database; the ratio of each round compares runs a minute apart at most, and
the figure reported for each worker count is its median round's.

The data check, for each run of our bot: every conversation saved exactly one visit (teacher
and student as chosen), none left open, nothing queued in the outbox; every update answered once
(one answering message call per update in each chat, each button press answered once); the
workers logged no error and stopped with status 0. The exit status is 1 when it fails.

Run it from the repository root: `python benchmarks/workers.py [--workers 1,2]
[--conversations N] [--teachers M] [--rounds R] [--database-url URL] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/workers.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import text

from benchmarks.updates import (
    LOCAL_HOST,
    TARGET_RATIO,
    TOKEN,
    UPDATE_TIMEOUT,
    VISIT,
    BenchmarkError,
    EchoDriver,
    Figures,
    Pick,
    Press,
    RecordingBotApi,
    Step,
    Teacher,
    VisitDriver,
    check_data,
    keep_traffic_local,
    scratch_database,
    seed_teachers,
    users,
)
from bot.channels.telegram_webhook import SECRET_HEADER
from bot.settings import Settings
from handlers.student_picker import CLASS, STUDENT
from models.db.engine import Database
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import JSONDict

ROOT = Path(__file__).resolve().parent.parent
#: The Bot API calls that answer an update (the message the teacher reads next).
ANSWERS = frozenset({"sendMessage", "editMessageText"})
#: How long a bot process may take to start (imports, migrations checked, setWebhook).
START_TIMEOUT = 120.0
#: How long a bot process may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 30.0
#: Log lines of a bot process that count as errors.
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback")
ECHO_PATH = "/echo/hook"
#: Events kept per chat, to show what led to a wrong answer.
HISTORY = 16
#: The day buttons a conversation may answer 家访是哪一天？ with (VISIT presses the first).
DAYS = ("今天", "昨天")


# -- the fake Bot API, with what a teacher waits for -----------------------------------------------


@dataclass
class Awaited:
    """The answer one update waits for: a message call, and the press's answerCallbackQuery."""

    query_id: str | None
    done: asyncio.Future[float]
    message_at: float | None = None
    query_at: float | None = None

    def settle(self) -> None:
        if self.message_at is None or self.done.done():
            return
        if self.query_id is None:
            self.done.set_result(self.message_at)
        elif self.query_at is not None:
            self.done.set_result(max(self.message_at, self.query_at))


@dataclass
class AnsweringBotApi(RecordingBotApi):
    """`RecordingBotApi` that also settles what each chat's current update waits for and counts
    the answers (per chat; per button press)."""

    awaited: dict[int, Awaited] = field(default_factory=dict)
    #: Answering message calls (sendMessage / editMessageText) per chat.
    answers: Counter[int] = field(default_factory=Counter)
    #: answerCallbackQuery calls per callback query id.
    query_answers: Counter[str] = field(default_factory=Counter)
    #: Per chat, its last updates and calls, in order (shown when a run goes wrong).
    history: dict[int, deque[str]] = field(default_factory=dict)

    def note(self, chat: int, event: str) -> None:
        self.history.setdefault(chat, deque(maxlen=HISTORY)).append(event)

    def expect(self, chat: int, query_id: str | None) -> asyncio.Future[float]:
        """The future of the chat's next answer (its arrival time on `time.perf_counter`)."""
        done = asyncio.get_running_loop().create_future()
        self.awaited[chat] = Awaited(query_id, done)
        return done

    async def call(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSONDict]:
        arrived = time.perf_counter()
        status, body = await super().call(method, params)
        chat_of = self._chat_of(params)
        if chat_of is not None:
            said = str(params.get("text", ""))[:40].replace("\n", " ")
            self.note(chat_of, f"  {method} → {status} {said}".rstrip())
        if method == "answerCallbackQuery":
            query_id = str(params.get("callback_query_id"))
            self.query_answers[query_id] += 1
            chat = self.query_chats.get(query_id)
            awaited = self.awaited.get(chat) if chat is not None else None
            if awaited is not None and awaited.query_id == query_id:
                awaited.query_at = arrived
                awaited.settle()
        elif method in ANSWERS and "chat_id" in params:
            chat = int(params["chat_id"])
            self.answers[chat] += 1
            awaited = self.awaited.get(chat)
            if awaited is not None and awaited.message_at is None:
                awaited.message_at = arrived
                awaited.settle()
        return status, body

    def registered_webhooks(self) -> list[JSONDict]:
        return [call.params for call in self.calls_of("setWebhook")]


# -- Telegram's side: the load balancer and the teachers ---------------------------------------------


#: How the load balancer picks a process: the next in turn, or always the same for a chat.
BALANCES = ("round-robin", "by-chat")


class Balancer:
    """POSTs each update to a bot process, as Telegram through a load balancer: the next process
    in turn (`round-robin`: a conversation's updates go to every process), or one process per
    chat (`by-chat`: sticky, as a balancer hashing on the user would)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        urls: Sequence[str],
        token: str,
        balance: str = BALANCES[0],
    ) -> None:
        self.session = session
        self.urls = list(urls)
        self.headers = {SECRET_HEADER: token, "Content-Type": "application/json"}
        self.balance = balance
        self.posted: Counter[str] = Counter()
        self._turn = itertools.count()

    def target(self, update: JSONDict) -> str:
        if self.balance == "by-chat":
            body = update.get("message") or update.get("callback_query") or {}
            return self.urls[int(body["from"]["id"]) % len(self.urls)]
        return self.urls[next(self._turn) % len(self.urls)]

    async def post(self, update: JSONDict, *, again_after: str | None = None) -> str:
        """POST `update`; the URL of the process it went to. `again_after`: a delivery again
        (as Telegram does when it saw no answer in time), to another process than that one."""
        url = self.target(update) if again_after is None else self.other_than(again_after)
        body = json.dumps(update, ensure_ascii=False).encode()
        async with self.session.post(url, data=body, headers=self.headers) as response:
            if response.status != 200:
                raise BenchmarkError(
                    f"update {update['update_id']}: {url} answered {response.status}"
                )
        if again_after is None:
            self.posted[url] += 1
        return url

    def other_than(self, url: str) -> str:
        return self.urls[(self.urls.index(url) + 1) % len(self.urls)]


class WebhookSending:
    """A driver's `send` by webhook: POST through the balancer, wait for the teacher's answer."""

    latencies: list[float]

    def __init__(self, api: AnsweringBotApi, balancer: Balancer, redeliver_every: int = 0) -> None:
        super().__init__(api)  # type: ignore[call-arg]  # the Driver's, next in the MRO
        self.answering = api
        self.balancer = balancer
        #: Updates sent, per chat.
        self.sent: Counter[int] = Counter()
        #: Every this many updates (by update id), one is delivered again once answered.
        self.redeliver_every = redeliver_every
        self.redeliveries: list[asyncio.Task[str]] = []
        #: The button presses delivered twice (their spinner may be answered twice).
        self.pressed_twice: set[str] = set()

    async def send(self, teacher: Teacher, update: JSONDict) -> None:
        query = update.get("callback_query")
        query_id = str(query["id"]) if query is not None else None
        if query_id is not None:
            self.answering.query_chats[query_id] = teacher.user.id
        answered = self.answering.expect(teacher.user.id, query_id)
        queued = time.perf_counter()
        url = await self.balancer.post(update)
        worker = self.balancer.urls.index(url) + 1
        self.answering.note(teacher.user.id, f"update {update['update_id']} → process {worker}")
        try:
            at = await asyncio.wait_for(answered, UPDATE_TIMEOUT)
        except TimeoutError:
            raise BenchmarkError(
                f"update {update['update_id']} was not answered within {UPDATE_TIMEOUT:g} s"
            ) from None
        self.sent[teacher.user.id] += 1
        self.latencies.append(at - queued)
        if self.redeliver_every and int(update["update_id"]) % self.redeliver_every == 0:
            self.answering.note(teacher.user.id, f"update {update['update_id']} delivered again")
            if query_id is not None:
                self.pressed_twice.add(query_id)
            again = self.balancer.post(update, again_after=url)
            self.redeliveries.append(asyncio.create_task(again))

    async def redelivered(self) -> int:
        """Wait for every delivery again to be accepted; how many there were."""
        await asyncio.gather(*self.redeliveries)
        return len(self.redeliveries)


class WebhookVisitDriver(WebhookSending, VisitDriver):
    """Our bot's teachers: they press the buttons it offers, and never log a visit the school
    already has (same student, same day, same form): the bot would rightly ask 仍要再记一条吗？
    instead of saving. Each conversation takes a student and day (今天 or 昨天) no conversation
    of the run has taken, in the class the fewest conversations have chosen so far."""

    def __init__(self, api: AnsweringBotApi, balancer: Balancer, redeliver_every: int = 0) -> None:
        super().__init__(api, balancer, redeliver_every)
        #: (student button data, day button label) taken by a conversation of this run.
        self.taken: set[tuple[str, str]] = set()
        self.class_load: Counter[str] = Counter()
        #: Per chat, the day its current conversation answers 家访是哪一天？ with.
        self.day: dict[int, str] = {}

    def update_for(self, step: Step, teacher: Teacher, conversation: int) -> JSONDict:
        if isinstance(step, Press) and step.label == DAYS[0]:
            return super().update_for(Press(self.day[teacher.user.id]), teacher, conversation)
        if not isinstance(step, Pick) or step.prefix not in (CLASS, STUDENT):
            return super().update_for(step, teacher, conversation)
        keyboard = self.api.keyboards.get(teacher.user.id)
        if keyboard is None:
            raise BenchmarkError(f"no buttons to press for {step}: {self._last_text(teacher)}")
        offered = [
            str(b["callback_data"])
            for row in keyboard["reply_markup"]["inline_keyboard"]
            for b in row
            if str(b.get("callback_data", "")).startswith(step.prefix)
            and str(b["callback_data"])[len(step.prefix) :].isdigit()
        ]
        if not offered:
            raise BenchmarkError(f"no button for {step}: {self._last_text(teacher)}")
        if step.prefix == CLASS:
            chosen = min(offered, key=lambda data: (self.class_load[data], offered.index(data)))
            self.class_load[chosen] += 1
        else:
            chosen = self._free_student(teacher, offered, conversation)
        return self.updates.callback(
            teacher.user,
            chosen,
            message_id=int(keyboard["message_id"]),
            message_text=str(keyboard.get("text", "")),
        )

    def _free_student(self, teacher: Teacher, offered: list[str], conversation: int) -> str:
        start = conversation % len(offered)
        for data in offered[start:] + offered[:start]:
            for day in DAYS:
                if (data, day) not in self.taken:
                    self.taken.add((data, day))
                    self.day[teacher.user.id] = day
                    self.expected_visits[(teacher.staff_id, int(data[len(STUDENT) :]))] += 1
                    return data
        raise BenchmarkError(
            "every student on the class's first page already has a visit today and yesterday "
            "in this run: use fewer --conversations"
        )


class WebhookEchoDriver(WebhookSending, EchoDriver):
    """The echo bot's teachers: the same updates, presses on its last message."""


def answer_problems(
    api: AnsweringBotApi, sent: Counter[int], pressed_twice: Set[str] = frozenset()
) -> list[str]:
    """Every update answered once: one answering message call per update sent to the chat (a
    delivery again is answered by nothing), and one answerCallbackQuery per button pressed (two
    for a press delivered twice: the bot stops the spinner before it looks at the update)."""
    problems = []
    wrong = {c: (n, api.answers[c]) for c, n in sent.items() if api.answers[c] != n}
    if wrong:
        shown = ", ".join(f"chat {c}: {n} updates, {a} answers" for c, (n, a) in wrong.items())
        problems.append(f"updates not answered exactly once ({shown})")
    pressed = set(api.query_chats)
    twice = sorted(q for q, count in api.query_answers.items() if count != 1 + (q in pressed_twice))
    unanswered = sorted(pressed - set(api.query_answers))
    if twice or unanswered:
        problems.append(
            f"button presses answered more than once: {len(twice)}; never: {len(unanswered)}"
        )
    return problems


# -- processes ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCAL_HOST, 0))
        return int(probe.getsockname()[1])


def _ticks() -> float:
    return float(os.sysconf("SC_CLK_TCK"))


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _ticks()


def named_cpu(name: str) -> dict[int, float]:
    """CPU seconds used so far by each process whose command name is `name`, by process id."""
    used = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if Path(entry.path, "comm").read_text().strip() != name:
                    continue
            except OSError:
                continue
            used[int(entry.name)] = process_cpu(int(entry.name))
    return used


def cpu_between(start: Mapping[int, float], end: Mapping[int, float]) -> float:
    """CPU seconds used between two `named_cpu` readings (what a process that ended in between
    used after the first is not known: left out)."""
    return sum(cpu - start.get(pid, 0.0) for pid, cpu in end.items())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU so far, from /proc/stat ((0, 0) elsewhere)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return 0, 0
    values = [int(v) for v in first[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class BotProcess:
    """One bot as a child process, its log in a file of its own."""

    name: str
    args: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int
    process: asyncio.subprocess.Process | None = None
    #: The exit status after it was stopped (None: still running, or never started).
    status: int | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def cpu(self) -> float:
        return process_cpu(self.process.pid) if self.process is not None else 0.0

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def error_lines(self) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if ERROR_LINE.search(line)]

    async def stop(self) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL when it is still there after
        `STOP_TIMEOUT` seconds."""
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self.status = process.returncode

    async def wait_ready(self, api: AnsweringBotApi, session: aiohttp.ClientSession) -> JSONDict:
        """Wait for `/healthz` to answer 200 and the bot's `setWebhook` (its parameters)."""
        own = f"http://{LOCAL_HOST}:{self.port}/"
        health = f"http://{LOCAL_HOST}:{self.port}/healthz"
        said = "no answer"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                raise BenchmarkError(
                    f"{self.name} stopped while starting (status {self.process_status}); its "
                    f"log ends:\n{self.log_tail()}"
                )
            registered = [w for w in api.registered_webhooks() if str(w["url"]).startswith(own)]
            try:
                async with session.get(health) as response:
                    said = f"{response.status} {await response.text()}"
                    if response.status == 200 and registered:
                        return registered[-1]
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise BenchmarkError(
            f"{self.name} was not ready within {START_TIMEOUT:g} s (/healthz: {said[:200]}); "
            f"its log ends:\n{self.log_tail()}"
        )

    @property
    def process_status(self) -> int | None:
        return self.process.returncode if self.process is not None else None


@contextlib.asynccontextmanager
async def running(processes: Sequence[BotProcess]) -> AsyncIterator[None]:
    """Start them all; stop them all afterwards, whatever happened (SIGTERM, then SIGKILL)."""
    try:
        for process in processes:
            await process.start()
        yield
    finally:
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)


def bot_environment(
    *,
    server: BotApiServer,
    database_url: str,
    port: int,
    webhook_secret: str,
    rate_limit_url: str,
) -> dict[str, str]:
    """A worker's environment: this one without any of the bot's settings, then the run's."""
    names = {name.upper() for name in Settings.model_fields}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in names and not key.upper().startswith(("RULES__", "WECOM_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        TELEGRAM_WEBHOOK_URL=f"http://{LOCAL_HOST}:{port}",
        TELEGRAM_WEBHOOK_SECRET=webhook_secret,
        RATE_LIMIT_URL=rate_limit_url,
        WEB_HOST=LOCAL_HOST,
        WEB_PORT=str(port),
        RULES__QUIET_START="00:00",
        RULES__QUIET_END="00:00",
        # As benchmarks/updates.py runs the bot: warnings and errors only.
        LOG_LEVEL="WARNING",
    )
    return env


# -- one run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used during the timed part of a run, and the machine's busy share."""

    bots: float
    harness: float
    postgres: float
    redis: float
    #: The share of the machine's CPU time that was busy (whatever process used it).
    busy: float

    def cores(self, seconds: float) -> tuple[float, float, float, float, float]:
        """Cores used on average by the bots, the harness, PostgreSQL, Redis, and everything
        else on the machine (other work running meanwhile)."""
        if seconds <= 0:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        ours = (self.bots + self.harness + self.postgres + self.redis) / seconds
        machine = self.busy * (os.cpu_count() or 1)
        return (
            self.bots / seconds,
            self.harness / seconds,
            self.postgres / seconds,
            self.redis / seconds,
            max(0.0, machine - ours),
        )


class CpuMeter:
    """Snapshots of the CPU the bots, this process, PostgreSQL and Redis have used."""

    def __init__(self, bots: Sequence[BotProcess]) -> None:
        self.bots = bots
        self._start = self._read()

    def _read(self) -> _Reading:
        busy, total = machine_ticks()
        return _Reading(
            bots=sum(b.cpu() for b in self.bots),
            harness=time.process_time(),
            postgres=named_cpu("postgres"),
            redis=named_cpu("redis-server"),
            busy_ticks=busy,
            total_ticks=total,
        )

    def used(self) -> CpuUse:
        end, start = self._read(), self._start
        total = end.total_ticks - start.total_ticks
        return CpuUse(
            bots=end.bots - start.bots,
            harness=end.harness - start.harness,
            postgres=cpu_between(start.postgres, end.postgres),
            redis=cpu_between(start.redis, end.redis),
            busy=(end.busy_ticks - start.busy_ticks) / total if total > 0 else 0.0,
        )


@dataclass(frozen=True)
class _Reading:
    bots: float
    harness: float
    postgres: dict[int, float]
    redis: dict[int, float]
    busy_ticks: int
    total_ticks: int


@dataclass(frozen=True)
class Run:
    figures: Figures
    #: How many workers, fed how (None: the echo bot).
    config: Config | None
    cpu: CpuUse
    #: Updates posted to each process.
    split: tuple[int, ...]
    problems: tuple[str, ...] = ()
    #: Transactions in the bot's database during the run (None: the echo bot has none).
    transactions: Transactions | None = None
    #: Updates delivered a second time, to another worker.
    redelivered: int = 0


async def converse_all(
    driver: WebhookVisitDriver | WebhookEchoDriver,
    teachers: Sequence[Teacher],
    n: int,
    processes: Sequence[BotProcess],
) -> tuple[float, CpuUse]:
    """Run `n` conversations split over `teachers`, all at once: (seconds, CPU used)."""
    meter = CpuMeter(processes)
    started = time.perf_counter()

    async def converse(teacher: Teacher, conversations: range) -> None:
        try:
            await driver.converse(teacher, conversations)
        except BenchmarkError as error:
            seen = driver.answering.history.get(teacher.user.id, ())
            raise BenchmarkError(
                f"{error}\n  chat {teacher.user.id}, last events:\n    " + "\n    ".join(seen)
            ) from None

    try:
        async with asyncio.TaskGroup() as group:
            for index, teacher in enumerate(teachers):
                group.create_task(converse(teacher, range(index, n, len(teachers))))
    except* BenchmarkError as failed:
        raise failed.exceptions[0] from None
    return time.perf_counter() - started, meter.used()


async def _ready(
    processes: Sequence[BotProcess], api: AnsweringBotApi, session: aiohttp.ClientSession
) -> list[JSONDict]:
    return list(await asyncio.gather(*(p.wait_ready(api, session) for p in processes)))


def _hook_target(webhooks: Sequence[JSONDict]) -> tuple[list[str], str]:
    """The URLs the bots registered and their one secret token (they must agree on it)."""
    tokens = {str(w.get("secret_token", "")) for w in webhooks}
    paths = {str(w["url"]).split("/", 3)[-1] for w in webhooks}
    if len(tokens) != 1 or len(paths) != 1 or not next(iter(tokens)):
        raise BenchmarkError(f"the workers registered different webhooks: {sorted(paths)}")
    return [str(w["url"]) for w in webhooks], tokens.pop()


async def run_echo(options: Options, folder: Path) -> Run:
    api = AnsweringBotApi()
    async with BotApiServer(api, host=LOCAL_HOST, token=TOKEN) as server:
        port = free_port()
        secret = secrets.token_hex(16)
        echo = BotProcess(
            name="the echo bot",
            args=[
                sys.executable,
                "-m",
                "benchmarks.echo_webhook",
                *("--port", str(port), "--base-url", server.base_url),
                *("--path", ECHO_PATH, "--secret-token", secret),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
            log_path=folder / "echo.log",
            port=port,
        )
        async with aiohttp.ClientSession() as session, running([echo]):
            urls, token = _hook_target(await _ready([echo], api, session))
            balancer = Balancer(session, urls, token)
            driver = WebhookEchoDriver(api, balancer)
            teachers = [Teacher(user) for user in users(options.teachers)]
            seconds, cpu = await converse_all(driver, teachers, options.conversations, [echo])
        problems = answer_problems(api, driver.sent)
        problems += _process_problems([echo])
        figures = Figures("echo", len(driver.latencies), seconds, tuple(driver.latencies))
        return Run(figures, None, cpu, (balancer.posted[urls[0]],), tuple(problems))


async def run_workers(options: Options, config: Config, folder: Path) -> Run:
    count = config.workers
    api = AnsweringBotApi()
    async with (
        BotApiServer(api, host=LOCAL_HOST, token=TOKEN) as server,
        scratch_database("postgresql", options.database_url) as url,
    ):
        settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=url)
        db = Database(url)
        try:
            teachers = await seed_teachers(db, settings, options.teachers)
            secret = secrets.token_hex(16)
            workers = []
            for k in range(count):
                port = free_port()
                env = bot_environment(
                    server=server,
                    database_url=url,
                    port=port,
                    webhook_secret=secret,
                    rate_limit_url=options.rate_limit_url,
                )
                workers.append(
                    BotProcess(
                        name=f"worker {k + 1} of {count}",
                        args=[sys.executable, "-m", "bot", "run", "--webhook"],
                        env=env,
                        cwd=folder,  # no .env of the developer's is read
                        log_path=folder / f"worker-{count}-{config.balance}-{k + 1}.log",
                        port=port,
                    )
                )
            try:
                async with aiohttp.ClientSession() as session, running(workers):
                    urls, token = _hook_target(await _ready(workers, api, session))
                    balancer = Balancer(session, urls, token, config.balance)
                    driver = WebhookVisitDriver(api, balancer, redeliver_every(options))
                    before = await transactions(db)
                    seconds, cpu = await converse_all(
                        driver, teachers, options.conversations, workers
                    )
                    redelivered = await driver.redelivered()
            except BenchmarkError as error:  # the workers have stopped: their logs are whole
                raise BenchmarkError(f"{error}{_log_excerpts(workers)}") from None
            # Stopped (SIGTERM): whatever they had accepted is handled, their statistics are
            # flushed (a backend does when it ends). Now the data.
            after = await transactions(db)
            problems = answer_problems(api, driver.sent, driver.pressed_twice)
            problems += _process_problems(workers)
            problems += await check_data(db, driver.expected_visits)
        finally:
            await db.dispose()
    latencies = tuple(driver.latencies)
    figures = Figures(config.label, len(latencies), seconds, latencies)
    split = tuple(balancer.posted[u] for u in urls)
    counted = Transactions(
        after.commits - before.commits,
        after.rollbacks - before.rollbacks,
        after.sessions - before.sessions,
    )
    return Run(figures, config, cpu, split, tuple(problems), counted, redelivered)


@dataclass(frozen=True)
class Transactions:
    commits: int
    rollbacks: int
    #: Connections (sessions) opened to the database.
    sessions: int = 0


async def transactions(db: Database) -> Transactions:
    """Transactions committed and rolled back in the database so far (`pg_stat_database`); an
    update that met a stale kept conversation rolls back once and is handled again."""
    async with db.session() as session:
        connection = await session.connection()
        row = (
            await connection.execute(
                text(
                    "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database "
                    "WHERE datname = current_database()"
                )
            )
        ).one()
    return Transactions(int(row[0]), int(row[1]), int(row[2]))


def _log_excerpts(processes: Sequence[BotProcess], lines: int = 8) -> str:
    """The warnings and errors each process logged (its last `lines`), to go with a failure."""
    shown = ""
    for process in processes:
        try:
            text = process.log_path.read_text(errors="replace")
        except OSError:
            continue
        said = [line for line in text.splitlines() if "WARNING" in line or ERROR_LINE.search(line)]
        if said:
            shown += f"\n  {process.name} logged:\n    " + "\n    ".join(said[-lines:])
    return shown


def _process_problems(processes: Sequence[BotProcess]) -> list[str]:
    problems = []
    for process in processes:
        if process.status != 0:
            problems.append(f"{process.name} exited with status {process.status} after SIGTERM")
        errors = process.error_lines()
        if errors:
            shown = "\n    ".join(errors[:5])
            problems.append(
                f"{process.name} logged {len(errors)} error line(s) ({process.log_path}):\n    {shown}"
            )
    return problems


@dataclass(frozen=True)
class Config:
    """A number of worker processes, and how the load balancer spreads updates over them."""

    workers: int
    balance: str = BALANCES[0]

    @property
    def label(self) -> str:
        if self.workers == 1:
            return "1 worker"
        return f"{self.workers} workers, {self.balance}"


def configurations(workers: Sequence[int], balances: Sequence[str]) -> tuple[Config, ...]:
    """Each worker count with each balance (one worker: once, the balance changes nothing)."""
    found: list[Config] = []
    for count in workers:
        for balance in balances if count > 1 else balances[:1]:
            if Config(count, balance) not in found:
                found.append(Config(count, balance))
    return tuple(found)


# -- figures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """The echo bot, then our bot in each configuration, on the same machine minutes apart."""

    echo: Run
    bots: tuple[Run, ...]
    #: The configurations whose run stopped before the end, and why.
    failed: tuple[tuple[Config, str], ...] = ()

    def ratio(self, run: Run) -> float:
        return run.figures.rate / self.echo.figures.rate if self.echo.figures.rate > 0 else 0.0

    def has(self, config: Config) -> bool:
        return any(run.config == config for run in self.bots)

    def of(self, config: Config) -> Run:
        return next(run for run in self.bots if run.config == config)


def machine() -> str:
    """The CPU count and model, as /proc/cpuinfo names it."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPU(s)" + (f", {model}" if model else "")


@dataclass(frozen=True)
class Report:
    rounds: tuple[Round, ...]
    options: Options

    @property
    def configs(self) -> tuple[Config, ...]:
        return configurations(self.options.workers, self.options.balances)

    @property
    def measured(self) -> tuple[Config, ...]:
        """The configurations with at least one run that went to the end."""
        return tuple(c for c in self.configs if any(r.has(c) for r in self.rounds))

    def median(self, config: Config) -> Round:
        """Of the rounds where `config` ran to the end, the one whose ratio is the median."""
        ordered = sorted(
            (r for r in self.rounds if r.has(config)), key=lambda r: r.ratio(r.of(config))
        )
        return ordered[(len(ordered) - 1) // 2]

    @property
    def problems(self) -> list[str]:
        found = []
        for number, round_ in enumerate(self.rounds, start=1):
            for run in (round_.echo, *round_.bots):
                found += [f"round {number}, {run.figures.bot}: {p}" for p in run.problems]
            found += [
                f"round {number}, {config.label}: the run stopped: {why}"
                for config, why in round_.failed
            ]
        return found

    def render(self) -> str:
        o = self.options
        shown = "; ".join(c.label for c in self.configs)
        lines = [
            f"{o.conversations} /visit conversations ({o.conversations * len(VISIT)} updates) from "
            f"{o.teachers} teachers, PostgreSQL; every bot a process of its own fed by webhook on "
            f"{LOCAL_HOST}; {len(self.rounds)} round(s), each the echo bot (one process) then "
            f"`python -m bot run --webhook` as: {shown}",
            f"machine: {machine()}",
            "",
            f"{'round':<6} {'bot':<24} {'updates':>7} {'seconds':>7} {'upd/s':>6} "
            f"{'p50 ms':>6} {'p95 ms':>6} {'ratio':>5}  cores: {'bots':>4} {'pg':>4} "
            f"{'harness':>7} {'redis':>5} {'other':>5}  {'commits':>7} {'rollbacks':>9} "
            f"{'connects':>8}  split",
        ]
        for number, round_ in enumerate(self.rounds, start=1):
            for run in (round_.echo, *round_.bots):
                lines.append(f"{number:<6} " + self._row(round_, run))
            for config, _ in round_.failed:
                lines.append(f"{number:<6} {config.label:<24} stopped before the end (below)")
        lines += ["", *self.summary()]
        problems = self.problems
        if problems:
            lines += ["data check FAILED:", *(f"  - {p}" for p in problems)]
        else:
            lines.append(
                f"data check: in every run of our bot, {o.conversations} conversations saved "
                f"{o.conversations} visits, each exactly once; none left open; nothing queued; "
                "every update answered once (and the echo bot's too); no worker logged an error; "
                "every process stopped with status 0 on SIGTERM"
            )
            again = sum(run.redelivered for round_ in self.rounds for run in round_.bots)
            if again:
                lines.append(
                    f"  and {again} updates delivered a second time, to the other worker, once "
                    "answered: none answered again (a press's spinner stopped again at most)"
                )
        return "\n".join(lines)

    @staticmethod
    def _row(round_: Round, run: Run) -> str:
        f = run.figures
        ratio = f"{round_.ratio(run):>5.2f}" if run.config is not None else " " * 5
        bots, harness, postgres, redis, other = run.cpu.cores(f.seconds)
        counted = run.transactions
        tx = (
            f"{counted.commits:>7} {counted.rollbacks:>9} {counted.sessions:>8}"
            if counted is not None
            else " " * 26
        )
        return (
            f"{f.bot:<24} {f.updates:>7} {f.seconds:>7.2f} {f.rate:>6.1f} "
            f"{f.percentile_ms(50):>6.1f} {f.percentile_ms(95):>6.1f} {ratio}"
            f"{'':8}{bots:>4.2f} {postgres:>4.2f} {harness:>7.2f} {redis:>5.2f} "
            f"{other:>5.2f}  {tx}  {'/'.join(str(s) for s in run.split)}"
        )

    def summary(self) -> list[str]:
        which = "the median round's" if len(self.rounds) > 1 else "the round's"
        lines = []
        for config in self.measured:
            round_ = self.median(config)
            run = round_.of(config)
            ratio = round_.ratio(run)
            verdict = ""
            if config.workers == 1:
                met = "met" if ratio >= TARGET_RATIO else "NOT met"
                verdict = f" (target ≥ {TARGET_RATIO}: {met})"
            lines.append(
                f"{config.label}: {run.figures.rate:.1f} updates/s against the echo bot's "
                f"{round_.echo.figures.rate:.1f} ({which}): ratio {ratio:.2f}{verdict}"
            )
        one = Config(1)
        if one in self.measured:
            for config in self.measured:
                if config.workers > 1:
                    lines += self.scaling(one, config)
            if any(c.workers > 1 for c in self.measured):
                lines += self.cpu_lines()
        return lines

    def scaling(self, one: Config, more: Config) -> list[str]:
        """Several workers against one, round by round (the same round's runs are a minute or
        so apart, so a stretch of the machine being busier moves both)."""
        gains = [
            r.of(more).figures.rate / r.of(one).figures.rate
            for r in self.rounds
            if r.has(more) and r.has(one)
        ]
        if not gains:
            return []
        gain = statistics.median(gains)
        shown = ", ".join(f"{g:.2f}" for g in gains)
        faster = "faster" if gain > 1.05 else "NOT faster"
        lines = [
            f"{more.label} against 1 worker: {gain:.2f}× the updates/s (per round: {shown}); "
            f"{faster} here"
        ]
        if gain <= 1.05:
            lines += [f"  why: {reason}" for reason in self.why_not_faster(one, more)]
        return lines

    def why_not_faster(self, one: Config, more: Config) -> list[str]:
        """What the figures show about it: new database connections, a machine without a free
        core (the CPU each bot used is in `cpu_lines`)."""
        run, alone = self.median(more).of(more), self.median(one).of(one)
        reasons = []
        counted, before = run.transactions, alone.transactions
        if counted is not None and counted.sessions > max(run.figures.updates // 20, 5):
            reasons.append(
                f"the workers opened {counted.sessions} new database connections for "
                f"{run.figures.updates} updates (one worker: "
                f"{before.sessions if before is not None else '?'}): an update that reaches a "
                "worker whose kept copy of the conversation is out of date (the last step went "
                "to the other worker) is refused at its write (StaleConversation) and handled "
                "again, an update delivered again is refused (AlreadyHandled), and after either "
                "the update's kept connection is given up (models/db/pg_updates.py, "
                "`PgUpdateConnections._discard`)"
            )
        cpus = os.cpu_count() or 1
        if run.cpu.busy >= 0.9:
            _, _, _, _, other = run.cpu.cores(run.figures.seconds)
            reasons.append(
                f"this machine has {cpus} CPU(s) and they were {run.cpu.busy:.0%} busy "
                f"({other:.2f} cores on other work): a second worker has no core of its own"
            )
        return reasons or ["nothing the figures show; run more rounds"]

    def cpu_lines(self) -> list[str]:
        cpus = os.cpu_count() or 1
        lines = [f"where the {cpus} CPU(s) went (each configuration's median round):"]
        for config in self.measured:
            run = self.median(config).of(config)
            bots, harness, postgres, redis, other = run.cpu.cores(run.figures.seconds)
            per_update = 1000 * run.cpu.bots / max(run.figures.updates, 1)
            lines.append(
                f"  {config.label}: the bot {bots:.2f} cores ({per_update:.2f} ms of CPU per "
                f"update), PostgreSQL {postgres:.2f}, the harness {harness:.2f}, Redis "
                f"{redis:.2f}, other work on the machine {other:.2f}; {run.cpu.busy:.0%} busy"
            )
        return lines


# -- entry point ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    workers: tuple[int, ...] = (1, 2)
    #: How updates are spread over several workers; each is run (`BALANCES`).
    balances: tuple[str, ...] = BALANCES
    #: At most 64: the demo school's four classes show 8 students each on their first page,
    #: and a student is visited once a day (today or yesterday) in a run.
    conversations: int = 48
    teachers: int = 16
    rounds: int = 5
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    rate_limit_url: str = "redis://127.0.0.1:6379/3"
    #: The share of updates delivered a second time to another worker once answered (0: none).
    redeliver: float = 0.0
    time_limit: float = 1200.0


def redeliver_every(options: Options) -> int:
    """Every how many updates one is delivered again (0: never)."""
    return max(1, round(1 / options.redeliver)) if options.redeliver > 0 else 0


async def run_benchmark(options: Options) -> Report:
    """Rounds of the echo bot then each configuration; bounded by `options.time_limit`."""
    if options.conversations < 1 or options.teachers < 1 or options.rounds < 1:
        raise BenchmarkError("--conversations, --teachers and --rounds must be at least 1")
    if not options.workers or min(options.workers) < 1:
        raise BenchmarkError("--workers takes worker counts of at least 1, e.g. 1,2")
    keep_traffic_local()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="jiafang-workers-") as name:
        folder = Path(name)
        try:
            async with asyncio.timeout(options.time_limit):
                for number in range(1, options.rounds + 1):
                    say(f"round {number}: the echo bot")
                    echo = await run_echo(options, folder)
                    bots, failed = [], []
                    for config in configurations(options.workers, options.balances):
                        say(f"round {number}: {config.label}")
                        try:
                            bots.append(await run_workers(options, config, folder))
                        except BenchmarkError as error:  # shown with the figures of the rest
                            say(f"round {number}: {config.label} stopped: {error}")
                            failed.append((config, str(error)))
                    rounds.append(Round(echo, tuple(bots), tuple(failed)))
        except TimeoutError:
            raise BenchmarkError(f"the run took longer than {options.time_limit:g} s") from None
    return Report(tuple(rounds), options)


def say(progress: str) -> None:
    print(progress, file=sys.stderr, flush=True)


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("worker counts separated by commas, e.g. 1,2") from None
    if not counts:
        raise argparse.ArgumentTypeError("at least one worker count, e.g. 1,2")
    return counts


def _balances(value: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [b for b in chosen if b not in BALANCES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"one or more of {', '.join(BALANCES)}")
    return chosen


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description="updates/s of 1 and 2 webhook worker processes on PostgreSQL, against an "
        "echo bot"
    )
    parser.add_argument("--workers", type=_counts, default=Options.workers, metavar="1,2")
    parser.add_argument(
        "--balance",
        type=_balances,
        default=Options.balances,
        metavar=",".join(BALANCES),
        help="how several workers are fed: each update to the next worker in turn "
        "(round-robin), each chat always to the same worker (by-chat); each one given is run",
    )
    parser.add_argument("--conversations", type=int, default=Options.conversations, metavar="N")
    parser.add_argument("--teachers", type=int, default=Options.teachers, metavar="M")
    parser.add_argument(
        "--rounds", type=int, default=Options.rounds, metavar="R", help="echo-then-workers rounds"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or Options.database_url,
        help="a PostgreSQL server (a scratch database is created on it for each run and "
        "dropped afterwards)",
    )
    parser.add_argument(
        "--rate-limit-url",
        default=Options.rate_limit_url,
        help="the Redis the workers share the bot's limits through (RATE_LIMIT_URL)",
    )
    parser.add_argument(
        "--redeliver",
        type=float,
        default=Options.redeliver,
        metavar="FRACTION",
        help="deliver this share of the updates a second time, to another worker, once "
        "answered (as Telegram does when it gets no answer in time); none must be answered "
        "again",
    )
    parser.add_argument("--time-limit", type=float, default=Options.time_limit, metavar="SECONDS")
    parser.add_argument(
        "--quick", action="store_true", help="4 conversations from 2 teachers, one round"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.redeliver <= 1:
        parser.error("--redeliver is a share of the updates, from 0 to 1")
    if not str(args.database_url).startswith(("postgresql", "postgres")):
        parser.error("--database-url must be a PostgreSQL URL (postgresql://…)")
    quick = bool(args.quick)
    return Options(
        workers=args.workers,
        balances=args.balance,
        conversations=4 if quick else args.conversations,
        teachers=2 if quick else args.teachers,
        rounds=1 if quick else args.rounds,
        database_url=args.database_url,
        rate_limit_url=args.rate_limit_url,
        redeliver=args.redeliver,
        time_limit=args.time_limit,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; exit 1 when the run failed or the data check found anything wrong."""
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
