"""One inbound update's transaction, as everything above the database sees it.

`Database.update_session()` yields an `UpdateTx`: the ORM `session` for ordinary reads and
writes, `write_one` for the few fixed statements every update runs (`models.db.driver_sql`), and
`cached` for reads worth keeping. Where SQLite runs on the event loop, and on PostgreSQL, the
transaction lives on a connection kept for updates and the fixed statements use the driver's
connection directly (`models.db.engine`, `models.db.pg_updates`); that handle never leaves
`models.db`. Elsewhere (an in-memory SQLite database) the same calls go through the session.

**One round trip per step on PostgreSQL.** There a transaction begins only when something needs
it: the session's first statement, or a fixed statement that cannot wait. Until then the fixed
writes are held, in order. If nothing else ran, they are sent at the end as one statement, in a
transaction of their own: the update's dedupe insert and its conversation move become one call
(`DriverBatch`), one round trip instead of BEGIN, two statements and COMMIT. If the session
begins first, the held writes run right after its BEGIN, before its own first statement, so
the order of writes is always the order of the calls. A held write that changes no row raises
its `failure` then (at the end, or when the session begins): nothing of the update is saved,
as when it runs at once.

**The kept reads' counter costs no round trip of its own on PostgreSQL.** An update whose
transaction has not begun takes the counter it last saw as still current and checks it at the
end, in the statement that ends the update: the one-statement step sends its writes only while
the counter is that (`DriverBatch` with `when`), and a step that begins a transaction reads the
counter before its BEGIN. When the counter had moved, nothing is saved, the values kept are
dropped and the update is refused as `KeptReadsMoved`, for the caller to handle again (reading
the counter then), as if it had come a moment later.

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
  The one exception is named: `writing_kept_tables()`, for a decision that changes the roster
  (德育处 approving a tag); what this process keeps is then dropped once the update commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.driver_sql import DriverBatch, DriverStatement, NotRun
from models.db.unchanged_reads import (
    KEPT_VERSION_SQL,
    KeptReads,
    UnchangedReads,
    data_version,
)

if TYPE_CHECKING:
    from asyncpg import Connection as AsyncpgConnection

T = TypeVar("T")


class WriteRefused(Exception):
    """A fixed write changed no row: nothing of the update is saved (a subclass says why)."""


class AlreadyHandled(WriteRefused):
    """The update was handled before (a redelivery): it must change nothing and say nothing."""


class KeptReadsMoved(WriteRefused):
    """The kept reads' counter moved while the update used what was kept (PostgreSQL: another
    connection wrote a kept table): nothing is saved, and the update is to be handled again."""


@dataclass(frozen=True)
class _Held:
    statement: DriverStatement
    values: Mapping[str, Any]
    failure: type[WriteRefused]


class UpdateTx:
    """The session of one update's transaction, its fixed statements and its caches."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        sqlite: sqlite3.Connection | None = None,
        asyncpg: AsyncpgConnection | None = None,
        begin: Callable[[], Awaitable[None]] | None = None,
        unchanged: UnchangedReads | None = None,
    ) -> None:
        self.session = session
        self._sqlite = sqlite
        self._asyncpg = asyncpg
        #: Begins the transaction on the driver; None: it has begun (or the session runs it).
        self._begin = begin
        self._unchanged = unchanged
        self._once: dict[Hashable, Any] = {}
        self._kept_version: int | None = None
        #: `_kept_version` is the counter last seen, not read in this update: checked at the end.
        self._kept_assumed = False
        #: Fixed writes held until the transaction begins or ends (PostgreSQL).
        self._held: list[_Held] = []
        #: A held write's refusal, raised again at the end if a step caught it.
        self._refused: WriteRefused | None = None
        #: This update wrote a kept table (`writing_kept_tables`).
        self._kept_written = False

    @property
    def direct(self) -> bool:
        """Whether fixed statements go straight to the driver's connection."""
        return self._sqlite is not None or self._asyncpg is not None

    async def write_one(
        self,
        statement: DriverStatement,
        values: Mapping[str, Any],
        failure: type[WriteRefused],
    ) -> None:
        """Run a fixed write that must change exactly one row, else `failure` is raised and
        nothing of the update is saved: now, or, before PostgreSQL's transaction has begun,
        when it begins or ends (see the module's docstring)."""
        if self._begin is not None:
            self._held.append(_Held(statement, values, failure))
            return
        if await self._run(statement, values) != 1:
            raise failure()

    async def begin(self) -> None:
        """Begin the transaction on the driver, if it has not begun, and run the held writes
        (PostgreSQL: when the session first needs the connection, or a write cannot wait)."""
        if self._begin is None:
            return
        await self._check_kept_version()
        begin, self._begin = self._begin, None
        assert begin is not None
        await begin()
        held, self._held = self._held, []
        for write in held:
            if await self._run(write.statement, write.values) != 1:
                self._refused = write.failure()
                raise self._refused

    async def finish(self) -> None:
        """Before the commit: send what is held (as one statement where a `DriverBatch` covers
        it, in a transaction of its own), and raise a refusal a step may have swallowed."""
        if self._refused is not None:
            raise self._refused
        if self._held and (self.session.new or self.session.dirty or self.session.deleted):
            # Objects still to flush: their statements begin the transaction, the held writes
            # run in it, and the session's commit ends it.
            await self.session.flush()
        held = self._held
        if not held:
            await self._check_kept_version()
            return
        if self._asyncpg is None:
            raise RuntimeError("writes are held only on PostgreSQL's update connections")
        batch = DriverBatch.covering(tuple(write.statement for write in held))
        if batch is None and len(held) > 1:
            await self.begin()
            return
        if batch is None:
            await self._check_kept_version()
        # One statement, in a transaction of its own: the transaction never begins.
        self._held, self._begin = [], None
        if batch is None:
            (write,) = held
            if await write.statement.run_on_asyncpg(self._asyncpg, self.session, write.values) != 1:
                raise write.failure()
            return
        dialect = self.session.get_bind().dialect
        assumed, self._kept_assumed = self._kept_assumed, False
        refused = await batch.run_on_asyncpg(
            self._asyncpg,
            dialect,
            [write.values for write in held],
            when=(KEPT_VERSION_SQL, self._kept_version) if assumed else None,
        )
        if isinstance(refused, NotRun):
            raise self._kept_moved(refused.found)
        if refused is not None:
            raise held[refused].failure()

    async def _run(self, statement: DriverStatement, values: Mapping[str, Any]) -> int:
        """Run one of the fixed statements in this transaction; the rows it changed."""
        if self._sqlite is not None:
            return statement.run_on_sqlite(self._sqlite, self.session, values)
        if self._asyncpg is not None:
            await self.begin()
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

    @asynccontextmanager
    async def writing_kept_tables(self) -> AsyncIterator[None]:
        """Let this update write the tables whose reads are kept (the roster), inside the
        block only; the kept values are dropped after the commit (`committed`)."""
        sync = self.session.sync_session
        sync.kept_writes_allowed = True  # type: ignore[attr-defined]
        self._kept_written = True
        try:
            yield
            await self.session.flush()  # the writes go now, while they are allowed
        finally:
            sync.kept_writes_allowed = False  # type: ignore[attr-defined]

    def committed(self) -> None:
        """The transaction has committed: forget kept values it may have made stale."""
        if self._kept_written and self._unchanged is not None:
            self._unchanged.forget()

    async def _version_of_kept(self) -> int:
        """The kept tables' change counter, once in this update. On PostgreSQL before the
        transaction has begun, the counter last seen, checked at the end
        (`_check_kept_version`, or the one-statement step's `when`); else read, before the
        transaction has begun a statement of its own (a counter read a moment earlier keeps
        nothing that a later write could make stale, since values read under it are dated by
        it)."""
        if self._kept_version is None:
            if self._sqlite is not None:
                self._kept_version = data_version(self._sqlite)
            elif self._asyncpg is not None:
                last = self._unchanged.version if self._unchanged is not None else None
                if last is not None and self._begin is not None:
                    self._kept_version, self._kept_assumed = last, True
                else:
                    self._kept_version = int(await self._asyncpg.fetchval(KEPT_VERSION_SQL))
            else:
                raise RuntimeError("kept reads need the update connection's driver")
        return self._kept_version

    async def _check_kept_version(self) -> None:
        """Read the counter this update took as current (`_version_of_kept`): `KeptReadsMoved`
        when it has moved."""
        if not self._kept_assumed or self._asyncpg is None:
            return
        self._kept_assumed = False
        found = int(await self._asyncpg.fetchval(KEPT_VERSION_SQL))
        if found != self._kept_version:
            raise self._kept_moved(found)

    def _kept_moved(self, found: int | None) -> KeptReadsMoved:
        """The refusal of an update that used kept values under a counter that had moved (to
        `found`); what was kept is dropped, so that the update handled again reads afresh."""
        if self._unchanged is not None:
            if found is None:
                self._unchanged.forget()
            else:
                self._unchanged.moved(found)
        self._refused = KeptReadsMoved()
        return self._refused


@asynccontextmanager
async def driver_transaction(
    tx: UpdateTx,
    *,
    commit: Callable[[], Awaitable[None]],
    discard: Callable[[BaseException], Awaitable[None]],
) -> AsyncIterator[UpdateTx]:
    """Yield `tx`, whose transaction runs on a kept connection (begun by the driver, or on
    PostgreSQL when first needed). At the end the held writes are sent (`UpdateTx.finish`), then
    the session commits if a step joined, else `commit` does; after any error the session
    rolls back, `discard(error)` rolls back what is left and decides whether the connection may
    be kept (a `WriteRefused` is the database's own answer, not a broken connection), and the
    error is raised: all or nothing (SQLite on the loop, and PostgreSQL's update connections)."""
    session = tx.session
    try:
        try:
            yield tx
            await tx.finish()
        except BaseException:
            if session.in_transaction():
                await session.rollback()
            raise
        if session.in_transaction():
            await session.commit()  # the session joined: its commit ends it all
        else:
            await commit()
    except BaseException as error:
        await discard(error)
        raise
    tx.committed()
    if session.identity_map:
        session.expunge_all()  # the transaction is over: nothing else to release
