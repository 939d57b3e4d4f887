"""Counting the SQL a piece of code runs (a read that must not grow with the data)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from models.db.engine import Database


@contextmanager
def counting_selects(db: Database) -> Iterator[list[str]]:
    """The SELECT statements run on `db` while inside."""
    selects: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield selects
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


#: Transaction control: not a statement of the code counted.
_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@contextmanager
def counting_statements(db: Database) -> Iterator[tuple[list[str], list[int]]]:
    """Every statement run on `db` while inside (transaction control left out), and the
    transactions begun (one entry each)."""
    statements: list[str] = []
    transactions: list[int] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head not in _CONTROL:
            statements.append(statement)

    def begun(_conn: Any) -> None:
        transactions.append(1)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "begin", begun)
    try:
        yield statements, transactions
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "begin", begun)
