"""Reads kept across updates while nothing has written the tables they read.

The student picker reads the same roster rows at nearly every step of a conversation (the
teacher's classes, a class's page, the chosen student). The roster is written by a roster import
or a WeCom sync — other processes, other connections — never by an update's own transaction. So
those reads are kept while a change counter stays the same, read once per update inside the
update's transaction:
- **SQLite**: `PRAGMA data_version` on the update connection, which changes when any other
  connection commits. The update's transaction holds the write lock, so nothing can commit
  between the check and the use.
- **PostgreSQL**: the row of `kept_reads_version`, which statement-level triggers on every kept
  table bump (migration 0007). A roster change committed after the check is seen by the next
  update, as if this one had run a moment earlier.

That holds only while updates never write the tables read. Each kind of kept read is declared as
a `KeptReads` naming its tables, and the update session refuses any write to a declared table
(`KeptTableWritten`), on every database. Elsewhere (an in-memory database) nothing is kept: every
read goes to the database.
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
    (both flushed objects and INSERT / UPDATE / DELETE statements), except inside
    `UpdateTx.writing_kept_tables`."""

    #: Set only by `UpdateTx.writing_kept_tables`.
    kept_writes_allowed: bool = False


@event.listens_for(UpdateSession, "before_flush")
def _refuse_flushed(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if getattr(session, "kept_writes_allowed", False):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table in _KEPT_TABLES and (
            instance not in session.dirty or session.is_modified(instance)
        ):
            raise KeptTableWritten(str(table))


@event.listens_for(UpdateSession, "do_orm_execute")
def _refuse_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if getattr(state.session, "kept_writes_allowed", False):
        return
    if isinstance(statement, Insert | Update | Delete):
        table = getattr(statement.table, "name", None)
        if table in _KEPT_TABLES:
            raise KeptTableWritten(str(table))


#: PostgreSQL's change counter of the kept tables (migration 0007 creates it and its triggers).
KEPT_VERSION_TABLE = "kept_reads_version"
KEPT_VERSION_SQL = f"SELECT version FROM {KEPT_VERSION_TABLE}"


def kept_tables() -> frozenset[str]:
    """Every table some `KeptReads` reads (on PostgreSQL each needs the counter's trigger)."""
    return frozenset(_KEPT_TABLES)


def data_version(sqlite: sqlite3.Connection) -> int:
    """SQLite's counter of commits by other connections, as seen on `sqlite`."""
    version: int = sqlite.execute("PRAGMA data_version").fetchone()[0]
    return version


class UnchangedReads:
    """Values kept while the change counter (`version`) stays the same."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._values: dict[Hashable, Any] = {}

    @property
    def version(self) -> int | None:
        """The counter the values kept were read under (None: nothing is kept)."""
        return self._version

    def moved(self, version: int) -> None:
        """The counter was read as `version`: what was kept under an older one is dropped."""
        if self._version is None or version > self._version:
            self._values.clear()
            self._version = version

    def forget(self) -> None:
        """Drop every kept value (this process wrote a kept table itself, which SQLite's
        counter does not show to the writer)."""
        self._values.clear()
        self._version = None

    async def read(self, version: int, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s value for `key`, kept while the counter is `version`."""
        if self._version is not None and version < self._version:
            return await read()  # an update that checked before the latest change: not kept
        if version != self._version or len(self._values) >= LIMIT:
            self._values.clear()
            self._version = version
        if key in self._values:
            found: T = self._values[key]
            return found
        value = await read()
        # Another update may have seen a newer counter meanwhile (PostgreSQL: updates run
        # side by side): then this value, read under the older one, is not kept.
        if self._version == version:
            self._values[key] = value
        return value
