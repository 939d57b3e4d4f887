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
