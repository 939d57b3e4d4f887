"""Scheduled-job slots: a (school, job, slot) row is claimed before a slot runs, so it runs once
for each school.

Also APScheduler's own job store table (`apscheduler_jobs`), declared here so that our migration
creates it: APScheduler's `SQLAlchemyJobStore` then finds it and creates nothing itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, utcnow


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("school_id", "job", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The school the slot ran for: each school's scheduler runs every slot once for itself.
    school_id: int = Field(foreign_key="school.id", index=True)
    job: str = Field(max_length=64)
    #: The slot's scheduled time (e.g. today 07:30 in the school's zone, stored as UTC).
    slot: datetime = Field(sa_type=AwareDateTime)
    #: Which process claimed it (host:pid), for operators.
    owner: str = Field(default="", max_length=100)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    #: The run failed (its transaction was rolled back): the slot may be claimed again.
    failed: bool = False
    #: A one-line outcome: "enqueued 12", or the error's first line.
    outcome: str = Field(default="", max_length=500)


#: APScheduler 3's `SQLAlchemyJobStore` table, column for column (see `scheduler.service`).
APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
