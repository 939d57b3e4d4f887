"""Reading duties, absences and the outbox back, and running the duty jobs at a chosen moment.

Shared by the absence, flag, duty and /pending tests.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from models.absences.tables import Absence, Flag
from models.db.engine import Database
from models.duties.queries import DutySpec, open_duties
from models.duties.tables import Duty, DutyTrigger
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import JobContext, JobFunction
from tests.helpers.factories import TestSchool

ZONE = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A moment in the school's local time, e.g. "2026-11-16 06:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


async def open_duty(
    db: Database,
    ts: TestSchool,
    teacher: str,
    student: str,
    at: datetime,
    trigger: DutyTrigger = DutyTrigger.UNEXCUSED_ABSENCE,
    reason: str = "",
    *,
    source_key: str | None = None,
) -> int:
    """Open an immediate-visit duty for `teacher` to visit `student`, triggered `at`; its id.

    The source key is `test:<student>` unless given.
    """
    async with db.session() as session:
        [duty_id] = await open_duties(
            session=session,
            specs=[
                DutySpec(
                    school_id=ts.school.id or 0,
                    student_id=ts.students[student].id or 0,
                    teacher_id=ts.staff[teacher].id or 0,
                    trigger=trigger,
                    source_key=source_key if source_key is not None else f"test:{student}",
                    triggered_at=at,
                    reason=reason,
                )
            ],
        )
    return duty_id


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
