"""`Database.update_session`: the dispatcher's per-update transaction.

On SQLite it runs on one kept connection, with BEGIN/COMMIT and the fixed statements straight on
`sqlite3` and the session joining only when used; on PostgreSQL the same on a few kept
connections, on asyncpg; on an in-memory database it is `session()`. Either way: all
or nothing, and the next transaction is unaffected. These run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import SQLModel, col, select

from models.audit.tables import AuditEntry, audit
from models.conversations.store import InboundSeen, claim_update
from models.db.engine import Database
from models.db.update_tx import AlreadyHandled
from models.school.tables import School


class Boom(Exception):
    pass


SCHOOL = 1


@pytest.fixture(autouse=True)
async def _school(db: Database) -> None:
    """The school whose bot the updates come to (every test starts on empty tables)."""
    async with db.session() as session:
        session.add(School(id=SCHOOL, name="测试小学"))


async def seen_keys(db: Database) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(InboundSeen).order_by(col(InboundSeen.id)))).all()
    return [row.update_key for row in rows]


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all()
    return [row.action for row in rows]


async def test_an_update_that_only_runs_fixed_statements_commits_them(db: Database) -> None:
    async with db.update_session() as tx:
        # On a SQLite file straight on sqlite3, on PostgreSQL on asyncpg: never through the pool.
        assert tx.direct
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
    # A redelivery is refused (on PostgreSQL when the held insert is sent, at the end).
    with pytest.raises(AlreadyHandled):
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
            await audit(session=tx.session, actor="staff:1", action="redelivered")

    assert await seen_keys(db) == ["1"]
    assert await audit_actions(db) == []


async def test_fixed_statements_and_the_sessions_own_commit_together(db: Database) -> None:
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="2")
        await audit(session=tx.session, actor="staff:1", action="visit.create")
        tx.session.add(AuditEntry(actor="staff:1", action="visit.pending"))
        # The session read what the fixed statement wrote: one transaction.
        assert (await tx.session.exec(select(InboundSeen))).one().update_key == "2"

    assert await seen_keys(db) == ["2"]
    assert await audit_actions(db) == ["visit.create", "visit.pending"]


@pytest.mark.parametrize("use_session", [False, True])
async def test_a_failed_update_saves_nothing_and_the_next_one_works(
    db: Database, use_session: bool
) -> None:
    with pytest.raises(Boom):
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="3")
            if use_session:
                await audit(session=tx.session, actor="staff:1", action="visit.create")
            raise Boom()

    assert await seen_keys(db) == []
    assert await audit_actions(db) == []
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="4")
        await audit(session=tx.session, actor="staff:1", action="visit.create")
    assert await seen_keys(db) == ["4"]
    assert await audit_actions(db) == ["visit.create"]


async def test_update_sessions_and_other_sessions_take_turns(db: Database) -> None:
    async def update(key: str) -> None:
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key=key)
            await asyncio.sleep(0)  # hand the loop over mid-transaction
            await audit(session=tx.session, actor="staff:1", action=f"u{key}")

    async def job(key: str) -> None:
        async with db.session() as session:
            await asyncio.sleep(0)
            await audit(session=session, actor="job", action=f"j{key}")

    await asyncio.gather(*(f(str(k)) for k in range(20) for f in (update, job)))

    assert sorted(await seen_keys(db), key=int) == [str(k) for k in range(20)]
    assert len(await audit_actions(db)) == 40


async def test_a_cancelled_update_saves_nothing(db: Database) -> None:
    started = asyncio.Event()

    async def update() -> None:
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="5")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(update())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await seen_keys(db) == []
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="5")
    assert await seen_keys(db) == ["5"]


async def test_an_in_memory_sqlite_database_uses_plain_sessions() -> None:
    database = Database("sqlite:///:memory:")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        async with database.session() as session:
            session.add(School(id=SCHOOL, name="测试小学"))
        async with database.update_session() as tx:
            assert not tx.direct
            await claim_update(tx=tx, school_id=SCHOOL, channel="console", update_key="6")
            await audit(session=tx.session, actor="staff:1", action="visit.create")
        with pytest.raises(Boom):
            async with database.update_session() as tx:
                await claim_update(tx=tx, school_id=SCHOOL, channel="console", update_key="7")
                raise Boom()
        assert await seen_keys(database) == ["6"]
        assert await audit_actions(database) == ["visit.create"]
    finally:
        await database.dispose()
