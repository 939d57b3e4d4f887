"""`bot run --workers N` (`bot.workers`): what it refuses, and how it keeps its workers running.

The supervisor is driven here with real child processes (small Python programs standing in for
workers: one that runs until told to stop, one that dies, one refused its configuration), so
signals, exit statuses and restarts are the operating system's own. The whole bot with two
workers on one port is in tests/test_workers_run.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import pytest

from bot.settings import Settings
from bot.workers import (
    BAD_COUNT,
    MAX_RESTARTS,
    NEEDS_MESSENGER,
    NEEDS_POSTGRES,
    NEEDS_REDIS,
    NEEDS_WEBHOOK,
    Supervisor,
    check_workers,
    worker_command,
)
from models.errors import ConfigError

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TOKEN = "7000123456:AAHk-3fG9sD0mQ2pLzXy8wVvUu1abcd"
REDIS = "redis://127.0.0.1:6379/0"


def _settings(**values: Any) -> Settings:
    return Settings.model_validate({"database_url": "sqlite://", **values})


@pytest.mark.parametrize(
    ("workers", "webhook", "values", "refusal"),
    [
        (0, False, {}, BAD_COUNT.format(most=32, count=0)),
        (33, True, {}, BAD_COUNT.format(most=32, count=33)),
        (2, True, {"telegram_bot_token": TOKEN, "rate_limit_url": REDIS}, NEEDS_POSTGRES),
        (2, True, {"database_url": PG, "telegram_bot_token": TOKEN}, NEEDS_REDIS),
        (2, False, {"database_url": PG, "rate_limit_url": REDIS}, NEEDS_MESSENGER),
        (
            2,
            False,
            {"database_url": PG, "rate_limit_url": REDIS, "telegram_bot_token": TOKEN},
            NEEDS_WEBHOOK,
        ),
        (2, True, {"database_url": PG, "rate_limit_url": REDIS, "telegram_bot_token": TOKEN}, None),
        (1, False, {}, None),  # one worker: the ordinary `bot run`, console included
    ],
)
def test_what_several_workers_need(
    workers: int, webhook: bool, values: dict[str, Any], refusal: str | None
) -> None:
    settings = _settings(**values)
    if refusal is None:
        check_workers(settings, workers, webhook=webhook)
        return
    with pytest.raises(ConfigError) as refused:
        check_workers(settings, workers, webhook=webhook)
    assert str(refused.value) == refusal


@pytest.mark.parametrize(("webhook", "refusal"), [(False, NEEDS_WEBHOOK), (True, None)])
def test_workers_of_every_school_need_the_webhook_not_a_token_in_the_environment(
    webhook: bool, refusal: str | None
) -> None:
    # The schools' tokens are in the database: the environment has none, and polling several
    # bots from several processes would take each update more than once.
    settings = _settings(database_url=PG, rate_limit_url=REDIS)
    if refusal is None:
        check_workers(settings, 2, webhook=webhook, all_schools=True)
    else:
        with pytest.raises(ConfigError) as refused:
            check_workers(settings, 2, webhook=webhook, all_schools=True)
        assert str(refused.value) == refusal
    assert worker_command(webhook=webhook, all_schools=True)[-2:] == (
        ["--webhook", "--all-schools"] if webhook else ["run", "--all-schools"]
    )


#: Stand-ins for a worker: runs until SIGTERM (then exits 0) or SIGINT (as the bot's workers
#: handle both, even when started with SIGINT ignored, as a shell's background job is); dies
#: at once; refused (status 2).
RUNS = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)"
)
DIES = "import sys; sys.exit(1)"
REFUSED = "import sys; sys.exit(2)"


def _supervisor(*programs: str) -> tuple[Supervisor, list[subprocess.Popen[bytes]]]:
    """A supervisor of len(programs) workers whose n-th start runs programs[min(n, last)]."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        program = programs[min(len(started), len(programs) - 1)]
        process = subprocess.Popen([sys.executable, "-c", program], env=env, stdout=subprocess.PIPE)
        started.append(process)
        return process

    return Supervisor(["unused"], 2, spawn=spawn), started


def _ready(process: subprocess.Popen[bytes]) -> None:
    """Wait until a RUNS worker has its SIGTERM handler in place."""
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"


def _settled(supervisor: Supervisor, seconds: float = 10.0) -> int | None:
    """Check until a worker's end asks the supervisor to stop, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outcome = supervisor.check()
        if outcome is not None:
            return outcome
        time.sleep(0.05)
    return None


def test_each_worker_is_told_its_number_and_to_share_the_port() -> None:
    supervisor, started = _supervisor(RUNS)
    envs: list[dict[str, str]] = []
    spawn = supervisor.spawn

    def seen(command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        envs.append(env)
        return spawn(command, env)

    supervisor.spawn = seen
    supervisor.start()
    for process in started:
        _ready(process)
    try:
        assert [e["JIAFANG_WORKER"] for e in envs] == ["1", "2"]
        assert all(e["WEB_REUSE_PORT"] == "true" for e in envs)
    finally:
        supervisor.shut_down(timeout=5)
    assert [p.returncode for p in started] == [0, 0]  # stopped by SIGTERM, cleanly


def test_a_worker_that_dies_is_started_again_and_the_others_keep_running() -> None:
    supervisor, started = _supervisor(RUNS, DIES, RUNS)
    supervisor.start()
    try:
        started[1].wait(timeout=5)  # the second worker dies at once
        assert supervisor.check() is None
        assert len(started) == 3 and supervisor.workers == [started[0], started[2]]
        assert started[0].poll() is None and started[2].poll() is None
    finally:
        supervisor.shut_down(timeout=5)


def test_a_worker_refused_its_configuration_stops_the_bot_without_restarting() -> None:
    supervisor, started = _supervisor(RUNS, REFUSED)
    supervisor.start()
    _ready(started[0])
    try:
        assert _settled(supervisor) == 2
        assert len(started) == 2
    finally:
        supervisor.shut_down(timeout=5)
    assert started[0].returncode == 0


def test_a_worker_dying_again_and_again_stops_the_bot() -> None:
    supervisor, started = _supervisor(DIES)
    supervisor.start()
    try:
        assert _settled(supervisor) == 1
        assert len(started) == 2 + MAX_RESTARTS  # two started, then restarted until the limit
    finally:
        supervisor.shut_down(timeout=5)


def test_stopping_ends_every_worker_and_restarts_none() -> None:
    supervisor, started = _supervisor(RUNS)
    supervisor.start()
    supervisor.stop()
    for process in started:
        _ready(process)
        process.send_signal(signal.SIGINT)  # a Ctrl-C reaches the workers too
        process.wait(timeout=5)
    assert supervisor.check() is None
    supervisor.shut_down(timeout=5)
    assert len(started) == 2


#: A worker that reports each SIGHUP it gets (as `--all-schools` reads its schools again).
HANGS_UP = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "signal.signal(signal.SIGHUP, lambda *a: print('read again', flush=True))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)"
)


def test_a_hang_up_reaches_every_running_worker() -> None:
    supervisor, started = _supervisor(HANGS_UP)
    supervisor.start()
    for process in started:
        _ready(process)
    try:
        supervisor.hang_up()
        for process in started:
            assert process.stdout is not None and process.stdout.readline() == b"read again\n"
        assert all(process.poll() is None for process in started)  # told, not stopped
    finally:
        supervisor.shut_down(timeout=5)
