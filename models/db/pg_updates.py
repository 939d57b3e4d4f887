"""PostgreSQL's update transactions: a few connections kept for them, each transaction begun and
ended on the driver (asyncpg), the fixed statements run as prepared statements on it.

Through the pool, an update paid for a checkout with its liveness ping (asyncpg's ping is a
transaction of its own: three round trips), SQLAlchemy's transaction machinery and about 0.2 ms
of SQLAlchemy per fixed statement. Here a transaction begins only when something needs it
(`models.db.update_tx`): an update that only moves a conversation on sends its dedupe insert and
its conversation move as one statement, in a transaction of its own, and nothing else. A step
that uses the session begins the transaction with its first statement: the connection's
`begin` event runs BEGIN on the driver and the writes held so far, and SQLAlchemy's asyncpg
adapter, told that the transaction has begun, runs the session in it; its commit ends it.

A connection goes back to the kept ones after a clean commit, and after the database's own
refusal of a fixed write (`WriteRefused`: an update handled before, a conversation moved on by
another process — routine with several workers) once it has rolled back; after any other error
it is closed. One the server closed meanwhile (a restart) is noticed by the driver and replaced
before use.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.unchanged_reads import UnchangedReads
from models.db.update_tx import UpdateTx, WriteRefused, driver_transaction

#: Connections kept for updates at most (python-telegram-bot handles a few updates at once).
KEPT = 4


class _Kept:
    """A connection kept for updates, with SQLAlchemy's adapter around its asyncpg connection."""

    def __init__(self, connection: AsyncConnection, adapter: Any) -> None:
        self.connection = connection
        self.adapter = adapter
        self.driver = adapter.driver_connection
        #: The update whose transaction runs on this connection now.
        self.tx: UpdateTx | None = None
        sync = connection.sync_connection
        assert sync is not None  # an open AsyncConnection has its sync connection
        event.listen(sync, "begin", self._session_begins)

    def _session_begins(self, _connection: Connection) -> None:
        """A session's first statement on this connection is about to run: begin the update's
        transaction first, with the writes it holds (in SQLAlchemy's greenlet, hence
        `run_async`)."""
        tx = self.tx
        if tx is not None:
            self.adapter.run_async(lambda _driver: tx.begin())

    async def begin(self) -> None:
        # The adapter's own BEGIN (asyncpg's `Transaction`), so that a session that joins later
        # runs in it and its commit ends it.
        await self.adapter._start_transaction()

    async def end(self, *, commit: bool) -> None:
        """COMMIT or ROLLBACK the transaction the session did not end itself."""
        transaction, self.adapter._transaction = self.adapter._transaction, None
        if transaction is not None:
            await (transaction.commit() if commit else transaction.rollback())


class PgUpdateConnections:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine
        self._sessions = sessions
        self._free: list[_Kept] = []
        #: Roster reads kept across updates, on every kept connection.
        self._reads = UnchangedReads()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UpdateTx]:
        """One update's transaction on a kept connection; all or nothing."""
        kept = await self._take()
        session = self._sessions(bind=kept.connection)

        async def commit() -> None:
            await kept.end(commit=True)

        async def discard(error: BaseException) -> None:
            if isinstance(error, WriteRefused) and await self._rolled_back(kept, session):
                await self._give_back(kept)
                return
            await self._discard(kept, session)

        tx = UpdateTx(session, asyncpg=kept.driver, begin=kept.begin, unchanged=self._reads)
        kept.tx = tx
        try:
            async with driver_transaction(tx, commit=commit, discard=discard):
                yield tx
        finally:
            kept.tx = None
        await self._give_back(kept)

    async def _give_back(self, kept: _Kept) -> None:
        """Keep the connection for the next update (closed instead when enough are kept)."""
        if len(self._free) < KEPT:
            self._free.append(kept)
        else:
            await kept.connection.close()

    @staticmethod
    async def _rolled_back(kept: _Kept, session: AsyncSession) -> bool:
        """Roll back the refused update's transaction; False when that failed (then the
        connection is not trusted again)."""
        try:
            await kept.end(commit=False)
            await session.close()
        except Exception:
            return False
        return not kept.driver.is_closed() and not kept.driver.is_in_transaction()

    async def _take(self) -> _Kept:
        """A kept connection still open (one the server closed, e.g. on a restart, is
        dropped), or a new one."""
        while self._free:
            kept = self._free.pop()
            if not kept.driver.is_closed():
                return kept
            with contextlib.suppress(Exception):
                await kept.connection.invalidate()
        return await self._open()

    async def _open(self) -> _Kept:
        connection = await self._engine.connect()
        raw = await connection.get_raw_connection()
        return _Kept(connection, raw.dbapi_connection)

    @staticmethod
    async def _discard(kept: _Kept, session: AsyncSession) -> None:
        """After an error: roll back what is left and never use the connection again (the
        error may have been the connection's own)."""
        with contextlib.suppress(Exception):
            await kept.end(commit=False)
        with contextlib.suppress(Exception):
            await session.close()
        with contextlib.suppress(Exception):
            await kept.connection.invalidate()
        with contextlib.suppress(Exception):
            await kept.connection.close()

    async def close(self) -> None:
        free, self._free = self._free, []
        for kept in free:
            await kept.connection.close()
