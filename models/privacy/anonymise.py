"""Blanking what was written about students, keeping what statistics need.

Shared by `privacy erase` (one student, at once) and the retention job (every student past a
kind's retention). Each function takes the students' ids and blanks the free text of one kind
of record — visits (what was reported, learned, discussed, the problems, the notes), incidents
(what happened, where the child is, the photo), care cases and their chronology — while the
dates, forms, categories and kinds stay, so the counts of the school's statistics do not change.
Each returns how many records it changed: a record already blank is not counted again, so a
second pass reports 0.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.care.tables import CareCase, CareEntry
from models.incidents.tables import Incident, IncidentEvent
from models.notices.tables import NoticeDelivery, NoticeReceipt
from models.roster.tables import StudentGuardian
from models.visits.tables import Visit

#: A visit's free text (its date, form, category, teacher and `needs_school` stay).
VISIT_TEXT = (
    "met",
    "school_report",
    "home_learned",
    "family",
    "guidance",
    "measures",
    "problems",
    "notes",
    "late_reason",
)
#: An incident's free text (its kind, times and who acknowledged or phoned stay).
INCIDENT_TEXT = ("what", "where_now", "photo_ref", "photo_channel")
#: A care case's text (intake, urgency, status, nature, severity and dates stay).
CASE_TEXT = (
    "noticed",
    "basic_info",
    "problem",
    "background",
    "plan_support",
    "plan_study",
    "plan_daily",
    "plan_who",
    "eval_student",
    "eval_teacher",
    "eval_parents",
)
#: A care entry's text (its kind and time stay).
CASE_ENTRY_TEXT = ("place", "problem", "measures", "effect", "text")


async def _blank(
    session: AsyncSession,
    model: type[SQLModel],
    fields: Sequence[str],
    where: ColumnElement[bool],
) -> int:
    """Set `fields` to "" in the rows matching `where` that still hold any text; the count."""
    columns = [getattr(model, name) for name in fields]
    statement = (
        update(model)
        .where(where, or_(*(column != "" for column in columns)))
        .values({name: "" for name in fields})
    )
    result: Any = await session.exec(statement)
    return int(result.rowcount or 0)


async def blank_visits(session: AsyncSession, student_ids: Collection[int]) -> int:
    if not student_ids:
        return 0
    return await _blank(session, Visit, VISIT_TEXT, col(Visit.student_id).in_(student_ids))


async def blank_incidents(session: AsyncSession, student_ids: Collection[int]) -> int:
    if not student_ids:
        return 0
    incidents = select(col(Incident.id)).where(col(Incident.student_id).in_(student_ids))
    await _blank(session, IncidentEvent, ("detail",), col(IncidentEvent.incident_id).in_(incidents))
    return await _blank(session, Incident, INCIDENT_TEXT, col(Incident.student_id).in_(student_ids))


async def blank_cases(session: AsyncSession, student_ids: Collection[int]) -> int:
    """Care cases and their chronology (the care room's tables, written here directly)."""
    if not student_ids:
        return 0
    cases = select(col(CareCase.id)).where(col(CareCase.student_id).in_(student_ids))
    entries = await _blank(session, CareEntry, CASE_ENTRY_TEXT, col(CareEntry.case_id).in_(cases))
    blanked = await _blank(session, CareCase, CASE_TEXT, col(CareCase.student_id).in_(student_ids))
    return blanked + entries


async def delete_receipts(session: AsyncSession, student_ids: Collection[int]) -> int:
    """The students' notice receipts, and the delivery rows that were only about them."""
    if not student_ids:
        return 0
    wanted = set(student_ids)
    result: Any = await session.exec(
        delete(NoticeReceipt).where(col(NoticeReceipt.student_id).in_(wanted))
    )
    deleted = int(result.rowcount or 0)
    guardians = select(col(StudentGuardian.guardian_id)).where(
        col(StudentGuardian.student_id).in_(wanted)
    )
    deliveries = (
        await session.exec(
            select(NoticeDelivery).where(col(NoticeDelivery.guardian_id).in_(guardians))
        )
    ).all()
    only_theirs = [
        d.id for d in deliveries if d.student_ids and set(d.student_ids) <= wanted and d.id
    ]
    if only_theirs:
        result = await session.exec(
            delete(NoticeDelivery).where(col(NoticeDelivery.id).in_(only_theirs))
        )
        deleted += int(result.rowcount or 0)
    return deleted
