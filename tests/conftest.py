"""Every test gets a real, migrated database: SQLite by default, PostgreSQL with DATABASE_URL.

SQLite: the schema is migrated once into a template file, copied for each test.
PostgreSQL: a fresh database is created for the session (so parallel runs never collide),
migrated once, and every table is emptied before each test.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import models  # noqa: F401 - registers the tables
from bot.private_logging import configure_logging
from models.db.engine import Database, create_engine
from models.db.migrate import upgrade
from tests.helpers.clock import FakeClock
from tests.helpers.database import postgres_url
from tests.helpers.factories import TestSchool, seed_school

#: Fixtures kept with their helpers: the command line's environment, the fake servers, the
#: digest's data set.
pytest_plugins = ["tests.helpers.cli", "tests.helpers.digest", "tests.helpers.servers"]


async def _admin_execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pg = postgres_url()
    if pg is None:
        template = tmp_path_factory.mktemp("db") / "template.db"
        url = f"sqlite:///{template}"
        upgrade(url)
        yield url
        return
    name = f"jiafang_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    base = make_url(pg)
    asyncio.run(_admin_execute(pg, f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin_execute(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def db(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    if database_url.startswith("sqlite"):
        template = Path(make_url(database_url).database or "")
        copy = tmp_path / "test.db"
        shutil.copyfile(template, copy)
        database = Database(f"sqlite:///{copy}")
    else:
        database = Database(database_url)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """Monday 16 November 2026, 10:00 in Shanghai (02:00 UTC), inside the autumn semester."""
    return FakeClock(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))


@pytest.fixture
async def school(db: Database) -> TestSchool:
    """The test school (`tests.helpers.factories.seed_school`), for tests that take it whole."""
    return await seed_school(db)


@pytest.fixture
def private_log() -> Iterator[io.StringIO]:
    """The process's real logging configuration (`bot.private_logging`), writing into a buffer;
    the test runner's own handlers are put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer, force=True)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
