"""Conversation state for every channel, and the record of inbound updates already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import AwareDateTime, utcnow


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
