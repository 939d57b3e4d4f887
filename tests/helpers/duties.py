"""Reading duties, absences and the outbox back, and running the duty jobs at a chosen moment.

Shared by the absence, flag, duty and /pending tests.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from models.absences.tables import Absence, Flag
from models.db.engine import Database
from models.duties.tables import Duty
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import JobContext, JobFunction

ZONE = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A moment in the school's local time, e.g. "2026-11-16 06:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


async def duties(db: Database) -> list[Duty]:
    async with db.session() as session:
        return list((await session.exec(select(Duty).order_by(col(Duty.id)))).all())


async def absences(db: Database) -> list[Absence]:
    async with db.session() as session:
        return list((await session.exec(select(Absence).order_by(col(Absence.id)))).all())


async def flags(db: Database) -> list[Flag]:
    async with db.session() as session:
        return list((await session.exec(select(Flag).order_by(col(Flag.id)))).all())


async def run_at(
    db: Database,
    school: School,
    func: JobFunction,
    moment: datetime,
    rules: SchoolRules = DEFAULT_RULES,
) -> int:
    """Run a job body at `moment` in one transaction, as the scheduler does."""
    async with db.session() as session:
        jc = JobContext(session=session, now=moment, school=school, zone=ZONE, rules=rules)
        return await func(jc)
