"""Erasing one student on request (`privacy erase`): anonymised, not deleted, so the school's
counts stay true.

In one transaction:
- the student: name → 已删除学生, 学号 → a placeholder of their own, tags cleared, off the roster,
  `erased_at` set;
- visits, incidents, care cases: free text blanked (dates, forms, categories, kinds stay);
  the family profile and tag proposals deleted; flags', duties', parents' messages' and notice
  questions' text blanked;
- ledger items about the student: description → 已删除, their notes blanked;
- each guardian who has no other child at the school: name → 已删除家长, phone → a placeholder,
  every messenger account unbound (with its conversation and drafts) and invites withdrawn;
- a `RetentionRun(kind="erase")` with the number of records changed, and an audit entry.

`erase_plan` counts the same without changing anything, for the confirmation question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.absences.tables import Flag
from models.accounts.tables import ChannelAccount, Invite, PersonKind
from models.audit.tables import audit
from models.care.tables import CareCase
from models.conversations.store import Conversation
from models.drafts.tables import Draft
from models.duties.tables import Duty
from models.families.tables import FamilyProfile, TagProposal
from models.incidents.tables import Incident
from models.ledger.tables import LedgerEvent, LedgerItem
from models.notices.tables import NoticeQuestion
from models.parents.tables import ParentMessage
from models.privacy.anonymise import blank_cases, blank_incidents, blank_visits
from models.privacy.retention import ANONYMISED
from models.privacy.subject import guardians_of
from models.privacy.tables import RetentionRun
from models.roster.tables import Guardian, Student, StudentGuardian
from models.visits.tables import Visit

ERASED_STUDENT = "已删除学生"
ERASED_GUARDIAN = "已删除家长"
ERASED_DESCRIPTION = "已删除"


def placeholder_student_no(student_id: int) -> str:
    return f"已删除-{student_id}"


def placeholder_phone(guardian_id: int) -> str:
    return f"erased-{guardian_id}"


@dataclass(frozen=True)
class ErasePlan:
    student: Student
    visits: int
    incidents: int
    cases: int
    ledger_items: int
    #: Guardians with no other child: anonymised and unbound.
    guardians_erased: list[Guardian]
    #: Guardians who have another child at the school: kept.
    guardians_kept: list[Guardian]
    accounts: int


async def _count(session: AsyncSession, model: type[Any], *where: Any) -> int:
    query = select(func.count()).select_from(model).where(*where)
    return int((await session.exec(query)).one())


async def erase_plan(*, session: AsyncSession, student: Student) -> ErasePlan:
    sid = student.id or 0
    erased: list[Guardian] = []
    kept: list[Guardian] = []
    for guardian, _link in await guardians_of(session=session, student_id=sid):
        others = await _count(
            session,
            StudentGuardian,
            col(StudentGuardian.guardian_id) == guardian.id,
            col(StudentGuardian.student_id) != sid,
        )
        (kept if others else erased).append(guardian)
    accounts = await _count(
        session,
        ChannelAccount,
        col(ChannelAccount.person_kind) == PersonKind.GUARDIAN.value,
        col(ChannelAccount.person_id).in_([g.id for g in erased]),
    )
    return ErasePlan(
        student=student,
        visits=await _count(session, Visit, col(Visit.student_id) == sid),
        incidents=await _count(session, Incident, col(Incident.student_id) == sid),
        cases=await _count(session, CareCase, col(CareCase.student_id) == sid),
        ledger_items=await _count(session, LedgerItem, col(LedgerItem.student_id) == sid),
        guardians_erased=erased,
        guardians_kept=kept,
        accounts=accounts,
    )


async def _changed(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.exec(statement)
    return int(result.rowcount or 0)


async def _blank_texts(
    session: AsyncSession, model: type[Any], fields: tuple[str, ...], sid: int
) -> int:
    columns = [getattr(model, name) for name in fields]
    return await _changed(
        session,
        update(model)
        .where(model.student_id == sid, or_(*(c != "" for c in columns)))
        .values({name: "" for name in fields}),
    )


async def _unbind(session: AsyncSession, guardian_ids: list[int]) -> int:
    if not guardian_ids:
        return 0
    of_them = and_(
        col(ChannelAccount.person_kind) == PersonKind.GUARDIAN.value,
        col(ChannelAccount.person_id).in_(guardian_ids),
    )
    accounts = (await session.exec(select(ChannelAccount).where(of_them))).all()
    for account in accounts:
        mine_c = and_(
            col(Conversation.school_id) == account.school_id,
            col(Conversation.channel) == account.channel,
            col(Conversation.external_id) == account.external_id,
        )
        await session.exec(delete(Conversation).where(mine_c))
        mine_d = and_(
            col(Draft.school_id) == account.school_id,
            col(Draft.channel) == account.channel,
            col(Draft.external_id) == account.external_id,
        )
        await session.exec(delete(Draft).where(mine_d))
    # An invite that was used points at the account: forget that first.
    await session.exec(
        update(Invite).where(col(Invite.used_by).in_([a.id for a in accounts])).values(used_by=None)
    )
    await session.exec(
        delete(Invite).where(
            col(Invite.person_kind) == PersonKind.GUARDIAN.value,
            col(Invite.person_id).in_(guardian_ids),
        )
    )
    return await _changed(session, delete(ChannelAccount).where(of_them))


async def erase_student(
    *, session: AsyncSession, plan: ErasePlan, actor: str, now: datetime
) -> int:
    """Anonymise the planned student (see the module doc) in the caller's transaction; the
    number of records changed."""
    student = plan.student
    sid = student.id or 0
    changed = 0
    changed += await blank_visits(session, [sid])
    changed += await blank_incidents(session, [sid])
    changed += await blank_cases(session, [sid])
    changed += await _changed(
        session, delete(FamilyProfile).where(col(FamilyProfile.student_id) == sid)
    )
    changed += await _changed(
        session, delete(TagProposal).where(col(TagProposal.student_id) == sid)
    )
    changed += await _blank_texts(session, Flag, ("note",), sid)
    changed += await _blank_texts(session, Duty, ("reason",), sid)
    changed += await _blank_texts(session, ParentMessage, ("text", "answer"), sid)
    changed += await _blank_texts(session, NoticeQuestion, ("text", "answer"), sid)
    items = select(col(LedgerItem.id)).where(col(LedgerItem.student_id) == sid)
    await session.exec(
        update(LedgerEvent).where(col(LedgerEvent.item_id).in_(items)).values(note="")
    )
    changed += await _changed(
        session,
        update(LedgerItem)
        .where(col(LedgerItem.student_id) == sid)
        .values(description=ERASED_DESCRIPTION, escalated_to=""),
    )
    guardian_ids = [g.id for g in plan.guardians_erased if g.id is not None]
    changed += await _unbind(session, guardian_ids)
    for guardian in plan.guardians_erased:
        guardian.name = ERASED_GUARDIAN
        guardian.phone = placeholder_phone(guardian.id or 0)
        session.add(guardian)
        changed += 1
    student.name = ERASED_STUDENT
    student.student_no = placeholder_student_no(sid)
    student.tags = ""
    student.active = False
    student.left_at = student.left_at or now
    student.erased_at = now
    session.add(student)
    changed += 1
    session.add(
        RetentionRun(
            school_id=student.school_id,
            ran_at=now,
            kind="erase",
            cutoff=now,
            action=ANONYMISED,
            count=changed,
        )
    )
    await audit(
        session=session,
        actor=actor,
        action="privacy.erase",
        subject=f"student:{sid}",
        detail=f"{changed} records",
        student_id=sid,
    )
    await session.flush()
    return changed
