"""A job for scheduler tests: records each run and queues one outbox message per slot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from handlers.types import Reply
from models.db.engine import Database
from models.jobs.tables import JobRun
from models.outbox.tables import OutboxMessage, enqueue
from models.school.rules import SchoolRules, next_waking_moment
from scheduler.base import Job, JobContext
from scheduler.run import RunConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A moment written in the school's local time, e.g. "2026-11-16 07:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def config(**rules: Any) -> RunConfig:
    return RunConfig(zone=SHANGHAI, rules=SchoolRules(**rules), owner="test:1")


@dataclass
class RecordingJob:
    """Queues one message to each of `chats` per slot (key from the slot); can be told to fail."""

    name: str = "test_digest"
    schedule: dict[str, Any] = field(default_factory=lambda: {"hour": 7, "minute": 30})
    chats: tuple[str, ...] = ("42",)
    fail: bool = False
    runs: list[JobContext] = field(default_factory=list)

    @property
    def job(self) -> Job:
        return Job(
            name=self.name,
            func=self._body,
            schedule=lambda rules: dict(self.schedule),
            describe="测试任务",
        )

    async def _body(self, jc: JobContext) -> int:
        self.runs.append(jc)
        slot = jc.slot or jc.now
        queued = 0
        for chat in self.chats:
            queued += await enqueue(
                session=jc.session,
                school_id=jc.school_id,
                key=f"{self.name}:{slot.astimezone(jc.zone):%Y-%m-%dT%H:%M}:{chat}",
                kind="test",
                channel="fake",
                chat_id=chat,
                payload=Reply(f"提醒 {chat}").to_dict(),
                due_at=next_waking_moment(jc.now, zone=jc.zone, rules=jc.rules),
            )
        if self.fail:
            raise RuntimeError("the job broke halfway")
        return queued


async def outbox_count(db: Database) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage))).one()


async def job_runs(db: Database, name: str) -> list[JobRun]:
    async with db.session() as session:
        query = select(JobRun).where(JobRun.job == name).order_by(col(JobRun.slot))
        return list((await session.exec(query)).all())
