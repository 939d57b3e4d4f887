"""Fixed SQL statements of the per-update hot path, run as the driver's own SQL on SQLite.

SQLAlchemy spends about 0.16 ms on every Core statement it executes (the cache lookup, the
execution context, bound-value and result processing), several times what SQLite needs for a
one-row insert or update on a local file. The few statements every update runs (the dedupe
insert, the conversation update) are fixed, so on SQLite they are written once as SQL and run
on the session's own connection, in its transaction: straight on the `sqlite3` connection in
the dispatcher's transactions (`models.db.update_tx.UpdateTx.write_one`, where SQLite runs on the
event loop; SQLAlchemy's statement logging does not see them), else with `exec_driver_sql` (about
0.06 ms).

Their values are converted exactly as SQLAlchemy would store them, by the columns' own types
(`TypeEngine.bind_processor`), so rows written either way read back the same. On PostgreSQL the
update transactions run them as asyncpg prepared statements (`run_on_asyncpg`), and where nothing
else ran in the update, several of them as one (`DriverBatch`); other sessions there run the Core
statement the caller also provides.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Executable
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from asyncpg import Connection as AsyncpgConnection

Processor = Callable[[Any], Any] | None


@dataclass
class DriverStatement:
    """`sql`, with one `?` per entry of `parameters`; `core`, the same statement for other
    databases. Each parameter is the name of `core`'s bind parameter and the column whose type
    converts its value."""

    sql: str
    parameters: Sequence[tuple[str, Column[Any]]]
    core: Executable
    _processors: dict[str, list[Processor]] = field(default_factory=dict, repr=False)

    async def run(self, session: AsyncSession, values: Mapping[str, Any]) -> int:
        """Run with `values`, keyed by `core`'s bind parameter names, in the session's
        transaction; the rows it changed."""
        connection = await session.connection()
        dialect = connection.dialect
        if dialect.name != "sqlite":
            return (await connection.execute(self.core, dict(values))).rowcount
        converted = self._converted(dialect, values)
        return (await connection.exec_driver_sql(self.sql, converted)).rowcount

    def run_on_sqlite(
        self, sqlite: sqlite3.Connection, session: AsyncSession, values: Mapping[str, Any]
    ) -> int:
        """The same, straight on the `sqlite3` connection whose transaction `session` is in
        (`models.db.update_tx.UpdateTx.write_one`)."""
        dialect = session.get_bind().dialect
        return sqlite.execute(self.sql, self._converted(dialect, values)).rowcount

    async def run_on_asyncpg(
        self, connection: AsyncpgConnection, session: AsyncSession, values: Mapping[str, Any]
    ) -> int:
        """The same as a prepared statement on the asyncpg connection whose transaction
        `session` is in (asyncpg keeps it prepared per connection)."""
        converted = self._converted(session.get_bind().dialect, values)
        status: str = await connection.execute(self.numbered_sql, *converted)
        return int(status.rsplit(" ", 1)[-1])

    @functools.cached_property
    def numbered_sql(self) -> str:
        """`sql` with PostgreSQL's numbered placeholders ($1, $2, …) for its `?`s."""
        pieces = self.sql.split("?")
        return pieces[0] + "".join(f"${n}{piece}" for n, piece in enumerate(pieces[1:], 1))

    def _converted(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            values[name] if process is None else process(values[name])
            for (name, _), process in zip(
                self.parameters, self._processors_for(dialect), strict=True
            )
        )

    def _processors_for(self, dialect: Dialect) -> list[Processor]:
        found = self._processors.get(dialect.name)
        if found is None:
            found = [
                column.type.dialect_impl(dialect).bind_processor(dialect)
                for _, column in self.parameters
            ]
            self._processors[dialect.name] = found
        return found


@dataclass(eq=False)
class DriverBatch:
    """Fixed writes sent as one statement on PostgreSQL: `sql` calls a function (created by a
    migration) with every statement's parameters in order, as $1, $2, …, and returns 0 when each
    changed one row, else the 1-based index of the one that changed none, having saved
    nothing. A unique violation raised by the function means the write at `conflict_index` met
    a concurrent one; `no_data_found` raised by it (to undo the writes before it), that the
    write at `refused_index` changed no row (nothing was saved either way).

    Which batch covers a run of held writes is looked up by the statements themselves
    (`covering`): a batch is declared once, beside its statements, and nothing else names it.
    """

    sql: str
    statements: tuple[DriverStatement, ...]
    conflict_index: int
    refused_index: int | None = None

    def __post_init__(self) -> None:
        if not self.sql.startswith(_SELECT):
            raise ValueError(f"a batch is one function call, SELECT f(…): {self.sql!r}")
        _BATCHES[tuple(id(statement) for statement in self.statements)] = self

    @staticmethod
    def covering(statements: tuple[DriverStatement, ...]) -> DriverBatch | None:
        return _BATCHES.get(tuple(id(statement) for statement in statements))

    async def run_on_asyncpg(
        self,
        connection: AsyncpgConnection,
        dialect: Dialect,
        values: Sequence[Mapping[str, Any]],
        *,
        when: tuple[str, Any] | None = None,
    ) -> int | NotRun | None:
        """Run in a transaction of its own; the 0-based index of the write refused, or None.
        With `when` (a query of one value, and the value expected), only if the query returns
        that value, in the same statement: else nothing runs and `NotRun` says what it
        returned."""
        from asyncpg.exceptions import NoDataFoundError, UniqueViolationError

        arguments = [
            argument
            for statement, each in zip(self.statements, values, strict=True)
            for argument in statement._converted(dialect, each)
        ]
        try:
            if when is None:
                refused: int = await connection.fetchval(self.sql, *arguments)
            else:
                query, expected = when
                call = self.sql.removeprefix(_SELECT)
                row = await connection.fetchrow(
                    f"SELECT CASE WHEN found = ${len(arguments) + 1} THEN {call} END, found"
                    f" FROM ({query}) AS guard (found)",
                    *arguments,
                    expected,
                )
                if row is None or row[0] is None:
                    return NotRun(None if row is None else row[1])
                refused = row[0]
        except UniqueViolationError:
            return self.conflict_index
        except NoDataFoundError:
            if self.refused_index is None:
                raise
            return self.refused_index
        return None if refused == 0 else refused - 1


@dataclass(frozen=True)
class NotRun:
    """A batch's `when` did not hold: nothing ran; `found` is what its query returned."""

    found: Any


_SELECT = "SELECT "

#: Declared batches, by the identity of the statements each covers, in order.
_BATCHES: dict[tuple[int, ...], DriverBatch] = {}
