"""The database layer behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from models import OutboxMessage, School
from models.db.engine import Database
from models.db.unchanged_reads import KEPT_VERSION_TABLE
from models.db.urls import async_url
from models.errors import ConfigError
from models.outbox.tables import enqueue
from tests.helpers.outbox import school_for_rows


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///jiafang.db", "sqlite+aiosqlite:///jiafang.db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        ),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ],
)
def test_database_urls_map_to_async_drivers(given: str, expected: str) -> None:
    assert async_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://root@localhost/x", "not a url"])
def test_unsupported_database_url_is_refused_clearly(bad: str) -> None:
    with pytest.raises(ConfigError):
        async_url(bad)


async def test_time_stamps_come_back_timezone_aware(db: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key="k1",
            kind="test",
            channel="console",
            chat_id="1",
            payload={"text": "x", "buttons": []},
            due_at=datetime(2026, 11, 16, 10, 0, tzinfo=shanghai),
        )
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.due_at == datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    assert row.due_at.tzinfo is not None


async def test_enqueueing_the_same_key_twice_keeps_one_row(db: Database) -> None:
    for _ in range(2):
        async with db.session() as session:
            await enqueue(
                session=session,
                school_id=await school_for_rows(session),
                key="visit-problem:1:staff:2",
                kind="alert",
                channel="telegram",
                chat_id="42",
                payload={"text": "x", "buttons": []},
            )
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert len(rows) == 1


async def test_a_failed_transaction_saves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            session.add(School(name="半途学校"))
            await session.flush()
            raise RuntimeError("boom")
    async with db.session() as session:
        assert (await session.exec(select(School))).all() == []


async def test_many_concurrent_transactions_all_commit(db: Database) -> None:
    """On SQLite they queue on the process's own lock instead of failing with "locked"."""
    async with db.session() as session:
        school_id = await school_for_rows(session)

    async def add(n: int) -> None:
        async with db.session() as session:
            await enqueue(
                session=session,
                school_id=school_id,
                key=f"k{n}",
                kind="test",
                channel="console",
                chat_id="1",
                payload={"text": str(n), "buttons": []},
            )
            await asyncio.sleep(0)  # let the others try to start meanwhile

    await asyncio.gather(*(add(n) for n in range(40)))
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert sorted(int(r.key[1:]) for r in rows) == list(range(40))


async def test_a_nested_transaction_on_sqlite_is_refused_at_once(db: Database) -> None:
    """It could only wait for the write lock its own outer transaction holds."""
    if db.engine.dialect.name != "sqlite":
        async with db.session(), db.session() as inner:  # PostgreSQL: fine
            assert (await inner.exec(select(School))).all() == []
        return
    with pytest.raises(RuntimeError, match="inside another"):
        async with db.session(), db.session():
            pass


async def test_an_integrity_error_surfaces_as_sqlalchemys_own(db: Database) -> None:
    async with db.session() as session:
        session.add(School(name="唯一学校"))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(School(name="唯一学校"))


async def test_the_migrations_build_exactly_the_schema_the_models_describe(db: Database) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": False,
                # PostgreSQL's counter for kept reads: the database's own, not a model's.
                "include_name": lambda name, kind, _parent: (
                    not (kind == "table" and name == KEPT_VERSION_TABLE)
                ),
            },
        )
        return list(compare_metadata(context, SQLModel.metadata))

    async with db.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
