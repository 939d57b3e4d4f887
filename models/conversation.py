"""Conversation state for every channel, and the record of inbound updates already handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, and_, bindparam, delete, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import ChannelAccount, PersonKind
from models.base import AwareDateTime, utcnow
from models.people import Guardian, Staff


class Conversation(SQLModel, table=True):
    """Where one user is in one flow: `(channel, user) → (flow, state, draft)`."""

    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    state: str = Field(max_length=32)
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: `[label, data]` of the last reply's buttons: only these are accepted, and "2" can stand
    #: for the second one on channels that show numbered options.
    choices: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class InboundSeen(SQLModel, table=True):
    """An inbound update already acted on; a redelivery with the same key is a no-op."""

    __tablename__ = "inbound_seen"
    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


@dataclass(frozen=True)
class Snapshot:
    """Everything the dispatcher needs about one user, read in one query."""

    account: ChannelAccount | None
    staff: Staff | None
    guardian: Guardian | None
    conversation: Conversation | None


def _claim_statement(dialect: str) -> Any:
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    table = InboundSeen.__table__  # type: ignore[attr-defined]
    return (
        insert_for(table)
        .values(
            channel=bindparam("channel"),
            update_key=bindparam("update_key"),
            seen_at=bindparam("seen_at"),
        )
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
    )


#: Built once per dialect: statement construction costs more than the insert itself.
_CLAIM = {dialect: _claim_statement(dialect) for dialect in ("sqlite", "postgresql")}


async def claim_update(*, session: AsyncSession, channel: str, update_key: str) -> bool:
    """Record an inbound update; False if it was recorded before (a redelivery)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    params = {"channel": channel, "update_key": update_key, "seen_at": utcnow()}
    # Core, on the session's connection: no ORM statement processing on the hot path.
    connection = await session.connection()
    result = await connection.execute(_CLAIM[dialect], params)
    return bool(result.rowcount)


def _snapshot_query() -> Any:
    """Built once: statement construction costs more than the query on the hot path."""
    return (
        select(ChannelAccount, Staff, Guardian, Conversation)
        .select_from(ChannelAccount)
        .outerjoin(
            Staff,
            and_(
                col(ChannelAccount.person_kind) == PersonKind.STAFF,
                col(Staff.id) == col(ChannelAccount.person_id),
            ),
        )
        .outerjoin(
            Guardian,
            and_(
                col(ChannelAccount.person_kind) == PersonKind.GUARDIAN,
                col(Guardian.id) == col(ChannelAccount.person_id),
            ),
        )
        .outerjoin(
            Conversation,
            and_(
                col(Conversation.channel) == col(ChannelAccount.channel),
                col(Conversation.external_id) == col(ChannelAccount.external_id),
            ),
        )
        .where(
            col(ChannelAccount.channel) == bindparam("channel"),
            col(ChannelAccount.external_id) == bindparam("external_id"),
        )
    )


_SNAPSHOT = _snapshot_query()
_ORPHAN = select(Conversation).where(
    col(Conversation.channel) == bindparam("channel"),
    col(Conversation.external_id) == bindparam("external_id"),
)
_UPDATE = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation_id"))
    .values(
        flow=bindparam("flow"),
        state=bindparam("state"),
        draft=bindparam("draft"),
        choices=bindparam("choices"),
        updated_at=bindparam("updated_at"),
    )
)


async def load_snapshot(*, session: AsyncSession, channel: str, external_id: str) -> Snapshot:
    """The account, the person behind it and the open conversation, in one round trip."""
    params = {"channel": channel, "external_id": external_id}
    row = (await session.exec(_SNAPSHOT, params=params)).first()
    if row is not None:
        account, staff, guardian, conversation = row
        return Snapshot(account, staff, guardian, conversation)
    return Snapshot(None, None, None, (await session.exec(_ORPHAN, params=params)).first())


async def store_conversation(
    *,
    session: AsyncSession,
    existing: Conversation | None,
    channel: str,
    external_id: str,
    chat_id: str,
    flow: str,
    state: str,
    draft: dict[str, Any],
    choices: list[list[str]],
    now: datetime,
) -> None:
    """Insert or update the conversation row with one statement (no ORM flush on the hot path)."""
    values = {"flow": flow, "state": state, "draft": draft, "choices": choices, "updated_at": now}
    if existing is not None and existing.id is not None:
        connection = await session.connection()
        await connection.execute(_UPDATE, {"conversation_id": existing.id, **values})
        return
    table = Conversation.__table__  # type: ignore[attr-defined]
    await session.exec(
        insert(table).values(channel=channel, external_id=external_id, chat_id=chat_id, **values)
    )


async def drop_conversation(*, session: AsyncSession, conversation: Conversation) -> None:
    await session.exec(delete(Conversation).where(col(Conversation.id) == conversation.id))
