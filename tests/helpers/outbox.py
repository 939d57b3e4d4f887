"""Reading what the bot queued to send: outbox rows, and the reply each one carries."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.school.tables import School

#: The school outbox rows of a test without one belong to.
ROWS_SCHOOL = "外发测试学校"


async def school_for_rows(session: AsyncSession) -> int:
    """The first school's id (every outbox row is a school's), made when there is none."""
    school = (await session.exec(select(School).order_by(col(School.id)))).first()
    if school is None:
        school = School(name=ROWS_SCHOOL)
        session.add(school)
        await session.flush()
    assert school.id is not None
    return school.id


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


async def another_school_s_row(
    db: Database, *, key: str, kind: str, status: OutboxStatus = OutboxStatus.PENDING
) -> int:
    """A second school, with an outbox row of its own under `key` (keys are unique within a
    school only); returns that school's id."""
    async with db.session() as session:
        other = School(name="第二实验小学")
        session.add(other)
        await session.flush()
        assert other.id is not None
        session.add(
            OutboxMessage(
                school_id=other.id,
                key=key,
                kind=kind,
                channel="console",
                chat_id="staff-1",
                payload=Reply("第二所学校的消息").to_dict(),
                status=status,
            )
        )
        return other.id
