"""PostgreSQL's update transactions on kept connections (`models.db.pg_updates`).

They bypass the pool and its liveness ping, so what the ping protected against is tested here:
connections the server dropped, and many updates at once. PostgreSQL only (the SQLite pass runs
the same updates on its one kept connection in tests/test_update_session.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlmodel import col, select

from models.audit.tables import AuditEntry, audit
from models.conversations.store import (
    Conversation,
    ConversationState,
    InboundSeen,
    StaleConversation,
    claim_update,
    store_conversation,
)
from models.db.columns import utcnow
from models.db.engine import Database
from models.db.pg_updates import KEPT
from models.db.update_tx import AlreadyHandled, KeptReadsMoved, UpdateTx
from models.roster.scope import ROSTER_READS
from models.school.tables import School

SCHOOL = 1


@pytest.fixture(autouse=True)
async def _school(db: Database) -> None:
    """The school whose bot the updates come to (every test starts on empty tables)."""
    async with db.session() as session:
        session.add(School(id=SCHOOL, name="测试小学"))


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


async def update_backend_pids(db: Database) -> set[int]:
    """The server processes of the other connections to this database."""
    async with db.session() as session:
        result = await (await session.connection()).execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return {int(pid) for pid in result.scalars()}


async def test_an_update_after_the_server_dropped_the_kept_connections_works(
    db: Database,
) -> None:
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="before")
    async with db.session() as session:  # what a server restart does to every other backend
        await (await session.connection()).execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await asyncio.sleep(0.2)  # the driver reads the server's goodbye

    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="after")

    assert await seen(db) == ["before", "after"]


async def test_many_updates_at_once_each_commit_and_few_connections_are_kept(
    db: Database,
) -> None:
    async def update(key: str) -> None:
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key=key)
            await asyncio.sleep(0.01)  # all of them open at the same time
            await tx.session.exec(select(InboundSeen))

    await asyncio.gather(*(update(str(k)) for k in range(3 * KEPT)))

    assert sorted(await seen(db), key=int) == [str(k) for k in range(3 * KEPT)]
    # The rest went back to the pool (whose own idle connections are counted too).
    assert await update_backends(db) <= KEPT + 5


# -- one round trip for a step that only moves a conversation on ------------------------------


@pytest.fixture
def statements(db: Database) -> list[str]:
    """Every statement the server receives on connections taken from the pool from now on."""
    sent: list[str] = []
    logged: set[int] = set()

    @event.listens_for(db.engine.sync_engine, "checkout")
    def log_queries(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) not in logged:
            logged.add(id(driver))
            driver.add_query_logger(lambda q: sent.append(q.query))

    return sent


async def logged(statements: list[str]) -> list[str]:
    """The statements logged so far, then none (asyncpg calls its loggers soon after)."""
    await asyncio.sleep(0.05)
    found = list(statements)
    statements.clear()
    return found


async def store(
    tx: UpdateTx,
    existing: ConversationState | None,
    state: str,
    *,
    draft: dict[str, Any] | None = None,
    choices: list[list[str]] | None = None,
) -> ConversationState:
    """Telegram user 77's conversation in flow `pick`, put at `state`."""
    return await store_conversation(
        tx=tx,
        existing=existing,
        school_id=SCHOOL,
        channel="telegram",
        external_id="77",
        chat_id="77",
        flow="pick",
        state=state,
        draft=draft or {},
        choices=choices or [],
        now=utcnow(),
    )


async def conversation_at(db: Database, state: str) -> ConversationState:
    async with db.update_session() as tx:
        return await store(tx, None, state)


async def move(db: Database, existing: ConversationState, key: str, state: str) -> None:
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key=key)
        await store(tx, existing, state, draft={"colour": "red"}, choices=[["红", "c:red"]])


async def the_conversation(db: Database) -> Conversation:
    async with db.session() as session:
        return (await session.exec(select(Conversation))).one()


async def test_a_step_that_only_moves_the_conversation_is_one_statement(
    db: Database, statements: list[str]
) -> None:
    start = await conversation_at(db, "colour")
    await logged(statements)

    await move(db, start, "1", "name")

    (sent,) = await logged(statements)
    assert sent.startswith("SELECT claim_update_and_move_conversation(")
    saved = await the_conversation(db)
    assert (saved.state, saved.version, saved.draft, saved.choices) == (
        "name",
        1,
        {"colour": "red"},
        [["红", "c:red"]],
    )
    assert await seen(db) == ["1"]


async def test_the_one_statement_step_refuses_a_redelivery_and_saves_nothing(
    db: Database,
) -> None:
    start = await conversation_at(db, "colour")
    await move(db, start, "1", "name")
    moved = await the_conversation(db)

    with pytest.raises(AlreadyHandled):
        await move(db, replace(start, version=moved.version), "1", "done")

    assert (await the_conversation(db)).state == "name"
    assert await seen(db) == ["1"]


async def test_the_one_statement_step_refuses_a_stale_copy_and_records_nothing(
    db: Database,
) -> None:
    start = await conversation_at(db, "colour")
    await move(db, start, "1", "name")

    with pytest.raises(StaleConversation):
        await move(db, start, "2", "done")  # read before the first move

    assert (await the_conversation(db)).state == "name"
    assert await seen(db) == ["1"]


