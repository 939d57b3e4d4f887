"""Links between people in the roster and their messenger accounts; one-time invite codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum, utcnow


class PersonKind(StrEnum):
    STAFF = "staff"
    GUARDIAN = "guardian"


class ChannelAccount(SQLModel, table=True):
    """A messenger user (Telegram user id, WeCom userid, console name) bound to a person of one
    school: the same user in two schools' bots is two accounts."""

    __tablename__ = "channel_account"
    __table_args__ = (UniqueConstraint("school_id", "channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    #: Where to send messages (Telegram chat id; for private chats the user id).
    chat_id: str = Field(max_length=64)
    school_id: int = Field(foreign_key="school.id", index=True)
    person_kind: PersonKind = Field(sa_type=str_enum(PersonKind))
    person_id: int = Field(index=True)
    language: str = Field(default="zh", max_length=8)
    bound_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class Invite(SQLModel, table=True):
    """A one-time code that binds a messenger account to a staff member or a guardian."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    person_kind: PersonKind = Field(sa_type=str_enum(PersonKind))
    person_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    expires_at: datetime = Field(sa_type=AwareDateTime)
    used_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    used_by: int | None = Field(default=None, foreign_key="channel_account.id")
