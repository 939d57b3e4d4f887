"""Conversation state for every channel, and the record of inbound updates already handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, and_, bindparam, delete, insert, update
from sqlalchemy import select as select_rows
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col

from models.accounts.tables import ChannelAccount, PersonKind
from models.db.columns import AwareDateTime, utcnow
from models.db.driver_sql import DriverBatch, DriverStatement
from models.db.update_tx import AlreadyHandled, UpdateTx, WriteRefused
from models.roster.tables import Guardian, Staff


class Conversation(SQLModel, table=True):
    """Where one user is in one flow: `(school, channel, user) → (flow, state, draft)`."""

    __table_args__ = (UniqueConstraint("school_id", "channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    #: Whose bot the user talks to: the same Telegram user (or WeCom userid) in two schools'
    #: bots is two conversations.
    school_id: int = Field(foreign_key="school.id")
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
    #: Bumped by every write: a write made from an out-of-date copy changes nothing and is
    #: retried from the database (`StaleConversation`).
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class InboundSeen(SQLModel, table=True):
    """An inbound update already acted on; a redelivery with the same key is a no-op."""

    __tablename__ = "inbound_seen"
    __table_args__ = (UniqueConstraint("school_id", "channel", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    #: Whose bot received it: two schools' Telegram bots count update ids alike.
    school_id: int = Field(foreign_key="school.id")
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


@dataclass(frozen=True)
class ConversationState:
    """A conversation row as it was read or written (a value: kept between updates)."""

    id: int
    flow: str
    state: str
    draft: dict[str, Any]
    choices: list[list[str]]
    updated_at: datetime
    version: int


class StaleConversation(WriteRefused):
    """The conversation row changed since it was read: the update must be handled again."""


@dataclass(frozen=True)
class Snapshot:
    """Everything the dispatcher needs about one user, read in one query."""

    account: ChannelAccount | None
    staff: Staff | None
    guardian: Guardian | None
    conversation: ConversationState | None


def _claim_statement() -> Any:
    """The dedupe insert for PostgreSQL (SQLite runs `_CLAIM`'s own SQL)."""
    table = InboundSeen.__table__  # type: ignore[attr-defined]
    return (
        pg_insert(table)
        .values(
            school_id=bindparam("school_id"),
            channel=bindparam("channel"),
            update_key=bindparam("update_key"),
            seen_at=bindparam("seen_at"),
        )
        .on_conflict_do_nothing(index_elements=["school_id", "channel", "update_key"])
    )


_SEEN = InboundSeen.__table__.c  # type: ignore[attr-defined]
#: The dedupe insert: runs on every update.
_CLAIM = DriverStatement(
    sql="INSERT INTO inbound_seen (school_id, channel, update_key, seen_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (school_id, channel, update_key) DO NOTHING",
    parameters=[
        ("school_id", _SEEN.school_id),
        ("channel", _SEEN.channel),
        ("update_key", _SEEN.update_key),
        ("seen_at", _SEEN.seen_at),
    ],
    core=_claim_statement(),
)


async def claim_update(*, tx: UpdateTx, school_id: int, channel: str, update_key: str) -> None:
    """Record an inbound update to `school_id`'s bot. One recorded before (a redelivery)
    raises `AlreadyHandled`,
    now or, on PostgreSQL, when the transaction begins or ends: either way, nothing of the
    update is saved."""
    values = {
        "school_id": school_id,
        "channel": channel,
        "update_key": update_key,
        "seen_at": utcnow(),
    }
    await tx.write_one(_CLAIM, values, AlreadyHandled)


#: The conversation columns `ConversationState` is made of, in its field order.
_STATE_COLUMNS = (
    col(Conversation.id),
    col(Conversation.flow),
    col(Conversation.state),
    col(Conversation.draft),
    col(Conversation.choices),
    col(Conversation.updated_at),
    col(Conversation.version),
)


def _state(row: Any) -> ConversationState | None:
    """The `ConversationState` in `row`'s last seven columns (None: no conversation)."""
    values = tuple(row)[-len(_STATE_COLUMNS) :]
    if values[0] is None:
        return None
    return ConversationState(*values)


def _snapshot_query() -> Any:
    """Built once: statement construction costs more than the query on the hot path."""
    return (
        select_rows(ChannelAccount, Staff, Guardian, *_STATE_COLUMNS)
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
                col(Conversation.school_id) == col(ChannelAccount.school_id),
                col(Conversation.channel) == col(ChannelAccount.channel),
                col(Conversation.external_id) == col(ChannelAccount.external_id),
            ),
        )
        .where(
            col(ChannelAccount.school_id) == bindparam("school_id"),
            col(ChannelAccount.channel) == bindparam("channel"),
            col(ChannelAccount.external_id) == bindparam("external_id"),
        )
    )


