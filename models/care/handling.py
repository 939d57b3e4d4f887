"""What happens to a care case: it is opened (a referral, a student's own request, a guardian's
request), taken by a care worker, assessed, given a help plan, followed contact by contact with
stage summaries, and closed with the effect evaluation.

Each change after the intake is one guarded UPDATE of the case (it must still be in the status
and with the worker the person saw) and one appended `CareEntry`, in the caller's transaction:
a second press, a redelivered update or a colleague's change in between writes nothing
(`CaseChanged`). Every change is audited (`case.change`, with the student; never the content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.care.rules import (
    ENTRY_LIMIT,
    NOTICED_LIMIT,
    PLACE_LIMIT,
    PLAN_EVERY_CHOICES,
    PLAN_LIMIT,
    WHO_LIMIT,
    closing_problem,
    contact_time_problem,
)
from models.care.tables import (
    CareCase,
    CareEntry,
    CareEntryKind,
    CaseIntake,
    CaseNature,
    CaseSeverity,
    CaseStatus,
    CaseUrgency,
)
from models.text import N_

CHANGE = "case.change"
READ = "case.read"


class CaseRefused(Exception):
    """A change the care room's rules refuse; `message` is a msgid to show as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseChanged(CaseRefused):
    """The case is no longer in the state the change was made from."""

    def __init__(self) -> None:
        super().__init__(N_("这个个案刚刚已有变动，请重新查看。"))


def subject(case_id: int | None) -> str:
    """The audit log's subject for a case."""
    return f"case:{case_id}"


def _text(value: str, limit: int, *, required: str | None = None) -> str:
    text = value.strip()
    if required is not None and not text:
        raise CaseRefused(required)
    if len(text) > limit:
        raise CaseRefused(N_("内容太长，请精简后重新填写。"))
    return text


async def open_case(
    session: AsyncSession,
    *,
    school_id: int,
    student_id: int,
    intake: CaseIntake,
    urgency: CaseUrgency,
    noticed: str,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
    guardian_id: int | None = None,
) -> CareCase:
    """A new case, status 已受理, with its first chronology line (when recorded by staff)."""
    text = _text(noticed, NOTICED_LIMIT, required=N_("请写明情况，不能为空。"))
    case = CareCase(
        school_id=school_id,
        student_id=student_id,
        intake=intake,
        urgency=urgency,
        referred_by_staff_id=staff_id,
        referred_by_guardian_id=guardian_id,
        noticed=text,
        status=CaseStatus.RECEIVED,
        opened_at=now,
    )
    session.add(case)
    await session.flush()
    if staff_id is not None:
        await _entry(session, case, CareEntryKind.OPENED, by=staff_id, now=now, at=now)
    await audit(
        session=session,
        actor=actor,
        action=CHANGE,
        subject=subject(case.id),
        detail=f"opened {intake.value}",
        student_id=student_id,
    )
    return case


async def _entry(
    session: AsyncSession,
    case: CareCase,
    kind: CareEntryKind,
    *,
    by: int,
    now: datetime,
    at: datetime,
    **fields: str,
) -> None:
    values = {"place": "", "problem": "", "measures": "", "effect": "", "text": ""} | fields
    await session.exec(
        insert(CareEntry.__table__).values(  # type: ignore[attr-defined]
            school_id=case.school_id,
            case_id=case.id,
            kind=kind.value,
            at=at,
            recorded_by=by,
            recorded_at=now,
            **values,
        )
    )


async def _change(
    session: AsyncSession,
    case: CareCase,
    *,
    allowed_from: tuple[CaseStatus, ...],
    values: dict[str, Any],
    kind: CareEntryKind,
    by: int,
    now: datetime,
    at: datetime | None = None,
    **fields: str,
) -> None:
    if case.status not in allowed_from:
        raise CaseChanged()
    table = CareCase.__table__  # type: ignore[attr-defined]
    worker = table.c.worker_id
    result = await session.exec(
        update(table)
        .where(
            table.c.id == case.id,
            table.c.status == case.status.value,
            worker.is_(None) if case.worker_id is None else worker == case.worker_id,
        )
        # A summary changes nothing on the case: the guard still holds (a no-op SET).
        .values(**(values or {"status": case.status.value}))
    )
    if result.rowcount != 1:
        raise CaseChanged()
    await _entry(session, case, kind, by=by, now=now, at=at or now, **fields)
    await audit(
        session=session,
        actor=f"staff:{by}",
        action=CHANGE,
        subject=subject(case.id),
        detail=kind.value,
        student_id=case.student_id,
    )
    for name, value in values.items():
        setattr(case, name, value)
    case.status = CaseStatus(case.status)


def _must_work(case: CareCase, by: int) -> None:
    if case.worker_id != by:
        raise CaseRefused(N_("请先接手这个个案，再记录。"))


async def take(session: AsyncSession, case: CareCase, *, by: int, now: datetime) -> None:
    """`by` becomes the case's worker (from no one, or from a colleague)."""
    if case.worker_id == by:
        raise CaseRefused(N_("您已经是这个个案的跟进人。"))
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.RECEIVED, CaseStatus.FOLLOWING),
        values={"worker_id": by},
        kind=CareEntryKind.TAKEN,
        by=by,
        now=now,
    )


