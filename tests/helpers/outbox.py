"""Reading what the bot queued to send: outbox rows, and the reply each one carries."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import OutboxMessage


async def outbox(db: Database, *, kind: str | None = None, prefix: str = "") -> list[OutboxMessage]:
    """Outbox rows in the order written: only those of `kind`, only keys starting with `prefix`."""
    async with db.session() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        if prefix:
            query = query.where(col(OutboxMessage.key).startswith(prefix))
        return list((await session.exec(query)).all())


def reply_of(row: OutboxMessage) -> Reply:
    return Reply.from_dict(row.payload)


async def outbox_row(db: Database, key: str) -> OutboxMessage:
    """The one outbox row with this key."""
    async with db.session() as session:
        return (await session.exec(select(OutboxMessage).where(OutboxMessage.key == key))).one()
