"""PostgreSQL's update transactions on kept connections (`models.db.pg_updates`).

They bypass the pool and its liveness ping, so what the ping protected against is tested here:
connections the server dropped, and many updates at once. PostgreSQL only (the SQLite pass runs
the same updates on its one kept connection in tests/test_update_session.py).
"""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from models.conversations.store import InboundSeen, claim_update
from models.db.engine import Database
from models.db.pg_updates import KEPT

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL's update connections: runs in the PostgreSQL pass (make test)",
)


async def seen(db: Database) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(InboundSeen).order_by(col(InboundSeen.id)))).all()
    return [row.update_key for row in rows]


async def update_backends(db: Database) -> int:
    """Connections to this database other than the one asking (the kept ones, at rest)."""
    async with db.session() as session:
        result = await (await session.connection()).execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return int(result.scalar_one())


async def test_an_update_after_the_server_dropped_the_kept_connections_works(
    db: Database,
) -> None:
    async with db.update_session() as tx:
        await claim_update(tx=tx, channel="telegram", update_key="before")
    async with db.session() as session:  # what a server restart does to every other backend
        await (await session.connection()).execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await asyncio.sleep(0.2)  # the driver reads the server's goodbye

    async with db.update_session() as tx:
        await claim_update(tx=tx, channel="telegram", update_key="after")

    assert await seen(db) == ["before", "after"]


async def test_many_updates_at_once_each_commit_and_few_connections_are_kept(
    db: Database,
) -> None:
    async def update(key: str) -> None:
        async with db.update_session() as tx:
            await claim_update(tx=tx, channel="telegram", update_key=key)
            await asyncio.sleep(0.01)  # all of them open at the same time
            await tx.session.exec(select(InboundSeen))

    await asyncio.gather(*(update(str(k)) for k in range(3 * KEPT)))

    assert sorted(await seen(db), key=int) == [str(k) for k in range(3 * KEPT)]
    # The rest went back to the pool (whose own idle connections are counted too).
    assert await update_backends(db) <= KEPT + 5
