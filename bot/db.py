"""The database engine: SQLite (WAL, busy timeout, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfigError
from bot.sqlite_inloop import in_loop_creator, in_loop_sqlite


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver we use (aiosqlite or asyncpg)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"DATABASE_URL 无法解析：{url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"不支持的数据库：{backend}（请使用 sqlite 或 postgresql）")


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
        if sqlite is not None:
            sqlite.execute("BEGIN IMMEDIATE")  # every transaction: straight to SQLite
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    target = async_url(url)
    if target.startswith("sqlite"):
        path = make_url(target).database
        if path and path != ":memory:":
            # Statements run where they are awaited (see bot.sqlite_inloop); a local file
            # cannot go stale, so no ping on checkout either.
            engine = create_async_engine(target, echo=echo, async_creator=in_loop_creator(path))
        else:
            engine = create_async_engine(target, echo=echo)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(target, echo=echo, pool_pre_ping=True)


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
        lock, holder = self._write_lock()
        task = asyncio.current_task()
        if holder.get("task") is task:
            # It would wait for the write lock its own outer transaction holds.
            raise RuntimeError("a transaction inside another on SQLite: use the outer session")
        async with lock:
            holder["task"] = task
            session = self._sessions()
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
                holder.pop("task", None)

    def _write_lock(self) -> tuple[asyncio.Lock, dict[str, object]]:
        """The lock for the running event loop (a CLI may run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock_loop, self._lock, self._holder = loop, asyncio.Lock(), {}
        assert self._lock is not None
        return self._lock, self._holder

    async def dispose(self) -> None:
        await self.engine.dispose()