async def test_a_redelivery_handled_elsewhere_at_the_same_moment_undoes_the_move(
    db: Database,
) -> None:
    start = await conversation_at(db, "colour")
    async with db.session() as other:  # the other process has claimed it, not yet committed
        await other.exec(
            insert(InboundSeen).values(
                school_id=SCHOOL, channel="telegram", update_key="9", seen_at=utcnow()
            )
        )
        step = asyncio.create_task(move(db, start, "9", "name"))
        await asyncio.sleep(0.3)  # the step waits on the other's claim
        assert not step.done()
    # The other committed: the step's insert fails on the unique key, undoing its move.
    with pytest.raises(AlreadyHandled):
        await step

    saved = await the_conversation(db)
    assert (saved.state, saved.version) == ("colour", 0)
    assert await seen(db) == ["9"]


async def test_held_writes_run_first_when_the_session_begins(
    db: Database, statements: list[str]
) -> None:
    start = await conversation_at(db, "colour")
    await logged(statements)

    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
        # The session's first statement begins the transaction, after the held claim.
        assert [r.update_key for r in (await tx.session.exec(select(InboundSeen))).all()] == ["1"]
        await store(tx, start, "name")

    # (SQLAlchemy's own statements go through asyncpg's prepared statements, which it does not
    # log; the session read the held claim, so it ran after it.)
    begin, claim, moved, commit = await logged(statements)
    assert (begin, commit) == ("BEGIN;", "COMMIT;")
    assert claim.startswith("INSERT INTO inbound_seen")
    assert moved.startswith("UPDATE conversation")
    assert (await the_conversation(db)).state == "name"


async def test_a_refused_held_write_fails_the_session_that_begins(db: Database) -> None:
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")

    with pytest.raises(AlreadyHandled):
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
            # A step that swallows the refusal: the update still saves nothing.
            with contextlib.suppress(AlreadyHandled):
                await audit(session=tx.session, actor="staff:1", action="redelivered")

    async with db.session() as session:
        assert (await session.exec(select(AuditEntry))).all() == []


async def test_a_refused_write_keeps_its_connection_for_the_next_update(db: Database) -> None:
    # With several workers a redelivery or a conversation moved by another process is routine:
    # the database refused the write, the connection is sound, and it is kept.
    start = await conversation_at(db, "colour")
    await move(db, start, "1", "name")
    backends = await update_backend_pids(db)
    moved = await the_conversation(db)
    for _ in range(3):
        with pytest.raises(AlreadyHandled):
            await move(db, replace(start, version=moved.version), "1", "done")
        with pytest.raises(StaleConversation):
            await move(db, start, "2", "done")
    await move(db, replace(start, version=moved.version), "3", "done")
    assert await update_backend_pids(db) == backends  # the same connections, none reopened
    assert (await the_conversation(db)).state == "done"


# -- the kept reads' counter, checked in the statement that ends the update -------------------


async def kept_read(tx: UpdateTx, reads: list[int]) -> int:
    """A roster read kept across updates; each time it goes to the database is counted."""

    async def read() -> int:
        reads.append(1)
        return len(reads)

    return await tx.cached("kept", read, kept=ROSTER_READS)


async def move_reading_kept(db: Database, start: ConversationState, reads: list[int]) -> None:
    """Update "1": claimed, a kept read, and the conversation moved on to "name"."""
    async with db.update_session() as tx:
        await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
        await kept_read(tx, reads)
        await store(tx, start, "name")


async def write_roster_elsewhere(db: Database) -> None:
    """Another process's connection writes a kept table (a roster import)."""
    other = Database(db.url)
    try:
        async with other.session() as session:
            await (await session.connection()).execute(text("UPDATE student SET active = active"))
    finally:
        await other.dispose()


async def test_a_step_that_used_kept_reads_and_only_moves_on_is_still_one_statement(
    db: Database, statements: list[str]
) -> None:
    start = await conversation_at(db, "colour")
    reads: list[int] = []
    async with db.update_session() as tx:  # the first: the counter is read
        await kept_read(tx, reads)
    await logged(statements)

    await move_reading_kept(db, start, reads)

    (sent,) = await logged(statements)
    assert "claim_update_and_move_conversation(" in sent
    assert "kept_reads_version" in sent
    assert len(reads) == 1  # kept
    assert ((await the_conversation(db)).state, await seen(db)) == ("name", ["1"])


async def test_a_step_that_used_kept_reads_written_elsewhere_saves_nothing(
    db: Database,
) -> None:
    start = await conversation_at(db, "colour")
    reads: list[int] = []
    async with db.update_session() as tx:
        await kept_read(tx, reads)
    await write_roster_elsewhere(db)

    with pytest.raises(KeptReadsMoved):
        await move_reading_kept(db, start, reads)

    assert len(reads) == 1  # it used what was kept, before the roster changed
    assert ((await the_conversation(db)).state, await seen(db)) == ("colour", [])
    # Handled again, the update reads the roster afresh and is saved.
    await move_reading_kept(db, start, reads)
    assert len(reads) == 2
    assert ((await the_conversation(db)).state, await seen(db)) == ("name", ["1"])


async def test_a_session_step_that_used_kept_reads_written_elsewhere_saves_nothing(
    db: Database,
) -> None:
    reads: list[int] = []
    async with db.update_session() as tx:
        await kept_read(tx, reads)
    await write_roster_elsewhere(db)

    with pytest.raises(KeptReadsMoved):
        async with db.update_session() as tx:
            await claim_update(tx=tx, school_id=SCHOOL, channel="telegram", update_key="1")
            await kept_read(tx, reads)
            # The session's first statement checks the counter before the transaction begins.
            await audit(session=tx.session, actor="staff:1", action="kept.read")

    async with db.session() as session:
        assert (await session.exec(select(AuditEntry))).all() == []
    assert await seen(db) == []
