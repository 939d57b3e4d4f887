"""Everything the school holds about one student (a data subject's access request): the rows of
every table that names them, for `privacy export`, and what `privacy erase` would change.

`student_records` returns one `Sheet` per kind of record — the roster row, the guardians, visits
with all their fields, the family profile, absences, flags, incidents and their history, duties,
notice receipts, parents' messages and notice questions, ledger items and their history, the
feedback the student's guardians signed with their name, care cases and their chronology, tag
proposals, and the audit entries about the student. Columns are the tables' own field names, so
nothing is left out when a table gains a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.absences.tables import Absence, Flag
from models.audit.tables import AuditEntry
from models.care.tables import CareCase, CareEntry
from models.duties.tables import Duty
from models.families.tables import FamilyProfile, TagProposal
from models.feedback.tables import Feedback
from models.incidents.tables import Incident, IncidentEvent
from models.ledger.tables import LedgerEvent, LedgerItem
from models.notices.tables import NoticeQuestion, NoticeReceipt
from models.parents.tables import ParentMessage
from models.roster.tables import Guardian, Student, StudentGuardian
from models.visits.tables import Visit

Cell = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: list[str]
    rows: list[list[Cell]]


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _sheet(title: str, model: type[SQLModel], rows: Sequence[SQLModel]) -> Sheet:
    columns = list(model.model_fields)
    return Sheet(title, columns, [[_cell(getattr(row, name)) for name in columns] for row in rows])


async def find_student(*, session: AsyncSession, school_id: int, student_no: str) -> Student | None:
    """The student with this 学号 (an erased student's number is gone, so not found)."""
    query = select(Student).where(
        col(Student.school_id) == school_id, col(Student.student_no) == student_no.strip()
    )
    return (await session.exec(query)).first()


async def guardians_of(
    *, session: AsyncSession, student_id: int
) -> list[tuple[Guardian, StudentGuardian]]:
    query = (
        select(Guardian, StudentGuardian)
        .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
        .where(col(StudentGuardian.student_id) == student_id)
        .order_by(col(StudentGuardian.position), col(Guardian.id))
    )
    return [(g, link) for g, link in (await session.exec(query)).all()]


async def student_records(*, session: AsyncSession, student: Student) -> list[Sheet]:
    sid = student.id or 0

    async def of(model: type[Any], *where: Any) -> list[Any]:
        query = select(model).where(*where).order_by(model.id)
        return list((await session.exec(query)).all())

    guardians = await guardians_of(session=session, student_id=sid)
    guardian_ids = [g.id for g, _link in guardians]
    incidents = await of(Incident, col(Incident.student_id) == sid)
    ledger = await of(LedgerItem, col(LedgerItem.student_id) == sid)
    cases = await of(CareCase, col(CareCase.student_id) == sid)
    receipts = (
        await session.exec(
            select(NoticeReceipt)
            .where(col(NoticeReceipt.student_id) == sid)
            .order_by(col(NoticeReceipt.notice_id))
        )
    ).all()
    guardian_columns = ["id", "name", "phone", "relation", "position"]
    return [
        _sheet("学生", Student, [student]),
        Sheet(
            "家长",
            guardian_columns,
            [[g.id, g.name, g.phone, link.relation, link.position] for g, link in guardians],
        ),
        _sheet("家访", Visit, await of(Visit, col(Visit.student_id) == sid)),
        _sheet(
            "家庭情况", FamilyProfile, await of(FamilyProfile, col(FamilyProfile.student_id) == sid)
        ),
        _sheet("缺勤", Absence, await of(Absence, col(Absence.student_id) == sid)),
        _sheet("上报", Flag, await of(Flag, col(Flag.student_id) == sid)),
        _sheet("突发事件", Incident, incidents),
        _sheet(
            "突发事件经过",
            IncidentEvent,
            await of(IncidentEvent, col(IncidentEvent.incident_id).in_([i.id for i in incidents])),
        ),
        _sheet("立即家访任务", Duty, await of(Duty, col(Duty.student_id) == sid)),
        _sheet("回执", NoticeReceipt, receipts),
        _sheet(
            "家长留言", ParentMessage, await of(ParentMessage, col(ParentMessage.student_id) == sid)
        ),
        _sheet(
            "通知疑问",
            NoticeQuestion,
            await of(NoticeQuestion, col(NoticeQuestion.student_id) == sid),
        ),
        _sheet("台账", LedgerItem, ledger),
        _sheet(
            "台账经过",
            LedgerEvent,
            await of(LedgerEvent, col(LedgerEvent.item_id).in_([i.id for i in ledger])),
        ),
        _sheet(
            "意见反馈",
            Feedback,
            await of(
                Feedback,
                col(Feedback.guardian_id).in_(guardian_ids),
                col(Feedback.anonymous).is_(False),
            ),
        ),
        _sheet("关爱室个案", CareCase, cases),
        _sheet(
            "个案记录",
            CareEntry,
            await of(CareEntry, col(CareEntry.case_id).in_([c.id for c in cases])),
        ),
        _sheet(
            "特殊类型申请", TagProposal, await of(TagProposal, col(TagProposal.student_id) == sid)
        ),
        _sheet("审计记录", AuditEntry, await of(AuditEntry, col(AuditEntry.student_id) == sid)),
    ]
