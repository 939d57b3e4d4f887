"""One inbound update's transaction, as everything above the database sees it.

`Database.update_session()` yields an `UpdateTx`: the ORM `session` for ordinary reads and
writes, `run` for the few fixed statements every update runs (`models.db.driver_sql`), and
`cached` for reads worth keeping. Where SQLite runs on the event loop, and on PostgreSQL, the
transaction lives on a connection kept for updates and `run` uses the driver's connection
directly (`models.db.engine`, `models.db.pg_updates`); that handle never leaves `models.db`.
Elsewhere (an in-memory SQLite database) the same calls go through the session.

The caches, and what makes each one stale, in one place:
- **Once per update** (`cached(key, loader)`): a value read once serves the rest of the update
  (on SQLite nothing else can write while the update's transaction holds the write lock; on
  PostgreSQL the update sees it as of that read, as if it had run a moment earlier). Only cache
  what the update does not change itself.
- **Kept across updates** (`cached(key, loader, kept=ROSTER_READS)`): reads of the tables a
  `KeptReads` names, kept until anything else writes them (SQLite's `PRAGMA data_version`,
  PostgreSQL's trigger-bumped counter: `models.db.unchanged_reads`). Updates themselves must never write those
  tables, or a kept value would outlive the write unseen: the update session refuses such a
  write with `KeptTableWritten` (on every database, so the rule holds wherever the code runs).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.driver_sql import DriverStatement
from models.db.unchanged_reads import (
    KEPT_VERSION_SQL,
    KeptReads,
    UnchangedReads,
    data_version,
)

if TYPE_CHECKING:
    from asyncpg import Connection as AsyncpgConnection

T = TypeVar("T")


class UpdateTx:
    """The session of one update's transaction, its fixed statements and its caches."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        sqlite: sqlite3.Connection | None = None,
        asyncpg: AsyncpgConnection | None = None,
        unchanged: UnchangedReads | None = None,
    ) -> None:
        self.session = session
        self._sqlite = sqlite
        self._asyncpg = asyncpg
        self._unchanged = unchanged
        self._once: dict[Hashable, Any] = {}
        self._kept_version: int | None = None

    @property
    def direct(self) -> bool:
        """Whether fixed statements go straight to the driver's connection."""
        return self._sqlite is not None or self._asyncpg is not None

    async def run(self, statement: DriverStatement, values: Mapping[str, Any]) -> int:
        """Run one of the fixed hot-path statements in this transaction; the rows it changed."""
        if self._sqlite is not None:
            return statement.run_on_sqlite(self._sqlite, self.session, values)
        if self._asyncpg is not None:
            return await statement.run_on_asyncpg(self._asyncpg, self.session, values)
        return await statement.run(self.session, values)

    async def cached(
        self,
        key: Hashable,
        loader: Callable[[], Awaitable[T]],
        *,
        kept: KeptReads | None = None,
    ) -> T:
        """`loader()`'s result, read at most once in this update; with `kept`, also kept across
        updates while no other connection has written (where the database can tell)."""
        if key in self._once:
            found: T = self._once[key]
            return found
        if kept is not None and self._unchanged is not None:
            version = await self._version_of_kept()
            value = await self._unchanged.read(version, (kept.name, key), loader)
        else:
            value = await loader()
        self._once[key] = value
        return value

    async def _version_of_kept(self) -> int:
        """The kept tables' change counter, read once in this update's transaction."""
        if self._kept_version is None:
            if self._sqlite is not None:
                self._kept_version = data_version(self._sqlite)
            elif self._asyncpg is not None:
                self._kept_version = int(await self._asyncpg.fetchval(KEPT_VERSION_SQL))
            else:
                raise RuntimeError("kept reads need the update connection's driver")
        return self._kept_version


@asynccontextmanager
async def driver_transaction(
    tx: UpdateTx,
    *,
    commit: Callable[[], Awaitable[None]],
    discard: Callable[[], Awaitable[None]],
) -> AsyncIterator[UpdateTx]:
    """Yield `tx`, whose transaction the driver has begun on a kept connection. At the end the
    session commits it if a step joined it, else `commit` does; after any error the session
    rolls back, `discard` rolls back what is left and gives the connection up, and the error is
    raised: all or nothing (SQLite on the loop, and PostgreSQL's update connections)."""
    session = tx.session
    try:
        try:
            yield tx
        except BaseException:
            if session.in_transaction():
                await session.rollback()
            raise
        if session.in_transaction():
            await session.commit()  # the session joined: its commit ends it all
        else:
            await commit()
    except BaseException:
        await discard()
        raise
    if session.identity_map:
        session.expunge_all()  # the transaction is over: nothing else to release
