"""The care room's people and a referral, shared by the tests/test_care_*.py files: two care-room
teachers (周心 C01, 吴悦 C02) and a principal (高远 P01) beside the test school's staff."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.care.tables import CareCase, CareEntry
from models.db.engine import Database
from models.roster.tables import Staff
from tests.helpers.factories import TestSchool
from tests.helpers.visits import ChatUser

NOTICED = "最近上课常走神，午饭几乎不吃，问起来就哭"


@dataclass
class CareStaff:
    worker: Staff
    colleague: Staff
    principal: Staff


async def add_care_staff(db: Database, school: TestSchool) -> CareStaff:
    school_id = school.school.id or 0
    people = [
        Staff(school_id=school_id, staff_no="C01", name="周心", roles="care"),
        Staff(school_id=school_id, staff_no="C02", name="吴悦", roles="care"),
        Staff(school_id=school_id, staff_no="P01", name="高远", roles="principal"),
    ]
    async with db.session() as session:
        for person in people:
            session.add(person)
        await session.flush()
        for person in people:
            await session.refresh(person)
    for person in people:
        school.staff[person.name] = person
    return CareStaff(*people)


async def refer(
    teacher: ChatUser, student: str = "张小明", text: str = NOTICED, urgency: str = "一般"
) -> None:
    """A teacher's referral from /refer to its receipt."""
    await teacher.steps(f"/refer {student}", f">{text}", urgency, "提交")
    assert "状态：已受理" in teacher.text, teacher.text


async def cases(db: Database) -> list[CareCase]:
    async with db.session() as session:
        return list((await session.exec(select(CareCase).order_by(col(CareCase.id)))).all())


async def entries(db: Database) -> list[CareEntry]:
    async with db.session() as session:
        query = select(CareEntry).order_by(col(CareEntry.id))
        return list((await session.exec(query)).all())


async def audit_rows(db: Database, prefix: str = "case.") -> list[AuditEntry]:
    async with db.session() as session:
        query = (
            select(AuditEntry)
            .where(col(AuditEntry.action).startswith(prefix))
            .order_by(col(AuditEntry.id))
        )
        return list((await session.exec(query)).all())
