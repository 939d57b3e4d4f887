"""An aiosqlite-shaped connection that runs SQLite on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close, commit …) to a thread of its own and
back: with SQLAlchemy's async session that is some twenty-five thread hand-offs for one update's
transaction, each waiting for a busy event loop to pick it up again, while the transaction holds
SQLite's write lock. The statements themselves take microseconds on a local WAL database with
`synchronous=NORMAL` (no fsync at commit), so running them where they are awaited is faster and
holds the lock for less time.

What that costs, and how `models.db.engine` deals with it:
- a statement that has to wait for another *process*'s write lock (a roster import running beside
  the bot) blocks the loop for up to `busy_timeout`; the bot's own transactions never wait on
  each other, because `models.db.engine.Database` queues them on an asyncio lock first;
- nothing else changes: same sqlite3 module, same SQL, same exceptions (aiosqlite re-exports
  sqlite3's), and SQLAlchemy's aiosqlite dialect drives it through its `async_creator` hook.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue: runs the function at once (used by SQLAlchemy
    to set `isolation_level`)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed back to the awaiting caller
            future.set_exception(exc)


class InLoopCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InLoopCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InLoopCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InLoopCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InLoopConnection:
    """The parts of `aiosqlite.Connection` SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._conn = connection
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The standard library connection underneath (its calls run where they are made)."""
        return self._conn

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InLoopCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def in_loop_sqlite(driver_connection: object) -> sqlite3.Connection | None:
    """The `sqlite3` connection under an in-loop driver connection (None for any other)."""
    return driver_connection.sqlite if isinstance(driver_connection, InLoopConnection) else None


def in_loop_creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` with in-loop execution."""

    async def create() -> InLoopConnection:
        # Used from the loop that created it; the pool may close it from another thread.
        return InLoopConnection(sqlite3.connect(path, check_same_thread=False))

    return create