async def assess(
    session: AsyncSession,
    case: CareCase,
    *,
    nature: CaseNature,
    severity: CaseSeverity,
    by: int,
    now: datetime,
) -> None:
    """Set (or change) the nature and severity; the case is followed from then on."""
    _must_work(case, by)
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.RECEIVED, CaseStatus.FOLLOWING),
        values={
            "nature": nature,
            "severity": severity,
            "assessed_at": now,
            "status": CaseStatus.FOLLOWING,
        },
        kind=CareEntryKind.ASSESSED,
        by=by,
        now=now,
        text=f"{nature.value}/{severity.value}",
    )


@dataclass(frozen=True)
class Plan:
    support: str
    study: str
    daily: str
    who: str
    every_days: int


async def make_plan(
    session: AsyncSession, case: CareCase, plan: Plan, *, by: int, now: datetime
) -> None:
    """Set (or change) the help plan: at least one kind of help, who helps, how often."""
    _must_work(case, by)
    if case.status is not CaseStatus.FOLLOWING:
        raise CaseRefused(N_("请先评估个案（性质和程度），再制定帮扶计划。"))
    parts = [_text(p, PLAN_LIMIT) for p in (plan.support, plan.study, plan.daily)]
    if not any(parts):
        raise CaseRefused(N_("帮扶计划至少要写一项帮扶内容。"))
    who = _text(plan.who, WHO_LIMIT, required=N_("请写明由谁帮扶。"))
    if plan.every_days not in PLAN_EVERY_CHOICES:
        raise CaseRefused(N_("请选择联系间隔。"))
    support, study, daily = parts
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.FOLLOWING,),
        values={
            "plan_support": support,
            "plan_study": study,
            "plan_daily": daily,
            "plan_who": who,
            "plan_every_days": plan.every_days,
        },
        kind=CareEntryKind.PLANNED,
        by=by,
        now=now,
        problem=support,
        measures=study,
        effect=daily,
        place=who,
        text=str(plan.every_days),
    )


@dataclass(frozen=True)
class Contact:
    at: datetime
    place: str
    problem: str
    measures: str
    effect: str


async def add_contact(
    session: AsyncSession, case: CareCase, contact: Contact, *, by: int, now: datetime
) -> None:
    """A contact (辅导记录): when (not in the future), where, the problem, measures, effect."""
    _must_work(case, by)
    problem = contact_time_problem(contact.at, now)
    if problem is not None:
        raise CaseRefused(problem)
    place = _text(contact.place, PLACE_LIMIT, required=N_("请写明辅导地点。"))
    text = _text(contact.problem, ENTRY_LIMIT, required=N_("请写明这次辅导的问题。"))
    measures = _text(contact.measures, ENTRY_LIMIT, required=N_("请写明采取的措施。"))
    effect = _text(contact.effect, ENTRY_LIMIT, required=N_("请写明效果。"))
    latest = contact.at if case.last_contact_at is None else max(case.last_contact_at, contact.at)
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.RECEIVED, CaseStatus.FOLLOWING),
        values={"last_contact_at": latest},
        kind=CareEntryKind.CONTACT,
        by=by,
        now=now,
        at=contact.at,
        place=place,
        problem=text,
        measures=measures,
        effect=effect,
    )


async def add_summary(
    session: AsyncSession, case: CareCase, text: str, *, by: int, now: datetime
) -> None:
    """A stage summary (阶段小结)."""
    _must_work(case, by)
    summary = _text(text, ENTRY_LIMIT, required=N_("阶段小结不能为空。"))
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.RECEIVED, CaseStatus.FOLLOWING),
        values={},
        kind=CareEntryKind.SUMMARY,
        by=by,
        now=now,
        text=summary,
    )


async def close(
    session: AsyncSession,
    case: CareCase,
    *,
    student: str,
    teacher: str,
    parents: str,
    by: int,
    now: datetime,
) -> None:
    """Close the case with its effect evaluation. Nothing closes without all three."""
    _must_work(case, by)
    problem = closing_problem(student, teacher, parents)
    if problem is not None:
        raise CaseRefused(problem)
    if case.status is CaseStatus.CLOSED:
        raise CaseRefused(N_("这个个案已经结案。"))
    if case.status is not CaseStatus.FOLLOWING:
        raise CaseRefused(N_("请先评估个案，再结案。"))
    values = {
        "eval_student": _text(student, ENTRY_LIMIT),
        "eval_teacher": _text(teacher, ENTRY_LIMIT),
        "eval_parents": _text(parents, ENTRY_LIMIT),
        "status": CaseStatus.CLOSED,
        "closed_at": now,
    }
    await _change(
        session,
        case,
        allowed_from=(CaseStatus.FOLLOWING,),
        values=values,
        kind=CareEntryKind.CLOSED,
        by=by,
        now=now,
    )
