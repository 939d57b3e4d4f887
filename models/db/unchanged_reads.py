"""Reads kept across updates while no other connection has written to the SQLite database.

The student picker reads the same roster rows at nearly every step of a conversation (the
teacher's classes, a class's page, the chosen student). The roster is written by a roster import
or a WeCom sync — other processes, other connections — never by an update's own transaction. On
the update connection (`models.db.engine.Database.update_session`) SQLite tells us exactly when
any other connection has committed: `PRAGMA data_version` changes. So those reads are kept until
it does, and are never out of date: the check runs inside the update's transaction, which holds
the write lock, so nothing can commit between the check and the use.

That holds only while updates never write the tables read. Each kind of kept read is declared as
a `KeptReads` naming its tables, and the update session refuses any write to a declared table
(`KeptTableWritten`), on every database. Elsewhere than SQLite on the loop (PostgreSQL, an
in-memory database) nothing is kept: every read goes to the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Delete, Insert, Update, event
from sqlalchemy.orm import ORMExecuteState, UOWTransaction
from sqlmodel.orm.session import Session

T = TypeVar("T")

#: Values kept at most; beyond, they are dropped and read again.
LIMIT = 20_000

#: Every table some `KeptReads` reads: updates must not write them.
_KEPT_TABLES: set[str] = set()


@dataclass(frozen=True)
class KeptReads:
    """A kind of read kept across updates, and the tables it reads (declared once, where the
    reads are made)."""

    name: str
    tables: frozenset[str]

    @classmethod
    def of(cls, name: str, tables: Iterable[str]) -> KeptReads:
        declared = cls(name, frozenset(tables))
        _KEPT_TABLES.update(declared.tables)
        return declared


class KeptTableWritten(RuntimeError):
    """An update wrote a table whose reads are kept across updates (a programming error: the
    kept values would go stale unseen)."""

    def __init__(self, table: str) -> None:
        super().__init__(
            f"an update wrote {table!r}, whose reads are kept across updates "
            "(models.db.unchanged_reads); write it outside updates, or stop keeping its reads"
        )
        self.table = table


class UpdateSession(Session):
    """The sync session behind every update's `AsyncSession`: it refuses writes to kept tables
    (both flushed objects and INSERT / UPDATE / DELETE statements)."""


@event.listens_for(UpdateSession, "before_flush")
def _refuse_flushed(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table in _KEPT_TABLES and (
            instance not in session.dirty or session.is_modified(instance)
        ):
            raise KeptTableWritten(str(table))


@event.listens_for(UpdateSession, "do_orm_execute")
def _refuse_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Insert | Update | Delete):
        table = getattr(statement.table, "name", None)
        if table in _KEPT_TABLES:
            raise KeptTableWritten(str(table))


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
