"""Writing to the problem ledger, always in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerSource,
    LedgerStatus,
)
from models.roster.tables import Student

DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class NewItem:
    """A problem to put in the ledger (see `record_items`)."""

    school_id: int
    source: LedgerSource
    #: The visit's, incident's or duty's id; None for an item entered by hand.
    source_id: int | None
    student_id: int | None
    description: str
    #: The member of staff who recorded it; None when recorded automatically.
    recorded_by: int | None = None
    #: The class it belongs to; None: the student's class (or none, for a school-wide item).
    class_id: int | None = None


def _class_of(item: NewItem) -> Any:
    if item.class_id is not None or item.student_id is None:
        return item.class_id
    return select(col(Student.class_id)).where(col(Student.id) == item.student_id).scalar_subquery()


async def record_items(
    session: AsyncSession, items: Sequence[NewItem], *, now: datetime
) -> list[int]:
    """Put problems in the ledger, each with its `created` event; once per cause.

    A cause (`source`, `source_id`) that already has an item is skipped, so a redelivered update
    or a job run twice adds nothing. Items entered by hand (`source_id` None) have no cause to
    share and are always added. Two statements and no read, however many items; returns the ids
    of the items added.
    """
    if not items:
        return []
    table = LedgerItem.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        upsert(table)
        .values(
            [
                {
                    "school_id": item.school_id,
                    "student_id": item.student_id,
                    "source": item.source.value,
                    "source_id": item.source_id,
                    "description": item.description[:DESCRIPTION_MAX],
                    "recorded_by": item.recorded_by,
                    "created_at": now,
                    "status": LedgerStatus.OPEN.value,
                    "class_id": _class_of(item),
                    "escalated_to": "",
                }
                for item in items
            ]
        )
        .on_conflict_do_nothing(index_elements=["source", "source_id"])
        .returning(table.c.id, table.c.recorded_by)
    )
    added = list((await session.exec(statement)).all())
    if added:
        await session.exec(
            insert(LedgerEvent.__table__).values(  # type: ignore[attr-defined]
                [
                    {
                        "item_id": item_id,
                        "at": now,
                        "staff_id": recorded_by,
                        "kind": LedgerEventKind.CREATED.value,
                        "note": "",
                    }
                    for item_id, recorded_by in added
                ]
            )
        )
    return [item_id for item_id, _ in added]


async def record_item(
    session: AsyncSession,
    *,
    school_id: int,
    source: LedgerSource,
    source_id: int | None,
    student_id: int | None,
    description: str,
    recorded_by: int | None,
    now: datetime,
    class_id: int | None = None,
) -> LedgerItem:
    """Put one problem in the ledger with its `created` event (`record_items`), or, when its
    cause already has an item, return that item and write nothing."""
    item = NewItem(school_id, source, source_id, student_id, description, recorded_by, class_id)
    added = await record_items(session, [item], now=now)
    if added:
        found = await session.get(LedgerItem, added[0])
    else:
        query = select(LedgerItem).where(
            LedgerItem.source == source, LedgerItem.source_id == source_id
        )
        found = (await session.exec(query)).first()
    if found is None:
        raise LookupError("ledger item neither added nor found")
    return found


async def item_of(session: AsyncSession, source: LedgerSource, source_id: int) -> int | None:
    """The id of the item a cause put in the ledger, if any."""
    query = select(col(LedgerItem.id)).where(
        LedgerItem.source == source, LedgerItem.source_id == source_id
    )
    return (await session.exec(query)).first()
