"""The database engine: SQLite (WAL, busy timeout, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.pg_updates import PgUpdateConnections
from models.db.sqlite_inloop import in_loop_creator, in_loop_sqlite
from models.db.unchanged_reads import UnchangedReads, UpdateSession
from models.db.update_tx import UpdateTx, driver_transaction
from models.db.urls import async_url


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: no deadlock when a reader later wants to write.
        sqlite = in_loop_sqlite(conn.connection.driver_connection)
        if sqlite is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not sqlite.in_transaction:  # else a session joins `update_session`'s transaction
            sqlite.execute("BEGIN IMMEDIATE")  # every transaction: straight to SQLite


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """The engine for `url`. Its errors and echo never show a statement's parameters: they
    carry what people wrote about children and families."""
    target = async_url(url)
    if target.startswith("sqlite"):
        path = make_url(target).database
        if path and path != ":memory:":
            # Statements run where they are awaited (see models.db.sqlite_inloop); a local file
            # cannot go stale, so no ping on checkout either.
            engine = create_async_engine(
                target, echo=echo, hide_parameters=True, async_creator=in_loop_creator(path)
            )
        else:
            engine = create_async_engine(target, echo=echo, hide_parameters=True)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(target, echo=echo, hide_parameters=True, pool_pre_ping=True)


class Database:
    """An engine and its session factory; one session per update or job."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self._serialise = is_sqlite(self.engine)
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._holder: dict[str, object] = {}
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        #: Update sessions refuse writes to tables whose reads are kept across updates.
        self._update_sessions = async_sessionmaker(
            self.engine,
            class_=AsyncSession,
            sync_session_class=UpdateSession,
            expire_on_commit=False,
        )
        #: The connection `update_session` keeps (SQLite on the loop only), and its reads.
        self._kept: AsyncConnection | None = None
        self._reads: UnchangedReads | None = None
        #: PostgreSQL's connections kept for update transactions (`models.db.pg_updates`).
        self._pg_updates = (
            PgUpdateConnections(self.engine, self._update_sessions)
            if self.engine.dialect.name == "postgresql"
            else None
        )
        #: Whether SQLite runs on the loop here (None: not known until the first connection).
        self._in_loop: bool | None = None if self._serialise else False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on any error.

        On SQLite every transaction takes the write lock up front, so only one runs at a time
        anyway; this process queues its own on an asyncio lock, so that none ever waits inside
        SQLite (which, with statements run on the loop, would block the loop).
        """
        if not self._serialise:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._serialised(), self._sqlite_session() as session:
            yield session

    @asynccontextmanager
    async def update_session(self) -> AsyncIterator[UpdateTx]:
        """The transaction of one inbound update, as an `UpdateTx` (the dispatcher's).

        On SQLite run on the loop (`models.db.sqlite_inloop`), those transactions run on one
        connection kept for them: BEGIN IMMEDIATE and COMMIT go straight to SQLite, and so do
        the fixed statements every update runs (`UpdateTx.write_one`). The session joins that
        transaction when a step first uses it, and then commits it. An update that only moves a
        conversation on never starts SQLAlchemy's connection and transaction machinery, which
        costs several times its SQL. On PostgreSQL, the same on a few kept connections, whose
        transaction begins only when something needs it: an update that only moves a
        conversation on is one statement (`models.db.pg_updates`, `models.db.update_tx`). On
        an in-memory SQLite database, a transaction like
        `session()`'s.
        """
        if self._pg_updates is not None:
            async with self._pg_updates.transaction() as tx:
                yield tx
            return
        async with self._serialised():
            sqlite = await self._kept_sqlite()
            if sqlite is None or self._kept is None:
                async with self._sqlite_session(self._update_sessions) as session:
                    yield UpdateTx(session)
                return
            if self._reads is None:
                self._reads = UnchangedReads()
            session = self._update_sessions(bind=self._kept)

            async def commit() -> None:
                sqlite.execute("COMMIT")

            async def discard(_error: BaseException) -> None:
                # Nothing half-saved, and the next update starts on a fresh connection.
                if sqlite.in_transaction:
                    sqlite.execute("ROLLBACK")
                await self._drop_kept(session)

            sqlite.execute("BEGIN IMMEDIATE")
            tx = UpdateTx(session, sqlite=sqlite, unchanged=self._reads)
            async with driver_transaction(tx, commit=commit, discard=discard):
                yield tx

    @asynccontextmanager
    async def _sqlite_session(
        self, sessions: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncSession]:
        session = (sessions or self._sessions)()
        try:
            # The transaction begins with the first statement (SQLAlchemy's autobegin):
            # no round trip through its greenlet just to open it.
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
        finally:
            # Closed here rather than by `async with session`, which closes in a task of its
            # own (shielded from cancellation) and so gives the loop away while the write
            # lock is held; nothing in a close on the loop's own SQLite connection waits.
            await session.close()

    async def _kept_sqlite(self) -> sqlite3.Connection | None:
        """The kept connection's `sqlite3` connection, opening it if needed (None where SQLite
        does not run on the loop, e.g. an in-memory database)."""
        if self._in_loop is False:
            return None
        if self._kept is None or self._kept.closed:
            self._kept, self._reads = await self.engine.connect(), None
        sync = self._kept.sync_connection
        sqlite = in_loop_sqlite(sync.connection.driver_connection) if sync is not None else None
        if sqlite is None:
            self._in_loop = False
            await self._drop_kept(None)
        return sqlite

    async def _drop_kept(self, session: AsyncSession | None) -> None:
        kept, self._kept, self._reads = self._kept, None, None
        if session is not None:
            await session.close()
        if kept is not None:
            await kept.close()

    @asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        """This process's SQLite transactions, one at a time (see `session`)."""
        lock, holder = self._write_lock()
        task = asyncio.current_task()
        if holder.get("task") is task:
            # It would wait for the write lock its own outer transaction holds.
            raise RuntimeError("a transaction inside another on SQLite: use the outer session")
        async with lock:
            holder["task"] = task
            try:
                yield
            finally:
                holder.pop("task", None)

    def _write_lock(self) -> tuple[asyncio.Lock, dict[str, object]]:
        """The lock for the running event loop (a CLI may run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock_loop, self._lock, self._holder = loop, asyncio.Lock(), {}
        assert self._lock is not None
        return self._lock, self._holder

    async def dispose(self) -> None:
        await self._drop_kept(None)
        if self._pg_updates is not None:
            await self._pg_updates.close()
        await self.engine.dispose()
