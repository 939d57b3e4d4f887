"""Consent and retention records (DESIGN.md "Privacy").

`GuardianConsent`: a guardian's agreement to what the school stores about their child (PIPL: a
child under 14's data is sensitive; the guardian agrees). One row per guardian and wording
version: a changed wording (`models.privacy.consent.CONSENT_VERSION`) asks again. Nothing else a
guardian can do works before it.

`RetentionRun`: what each pass of the retention job (or `privacy erase`) did, for the yearly audit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime


class GuardianConsent(SQLModel, table=True):
    __tablename__ = "guardian_consent"
    __table_args__ = (UniqueConstraint("guardian_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    #: The wording agreed to (`models.privacy.consent.CONSENT_VERSION`, e.g. "2026-12").
    version: str = Field(max_length=20)
    agreed_at: datetime = Field(sa_type=AwareDateTime)
    #: Where it was given: "telegram", "wecom", "console", "page".
    channel: str = Field(max_length=16)


class RetentionRun(SQLModel, table=True):
    """What one retention pass did to one kind of record (the monthly job, or by hand)."""

    __tablename__ = "retention_run"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    ran_at: datetime = Field(sa_type=AwareDateTime, index=True)
    #: visits, incidents, cases, receipts, audit.
    kind: str = Field(max_length=20)
    #: Records of students who left before this day were past their retention.
    cutoff: datetime = Field(sa_type=AwareDateTime)
    #: "anonymised" or "deleted".
    action: str = Field(max_length=20)
    count: int = 0
