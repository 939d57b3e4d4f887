"""A conversation parked as a draft: where it stood (flow, state, draft) and what it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, utcnow


class Draft(SQLModel, table=True):
    """One parked conversation of one messenger account; a person may keep several."""

    __tablename__ = "draft"
    __table_args__ = (Index("ix_draft_owner", "school_id", "channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    #: Where the note about its clearing is sent.
    chat_id: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    state: str = Field(max_length=32)
    #: The conversation's stored draft, as it was (the engine's own keys included).
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: What is in progress, in the owner's language when parked: `记录张小明的家访`.
    label: str = Field(default="", max_length=200)
    #: Whom or what it is about (`张小明`), for the note when it is cleared; "" if nothing.
    about: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: When the conversation was last moved on, before it was parked.
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
