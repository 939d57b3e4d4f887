"""Writing to the problem ledger, always in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import insert_ignoring_duplicates
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerSource,
    LedgerStatus,
)

DESCRIPTION_MAX = 2000


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
) -> LedgerItem:
    """Put a problem in the ledger with its `created` event; once per cause.

    When `source`/`source_id` already has an item, nothing is written and that item is returned
    (so a redelivered update or a job run twice adds nothing). Items entered by hand
    (`source_id` None) have no cause to share and are always added.
    """
    values = {
        "school_id": school_id,
        "student_id": student_id,
        "source": source,
        "source_id": source_id,
        "description": description[:DESCRIPTION_MAX],
        "recorded_by": recorded_by,
        "created_at": now,
        "status": LedgerStatus.OPEN,
    }
    if source_id is None:
        item = LedgerItem.model_validate(values)
        session.add(item)
        await session.flush()
    else:
        added = await insert_ignoring_duplicates(
            session,
            LedgerItem.__table__,  # type: ignore[attr-defined]
            {**values, "source": source.value, "status": LedgerStatus.OPEN.value},
            unique=["source", "source_id"],
        )
        query = select(LedgerItem).where(
            LedgerItem.source == source, LedgerItem.source_id == source_id
        )
        item = (await session.exec(query)).one()
        if not added:
            return item
    session.add(
        LedgerEvent(
            item_id=item.id or 0,
            at=now,
            staff_id=recorded_by,
            kind=LedgerEventKind.CREATED,
        )
    )
    await session.flush()
    return item
