"""`python -m bot run --workers N`: N worker processes of one school's bot, kept running.

Each worker is an ordinary `python -m bot run` (with `--webhook` when Telegram is configured):
its own dispatcher, delivery worker, scheduled jobs and web server. They share:
- **the web port**: every worker listens on WEB_PORT with SO_REUSEPORT (`WEB_REUSE_PORT`), and
  the kernel spreads incoming connections — Telegram's webhook posts, WeCom's callbacks, the
  parents' pages — among them. Any worker may take any update: conversations are read from the
  database and written with a version check, and every update's key is recorded before it acts
  (README, Several worker processes);
- **the database** (PostgreSQL): scheduled slots are claimed once (`job_run`), outbox rows with
  `FOR UPDATE SKIP LOCKED`;
- **the messenger's limits**, through Redis (`RATE_LIMIT_URL`, `bot.delivery.shared_pacing`).

This process only supervises: it upgrades the database once, starts the workers, restarts one
that dies (a crash, an out-of-memory kill), and stops them all on SIGTERM or SIGINT, waiting for
each to finish what it holds. A worker that exits with status 2 (a configuration error, already
explained on stderr) stops them all: restarting would only repeat it. So does a worker dying
again and again (`MAX_RESTARTS` within `RESTART_WINDOW` seconds).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from bot.settings import Settings
from models.errors import ConfigError

log = logging.getLogger(__name__)

#: The most workers one machine is given (a typo like 80 for 8 is refused, not obeyed).
MAX_WORKERS = 32
#: A worker dying this often within `RESTART_WINDOW` seconds stops the bot.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
#: How long the workers get to finish after SIGTERM before they are killed.
STOP_TIMEOUT = 30.0
#: How often the supervisor looks at its workers.
POLL_SECONDS = 0.2
#: The environment a worker gets on top of the supervisor's.
WORKER_ENV = {"WEB_REUSE_PORT": "true"}

NEEDS_POSTGRES = (
    "多个工作进程需要 PostgreSQL：SQLite 数据库同一时间只能由一个进程写入。"
    "请把 DATABASE_URL 设为 PostgreSQL，或去掉 --workers。"
)
NEEDS_REDIS = (
    "多个工作进程需要 RATE_LIMIT_URL（Redis，例如 redis://127.0.0.1:6379/0），"
    "这样各进程合起来才不会超过 Telegram / 企业微信的发送频率限制。"
)
NEEDS_WEBHOOK = (
    "Telegram 用轮询时只能有一个进程接收消息：多个工作进程请加 --webhook"
    "（并设置 TELEGRAM_WEBHOOK_URL）。"
)
NEEDS_MESSENGER = "没有配置 Telegram 或企业微信：终端模式只能运行一个进程，请去掉 --workers。"
BAD_COUNT = "--workers 需要 1 到 {most} 之间的整数（收到 {count}）。"


def check_workers(
    settings: Settings, workers: int, *, webhook: bool, all_schools: bool = False
) -> None:
    """ConfigError (one line of Chinese) unless N workers can run as configured (every
    school's bots: Telegram only by webhook, since the schools' tokens are in the database)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(BAD_COUNT.format(most=MAX_WORKERS, count=workers))
    if workers == 1:
        return
    if not settings.database_url.startswith(("postgresql", "postgres")):
        raise ConfigError(NEEDS_POSTGRES)
    if not settings.rate_limit_url:
        raise ConfigError(NEEDS_REDIS)
    if all_schools:
        if not webhook:
            raise ConfigError(NEEDS_WEBHOOK)
        return
    token, wecom = settings.telegram_token, settings.wecom_configured
    if not token and not wecom:
        raise ConfigError(NEEDS_MESSENGER)
    if token and not webhook:
        raise ConfigError(NEEDS_WEBHOOK)


def worker_command(*, webhook: bool, all_schools: bool = False) -> list[str]:
    """How a worker is started: this interpreter running `bot run`."""
    options = (["--webhook"] if webhook else []) + (["--all-schools"] if all_schools else [])
    return [sys.executable, "-m", "bot", "run", *options]


@dataclass
class Supervisor:
    """Keeps `count` workers running until `stop()`; see the module doc."""

    command: Sequence[str]
    count: int
    env: dict[str, str] = field(default_factory=lambda: {**os.environ, **WORKER_ENV})
    spawn: Callable[[Sequence[str], dict[str, str]], subprocess.Popen[bytes]] = field(
        default=lambda command, env: subprocess.Popen(list(command), env=env)
    )
    monotonic: Callable[[], float] = time.monotonic
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    restarts: deque[float] = field(default_factory=deque)
    stopping: bool = False

    def start(self) -> None:
        self.workers = [self._spawn(number) for number in range(self.count)]

    def _spawn(self, number: int) -> subprocess.Popen[bytes]:
        process = self.spawn(self.command, {**self.env, "JIAFANG_WORKER": str(number + 1)})
        log.info("worker %d started (pid %d)", number + 1, process.pid)
        return process

    def stop(self) -> None:
        self.stopping = True

    def hang_up(self) -> None:
        """Pass SIGHUP on to every running worker (each reads its schools again)."""
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGHUP)

    def check(self) -> int | None:
        """Restart the workers that died; the exit status when the bot must stop, else None."""
        if self.stopping:  # a Ctrl-C reaches the workers too: they end, nothing to restart
            return None
        for number, process in enumerate(self.workers):
            status = process.poll()
            if status is None:
                continue
            if status == 2:
                log.error("worker %d stopped: its configuration was refused", number + 1)
                return 2
            now = self.monotonic()
            self.restarts.append(now)
            while self.restarts and now - self.restarts[0] > RESTART_WINDOW:
                self.restarts.popleft()
            if len(self.restarts) > MAX_RESTARTS:
                log.error(
                    "worker %d exited (status %d); %d restarts within %.0f s: stopping",
                    number + 1,
                    status,
                    len(self.restarts) - 1,
                    RESTART_WINDOW,
                )
                return 1
            log.warning("worker %d exited (status %d); starting it again", number + 1, status)
            self.workers[number] = self._spawn(number)
        return None

    def shut_down(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to every worker still running, then SIGKILL to those left after `timeout`."""
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = self.monotonic() + timeout
        for process in self.workers:
            try:
                process.wait(timeout=max(0.0, deadline - self.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()

    def run(self) -> int:
        """Start, watch until stopped or a worker cannot go on, shut down; the exit status."""
        self.start()
        status = 0
        try:
            while not self.stopping:
                outcome = self.check()
                if outcome is not None:
                    status = outcome
                    break
                time.sleep(POLL_SECONDS)
        finally:
            self.shut_down()
        return status


def run_workers(
    settings: Settings, workers: int, *, webhook: bool, all_schools: bool = False
) -> int:
    """`bot run --workers N` (N ≥ 2): upgrade the database once, then supervise N workers until
    SIGTERM / SIGINT (each running every school's bots with `all_schools`)."""
    check_workers(settings, workers, webhook=webhook, all_schools=all_schools)
    from models.db.migrate import upgrade

    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(settings.database_url)  # once, here: the workers then find it current
    supervisor = Supervisor(worker_command(webhook=webhook, all_schools=all_schools), workers)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        supervisor.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    if all_schools and hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda _signal, _frame: supervisor.hang_up())
    log.info("starting %d workers on port %d", workers, settings.web_port)
    return supervisor.run()
