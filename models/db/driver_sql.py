"""Fixed SQL statements of the per-update hot path, run as the driver's own SQL on SQLite.

SQLAlchemy spends about 0.16 ms on every Core statement it executes (the cache lookup, the
execution context, bound-value and result processing), several times what SQLite needs for a
one-row insert or update on a local file. The few statements every update runs (the dedupe
insert, the conversation update) are fixed, so on SQLite they are written once as SQL and run
on the session's own connection, in its transaction: straight on the `sqlite3` connection in
the dispatcher's transactions (`models.db.update_tx.UpdateTx.run`, where SQLite runs on the event
loop; SQLAlchemy's statement logging does not see them), else with `exec_driver_sql` (about
0.06 ms).

Their values are converted exactly as SQLAlchemy would store them, by the columns' own types
(`TypeEngine.bind_processor`), so rows written either way read back the same. Other databases
run the Core statement the caller also provides.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Executable
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

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
        (`models.db.update_tx.UpdateTx.run`)."""
        dialect = session.get_bind().dialect
        return sqlite.execute(self.sql, self._converted(dialect, values)).rowcount

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
            found = [column.type.bind_processor(dialect) for _, column in self.parameters]
            self._processors[dialect.name] = found
        return found
