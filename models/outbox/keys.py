"""Finding a school's outbox rows by their key: receipts, resends, withdrawals, "already queued".

A key is unique only within its school (`OutboxMessage` is unique on school and key): two
schools' bots may queue `notice:1:guardian:5:telegram` or `ledger-reminder:2026-12-07:…` alike.
So every lookup by key or key prefix names the school too, through these conditions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Mapped
from sqlmodel import col

from models.outbox.tables import OutboxMessage


def keyed(school_id: int | Mapped[int], key: str | Mapped[str]) -> ColumnElement[bool]:
    """The school's row with `key`; either may be a column (to join on a stored key)."""
    return and_(col(OutboxMessage.school_id) == school_id, col(OutboxMessage.key) == key)


def keyed_under(school_id: int, prefix: str) -> ColumnElement[bool]:
    """The school's rows whose key starts with `prefix`, taken as it is (`%` and `_` too)."""
    return and_(
        col(OutboxMessage.school_id) == school_id,
        col(OutboxMessage.key).startswith(prefix, autoescape=True),
    )
