"""`GET /healthz`: the database reached and at the code's migration, the outbox's lag and each
job's latest slot, in a fixed number of statements and without a word of personal data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from alembic.script import ScriptDirectory
from sqlalchemy import update

from bot.runner import with_ops
from bot.settings import Settings
from models.db.engine import Database
from models.db.migrate import alembic_config, head_revision, upgrade
from models.jobs.tables import JobRun
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from scheduler.registry import all_jobs
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.outbox import school_for_rows
from tests.helpers.statements import counting_selects

#: A port nothing listens on: the database cannot be reached.
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/jiafang"


@asynccontextmanager
async def _served(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app)) as client:
        yield client


async def _health(db: Database, clock: FakeClock, **settings: Any) -> tuple[int, dict[str, Any]]:
    app = with_ops(Settings(_env_file=None, **settings), db, clock=clock)
    async with _served(app) as client:
        answer = await client.get("/healthz")
        assert answer.content_type == "application/json"
        return answer.status, json.loads(await answer.text())


async def _queue(db: Database, key: str, *, due_ago: timedelta, clock: FakeClock) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key=key,
            kind="test",
            channel="telegram",
            chat_id="6001",
            payload={"text": "刘梅您好，张小明今天的家访已记录。"},
            due_at=clock() - due_ago,
        )


async def _job_ran(db: Database, job: str, clock: FakeClock, *, failed: bool = False) -> None:
    async with db.session() as session:
        session.add(
            JobRun(
                school_id=await school_for_rows(session),
                job=job,
                slot=clock() - timedelta(hours=1),
                owner="host:1",
                claimed_at=clock() - timedelta(hours=1),
                finished_at=clock() - timedelta(minutes=59),
                failed=failed,
                outcome="IntegrityError: 刘梅 13812345678" if failed else "queued 3",
            )
        )


async def test_a_healthy_bot_says_ok_with_its_migration_outbox_and_jobs(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    job = all_jobs()[0].name
    await _job_ran(db, job, clock)
    await _queue(db, "due-soon", due_ago=timedelta(seconds=30), clock=clock)
    await _queue(db, "tomorrow", due_ago=timedelta(days=-1), clock=clock)

    status, body = await _health(db, clock)

    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["latency_ms"] >= 0
    assert body["migrations"] == {"current": head_revision(), "head": head_revision(), "ok": True}
    assert body["outbox"] == {"pending": 1, "oldest_due_seconds": 30.0}  # tomorrow's not yet due
    assert body["jobs"][job]["outcome"] == "queued 3"
    assert body["jobs"][job]["slot"].startswith("2026-11-16T01:00")
    assert set(body["jobs"]) == {j.name for j in all_jobs()}


async def test_an_outbox_lagging_past_the_threshold_is_degraded_but_still_answers_200(
    db: Database, clock: FakeClock
) -> None:
    await _queue(db, "late", due_ago=timedelta(minutes=10), clock=clock)
    await _queue(db, "later", due_ago=timedelta(minutes=2), clock=clock)

    status, body = await _health(db, clock, health_outbox_lag_seconds=300)

    assert status == 200
    assert body["status"] == "degraded"
    assert body["outbox"] == {"pending": 2, "oldest_due_seconds": 600.0}
    assert any("600 s" in problem for problem in body["problems"])


async def test_sent_messages_are_no_lag(db: Database, clock: FakeClock) -> None:
    await _queue(db, "old", due_ago=timedelta(hours=3), clock=clock)
    async with db.session() as session:
        await session.exec(update(OutboxMessage).values(status=OutboxStatus.SENT))

    status, body = await _health(db, clock, health_outbox_lag_seconds=60)

    assert (status, body["status"]) == (200, "ok")
    assert body["outbox"] == {"pending": 0, "oldest_due_seconds": 0.0}


async def test_a_failed_job_is_degraded_and_shows_only_the_errors_class(
    db: Database, clock: FakeClock
) -> None:
    job = all_jobs()[0].name
    await _job_ran(db, job, clock, failed=True)

    status, body = await _health(db, clock)
    text = json.dumps(body, ensure_ascii=False)

    assert (status, body["status"]) == (200, "degraded")
    assert body["jobs"][job]["outcome"] == "failed"
    assert body["jobs"][job]["error"] == "IntegrityError"
    assert "刘梅" not in text and "13812345678" not in text


async def test_an_unreachable_database_is_down_with_503(clock: FakeClock) -> None:
    db = Database(CLOSED_PORT_URL)
    try:
        status, body = await _health(db, clock)
    finally:
        await db.dispose()

    assert status == 503
    assert body["status"] == "down"
    assert body["database"]["reachable"] is False
    assert body["database"]["error"]  # the error's class, for the operator
    assert body["migrations"]["ok"] is False


async def test_a_database_one_migration_behind_is_down_with_503(
    tmp_path: Path, clock: FakeClock
) -> None:
    head = head_revision()
    previous = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(head)
    assert previous is not None and isinstance(previous.down_revision, str)
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    await asyncio.to_thread(upgrade, url, previous.down_revision)
    db = Database(url)
    try:
        status, body = await _health(db, clock)
    finally:
        await db.dispose()

    assert status == 503
    assert body["status"] == "down"
    assert body["database"]["reachable"] is True
    assert body["migrations"] == {"current": previous.down_revision, "head": head, "ok": False}
    assert body["outbox"] is None and body["jobs"] is None


async def test_a_database_never_migrated_is_down_with_503(tmp_path: Path, clock: FakeClock) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        status, body = await _health(db, clock)
    finally:
        await db.dispose()

    assert status == 503
    assert body["migrations"]["current"] is None


async def test_the_check_runs_three_selects_whatever_the_history(
    db: Database, clock: FakeClock
) -> None:
    for index in range(30):
        await _queue(db, f"row-{index}", due_ago=timedelta(minutes=index), clock=clock)
    for job in all_jobs()[:5]:
        await _job_ran(db, job.name, clock)

    with counting_selects(db) as selects:
        status, _body = await _health(db, clock)

    assert status == 200
    assert len(selects) == 3
