"""Migration 0026 on a database that already has rows: every row gets its school (the school of
the account it names, else the first school) and the keys take the school in."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from models.db.engine import Database, create_engine
from models.db.migrate import head_revision, upgrade
from tests.helpers.database import postgres_url

ROWS = [
    "INSERT INTO school (id, name, timezone, year_start_month, year_start_day, demo)"
    " VALUES (1, '一小', 'Asia/Shanghai', 9, 1, false), (2, '二小', 'Asia/Shanghai', 9, 1, false)",
    "INSERT INTO channel_account (id, channel, external_id, chat_id, school_id, person_kind,"
    " person_id, language, bound_at)"
    " VALUES (1, 'telegram', '777', '777', 2, 'STAFF', 1, 'zh', '2026-11-16 02:00:00+00:00')",
    "INSERT INTO conversation (channel, external_id, chat_id, flow, state, draft, choices,"
    " updated_at, version) VALUES"
    " ('telegram', '777', '777', 'visit', 'ask', '{}', '[]', '2026-11-16 02:00:00+00:00', 0),"
    " ('console', 'nobody', 'nobody', 'visit', 'ask', '{}', '[]', '2026-11-16 02:00:00+00:00', 0)",
    "INSERT INTO inbound_seen (channel, update_key, seen_at)"
    " VALUES ('telegram', '1001', '2026-11-16 02:00:00+00:00')",
    "INSERT INTO outbox (key, kind, channel, chat_id, payload, status, attempts, due_at,"
    " message_ref, error, created_at) VALUES"
    " ('reply:1001:0', 'reply', 'telegram', '777', '{\"text\": \"hi\"}', 'PENDING', 0,"
    " '2026-11-16 02:00:00+00:00', '', '', '2026-11-16 02:00:00+00:00'),"
    " ('digest:1', 'digest', 'telegram', '999', '{\"text\": \"hi\"}', 'SENT', 1,"
    " '2026-11-16 02:00:00+00:00', '', '', '2026-11-16 02:00:00+00:00')",
    "INSERT INTO job_run (job, slot, owner, claimed_at, failed, outcome)"
    " VALUES ('daily_digest', '2026-11-16 00:00:00+00:00', 'h:1', '2026-11-16 00:00:00+00:00',"
    " false, 'queued 1')",
    "INSERT INTO wecom_inbox (update_key, payload, received_at)"
    " VALUES ('m1', '{}', '2026-11-16 02:00:00+00:00')",
    "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES ('daily_digest', 1.0, :b)",
]


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind (a scratch one on PostgreSQL)."""
    pg = postgres_url()
    if pg is None:
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    name = f"jiafang_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(pg, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def migrated(empty_url: str) -> AsyncIterator[Database]:
    """A database with one school's rows at 0025, then migrated to 0026."""
    await asyncio.to_thread(upgrade, empty_url, "0025")
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            for statement in ROWS:
                await connection.execute(text(statement), {"b": b"x"} if ":b" in statement else {})
        await asyncio.to_thread(upgrade, empty_url, "0026")
        yield db
    finally:
        await db.dispose()


async def _all(db: Database, query: str) -> list[tuple[object, ...]]:
    async with db.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(query))).all()]


async def test_rows_naming_an_account_take_its_school_and_the_others_the_first(
    migrated: Database,
) -> None:
    db = migrated
    conversations = "SELECT external_id, school_id FROM conversation ORDER BY external_id"
    assert await _all(db, conversations) == [("777", 2), ("nobody", 1)]
    assert await _all(db, "SELECT key, school_id FROM outbox ORDER BY key") == [
        ("digest:1", 1),
        ("reply:1001:0", 2),
    ]
    assert await _all(db, "SELECT update_key, school_id FROM inbound_seen") == [("1001", 1)]
    assert await _all(db, "SELECT job, school_id FROM job_run") == [("daily_digest", 1)]
    assert await _all(db, "SELECT update_key, school_id FROM wecom_inbox") == [("m1", 1)]
    assert await _all(db, "SELECT id FROM apscheduler_jobs") == []


async def test_after_it_two_schools_may_hold_the_same_keys_and_one_school_may_not(
    migrated: Database,
) -> None:
    db = migrated
    same_keys = [
        "INSERT INTO inbound_seen (school_id, channel, update_key, seen_at)"
        " VALUES ({school}, 'telegram', '1001', '2026-11-16 02:00:00+00:00')",
        "INSERT INTO job_run (school_id, job, slot, owner, claimed_at, failed, outcome)"
        " VALUES ({school}, 'daily_digest', '2026-11-16 00:00:00+00:00', 'h:2',"
        " '2026-11-16 00:00:00+00:00', false, '')",
        "INSERT INTO outbox (school_id, key, kind, channel, chat_id, payload, status, attempts,"
        " due_at, message_ref, error, created_at) VALUES ({school}, 'digest:1', 'digest',"
        " 'telegram', '999', '{{}}', 'PENDING', 0, '2026-11-16 02:00:00+00:00', '', '',"
        " '2026-11-16 02:00:00+00:00')",
        "INSERT INTO channel_account (channel, external_id, chat_id, school_id, person_kind,"
        " person_id, language, bound_at) VALUES ('telegram', '777', '777', {school}, 'STAFF', 2,"
        " 'zh', '2026-11-16 02:00:00+00:00')",
    ]
    # Where the row is already: school 1, but the account's school 2.
    for statement, holder in zip(same_keys, (1, 1, 1, 2), strict=True):
        # The same key again in the school that holds it is refused …
        with pytest.raises(IntegrityError):
            async with db.engine.begin() as connection:
                await connection.execute(text(statement.format(school=holder)))
        # … and in the other school it is a row of its own.
        async with db.engine.begin() as connection:
            await connection.execute(text(statement.format(school=3 - holder)))
    counted = await _all(db, "SELECT COUNT(*) FROM inbound_seen WHERE update_key = '1001'")
    assert counted == [(2,)]


async def test_several_bots_starting_at_once_migrate_the_database_once(empty_url: str) -> None:
    """One `bot run` per school: they may all start together, and each migrates first."""
    environment = {**os.environ, "DATABASE_URL": empty_url}
    started = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "db",
            "upgrade",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    said = [(await process.communicate())[0].decode() for process in started]
    assert [process.returncode for process in started] == [0, 0, 0], said
    db = Database(empty_url)
    try:
        assert await _all(db, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    finally:
        await db.dispose()
