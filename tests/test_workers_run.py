"""`python -m bot run --webhook --workers 2`, the whole bot, against the fake Bot API.

Two worker processes share the web port (SO_REUSEPORT) and the PostgreSQL database; Telegram's
posts (played here, each on a new connection, some twice as Telegram does when an answer is
slow) land on either. Each update is answered once, whichever worker takes it and whichever takes
its repeat. A worker killed with SIGKILL is started again by the supervisor and the bot goes on
answering; SIGTERM to the supervisor stops everything cleanly. PostgreSQL only: several workers
on SQLite are refused (tests/test_workers.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.channels.telegram_webhook import SECRET_HEADER
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import TgUser, UpdateFactory
from tests.helpers.clock import FakeClock
from tests.test_telegram_webhook import _seeded, _webhook_env, _webhook_set
from tests.test_wecom_run import _free_port, _stopped, _wait_for_port

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="several workers need PostgreSQL: runs in the PostgreSQL pass (make test)",
)

REDIS = "redis://127.0.0.1:6379/14"


def _children(pid: int) -> list[int]:
    """The supervisor's live child processes (Linux's /proc)."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(child) for child in found]


async def _workers(pid: int, count: int, *, besides: frozenset[int] = frozenset()) -> list[int]:
    for _ in range(400):
        children = _children(pid)
        if len(children) == count and not besides & set(children):
            return children
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} workers expected, found {_children(pid)}")


async def _answered(server: BotApiServer, users: list[TgUser], each: int) -> None:
    for _ in range(400):
        if all(len(server.api.sent_texts(u.id)) >= each for u in users):
            return
        await asyncio.sleep(0.05)
    counts = {u.id: len(server.api.sent_texts(u.id)) for u in users}
    raise AssertionError(f"{each} answer(s) each expected: {counts}")


async def test_two_workers_share_the_port_answer_each_update_once_and_survive_a_kill(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    await db.dispose()
    await _seeded(db.url, clock)
    port = _free_port()
    updates = UpdateFactory()
    people = [TgUser(7300 + n, f"家长{n}") for n in range(24)]
    async with BotApiServer(token=TEST_TOKEN) as server:
        env = _webhook_env(db.url, port, server) | {"RATE_LIMIT_URL": REDIS}
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "--webhook", "--workers", "2"),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            first = await _workers(process.pid, 2)
            await _wait_for_port(port, process)
            webhook = await _webhook_set(server, process)
            endpoint, secret = str(webhook["url"]), str(webhook["secret_token"])

            async def post(body: str) -> int:
                # A new connection each time, as Telegram's posts come: the kernel picks the
                # worker that accepts it.
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(endpoint, data=body, headers={SECRET_HEADER: secret}) as response,
                ):
                    return response.status

            async def everyone(text: str, users: list[TgUser]) -> None:
                bodies = [json.dumps(updates.text(u, text)) for u in users]
                statuses = await asyncio.gather(*(post(b) for b in bodies))
                statuses += await asyncio.gather(*(post(b) for b in bodies[::3]))  # again
                assert set(statuses) == {200}

            await everyone("/start", people)
            await _answered(server, people, 1)

            os.kill(first[0], signal.SIGKILL)  # a worker dies in the middle of the day
            await _workers(process.pid, 2, besides=frozenset({first[0]}))
            await everyone("/help", people)
            await _answered(server, people, 2)
            await asyncio.sleep(0.5)  # a repeat answered late would show now
            counts = {u.id: len(server.api.sent_texts(u.id)) for u in people}
            assert set(counts.values()) == {2}, counts  # each update answered exactly once
        finally:
            err = await _stopped(process)
    assert process.returncode == 0, err.decode()[-3000:]
    assert _children(process.pid) == []
    text = err.decode()
    assert "worker 1 started" in text and "worker 2 started" in text
    assert "exited (status -9); starting it again" in text
