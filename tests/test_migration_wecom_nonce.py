"""Migration 0028 on a database that already keeps nonces: they belong to the first school, and
from then on two schools' apps may each have seen the same nonce (one school may not twice)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.db.engine import Database
from models.db.migrate import upgrade
from tests.test_migration_schools_side_by_side import empty_url  # noqa: F401 - the fixture

SCHOOLS = (
    "INSERT INTO school (id, name, timezone, year_start_month, year_start_day, demo)"
    " VALUES (1, '一小', 'Asia/Shanghai', 9, 1, false), (2, '二小', 'Asia/Shanghai', 9, 1, false)"
)
NONCE = (
    "INSERT INTO wecom_nonce (school_id, nonce, seen_at)"
    " VALUES ({school}, 'n1', '2026-11-16 02:00:00+00:00')"
)


@pytest.fixture
async def migrated(empty_url: str) -> AsyncIterator[Database]:  # noqa: F811 - the fixture
    """Two schools and a nonce seen at 0027, then migrated to 0028."""
    await asyncio.to_thread(upgrade, empty_url, "0027")
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text(SCHOOLS))
            await connection.execute(
                text(
                    "INSERT INTO wecom_nonce (nonce, seen_at)"
                    " VALUES ('n1', '2026-11-16 02:00:00+00:00')"
                )
            )
        await asyncio.to_thread(upgrade, empty_url, "0028")
        yield db
    finally:
        await db.dispose()


async def test_kept_nonces_take_the_first_school_and_another_school_may_see_the_same(
    migrated: Database,
) -> None:
    async with migrated.engine.begin() as connection:
        kept = (await connection.execute(text("SELECT school_id, nonce FROM wecom_nonce"))).all()
        assert [tuple(row) for row in kept] == [(1, "n1")]
        await connection.execute(text(NONCE.format(school=2)))
    with pytest.raises(IntegrityError):
        async with migrated.engine.begin() as connection:
            await connection.execute(text(NONCE.format(school=1)))
