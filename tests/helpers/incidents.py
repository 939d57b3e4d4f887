"""Driving /incident and its buttons as people would, and reading what it left behind."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from handlers.types import Reply
from models.db.engine import Database
from models.incidents.tables import Incident, IncidentEvent
from models.outbox.tables import OutboxMessage
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import JobContext
from scheduler.jobs.incidents import announce_not_reached
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser

ZONE = ZoneInfo("Asia/Shanghai")

#: 王芳 reports that 张小明 (her own class 三(2)班) fell on the playground.
REPORT = (
    "/incident",
    "三(2)班",
    "张小明",
    "意外伤害",
    ">课间在操场摔倒，右膝擦伤流血",
    "已送医院",
)


async def incident_outbox(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    """The incident messages queued (of `kind`), in the order written."""
    return await outbox(db, kind=kind, prefix="incident:")


async def outbox_for(db: Database, user: ChatUser, kind: str) -> list[Reply]:
    return [reply_of(r) for r in await incident_outbox(db, kind) if r.chat_id == user.user_id]


async def the_incident(db: Database) -> Incident:
    async with db.session() as session:
        return (await session.exec(select(Incident))).one()


async def events(db: Database) -> list[tuple[str, str, str]]:
    """(event, actor, detail) in history order."""
    async with db.session() as session:
        query = select(IncidentEvent).order_by(col(IncidentEvent.at), col(IncidentEvent.id))
        return [(e.event, e.actor, e.detail) for e in (await session.exec(query)).all()]


async def run_not_reached(
    db: Database, school: School, now: datetime, rules: SchoolRules = DEFAULT_RULES
) -> int:
    """One run of the timeout job in its own transaction, as the scheduler runs it."""
    async with db.session() as session:
        context = JobContext(session=session, now=now, school=school, zone=ZONE, rules=rules)
        return await announce_not_reached(context)