_SNAPSHOT = _snapshot_query()
_ORPHAN: Any = select_rows(*_STATE_COLUMNS).where(
    col(Conversation.school_id) == bindparam("school_id"),
    col(Conversation.channel) == bindparam("channel"),
    col(Conversation.external_id) == bindparam("external_id"),
)
_CONVERSATION = Conversation.__table__.c  # type: ignore[attr-defined]
#: The conversation's next step, applied only to the version it was read at: every update of a
#: conversation runs it.
_UPDATE = DriverStatement(
    sql="UPDATE conversation SET flow = ?, state = ?, draft = ?, choices = ?, updated_at = ?, "
    "version = ? WHERE conversation.id = ? AND conversation.version = ?",
    parameters=[
        ("flow", _CONVERSATION.flow),
        ("state", _CONVERSATION.state),
        ("draft", _CONVERSATION.draft),
        ("choices", _CONVERSATION.choices),
        ("updated_at", _CONVERSATION.updated_at),
        ("version", _CONVERSATION.version),
        ("conversation_id", _CONVERSATION.id),
        ("seen_version", _CONVERSATION.version),
    ],
    core=update(Conversation)
    .where(
        col(Conversation.id) == bindparam("conversation_id"),
        col(Conversation.version) == bindparam("seen_version"),
    )
    .values(
        flow=bindparam("flow"),
        state=bindparam("state"),
        draft=bindparam("draft"),
        choices=bindparam("choices"),
        updated_at=bindparam("updated_at"),
        version=bindparam("version"),
    ),
)

#: An update that only moves a conversation on, on PostgreSQL: its dedupe insert and its
#: conversation move as one call (migration 0027's function), in a transaction of its own. It
#: records the update first, as every other path does (so that two workers handling the same
#: update lock the same rows in the same order), then moves the conversation; 1: handled before,
#: `no_data_found`: the conversation moved meanwhile (nothing saved either way).
_CLAIM_AND_MOVE = DriverBatch(
    sql="SELECT claim_update_and_move_conversation("
    + ", ".join(f"${n}" for n in range(1, len(_CLAIM.parameters) + len(_UPDATE.parameters) + 1))
    + ")",
    statements=(_CLAIM, _UPDATE),
    conflict_index=0,
    refused_index=1,
)


async def load_snapshot(
    *, tx: UpdateTx, school_id: int, channel: str, external_id: str
) -> Snapshot:
    """The user's account in `school_id`, the person behind it and the open conversation with
    the school's bot, in one round trip."""
    params = {"school_id": school_id, "channel": channel, "external_id": external_id}
    session = tx.session
    row = (await session.exec(_SNAPSHOT, params=params)).first()
    if row is not None:
        account, staff, guardian = row[0], row[1], row[2]
        return Snapshot(account, staff, guardian, _state(row))
    orphan = (await session.exec(_ORPHAN, params=params)).first()
    return Snapshot(None, None, None, None if orphan is None else _state(orphan))


async def store_conversation(
    *,
    tx: UpdateTx,
    existing: ConversationState | None,
    school_id: int,
    channel: str,
    external_id: str,
    chat_id: str,
    flow: str,
    state: str,
    draft: dict[str, Any],
    choices: list[list[str]],
    now: datetime,
) -> ConversationState:
    """Insert or update the conversation row with one statement (no ORM flush on the hot path).

    An update applies only to the version `existing` was read at; otherwise (another process,
    or a copy kept in memory that is out of date) `StaleConversation`. An insert where a row
    already exists fails on the unique key, which is the same case.
    """
    values = {"flow": flow, "state": state, "draft": draft, "choices": choices, "updated_at": now}
    if existing is not None:
        version = existing.version + 1
        await tx.write_one(
            _UPDATE,
            {
                "conversation_id": existing.id,
                "seen_version": existing.version,
                "version": version,
                **values,
            },
            StaleConversation,
        )
        return ConversationState(existing.id, flow, state, draft, choices, now, version)
    table = Conversation.__table__  # type: ignore[attr-defined]
    try:
        inserted = await tx.session.exec(
            insert(table)
            .values(
                school_id=school_id,
                channel=channel,
                external_id=external_id,
                chat_id=chat_id,
                version=0,
                **values,
            )
            .returning(table.c.id)
        )
    except IntegrityError as exc:
        raise StaleConversation() from exc
    conversation_id: int = inserted.scalar_one()
    return ConversationState(conversation_id, flow, state, draft, choices, now, 0)


async def drop_conversation(*, tx: UpdateTx, conversation: ConversationState) -> None:
    await tx.session.exec(delete(Conversation).where(col(Conversation.id) == conversation.id))
