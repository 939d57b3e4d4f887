"""Reads kept while no other connection has written to the SQLite database.

The student picker reads the same roster rows at nearly every step of a conversation (the
teacher's classes, a class's page, the chosen student). The roster is written by a roster import
or a WeCom sync — other processes, other connections — never by an update's own transaction. On
the dispatcher's kept connection (`models.db.engine.Database.update_session`) SQLite tells us exactly when
any other connection has committed: `PRAGMA data_version` changes. So those reads are kept until
it does, and are never out of date: the check runs inside the update's transaction, which holds
the write lock, so nothing can commit between the check and the use.

Only for data the dispatcher's own transactions never write; elsewhere (PostgreSQL, an
in-memory database) every read goes to the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")

#: `AsyncSession.info` key of the `UnchangedReads` of the session's connection.
UNCHANGED_READS = "models.db.unchanged_reads"
#: Values kept at most; beyond, they are dropped and read again.
LIMIT = 20_000


class UnchangedReads:
    """The reads kept for one `sqlite3` connection."""

    def __init__(self, sqlite: sqlite3.Connection) -> None:
        self._sqlite = sqlite
        self._version: int | None = None
        self._values: dict[Hashable, Any] = {}

    async def read(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        version = self._sqlite.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version or len(self._values) >= LIMIT:
            self._values.clear()
            self._version = version
        if key not in self._values:
            self._values[key] = await read()
        value: T = self._values[key]
        return value


async def read_unchanged(
    session: AsyncSession, key: Hashable, read: Callable[[], Awaitable[T]]
) -> T:
    """`read()`'s result, kept across updates while the database is unchanged by others."""
    reads = session.info.get(UNCHANGED_READS)
    if isinstance(reads, UnchangedReads):
        return await reads.read(key, read)
    return await read()
