"""Files the bot sends that do not live on a messenger (e.g. the digest's chart)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, utcnow


class Media(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    #: Deterministic, e.g. "digest-chart:1:2026-11-23": building the same file twice keeps one.
    key: str = Field(max_length=200, unique=True)
    filename: str = Field(max_length=100)
    content_type: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
