"""Queries and commands on urgent incidents (`models.incidents.tables`) and their history.

Every change that may race (two guardians pressing 已知悉, two teachers pressing 已电话联系, two
job runs announcing "guardian not reached") is one guarded UPDATE: the first writer wins, the
others change nothing and are told so. Every change is also a line of the incident's history
(`IncidentEvent`), written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from models.incidents.tables import Incident, IncidentEvent, IncidentKind
from models.ledger.queries import record_item
from models.ledger.tables import LedgerSource
from models.roster.scope import has_whole_school_scope
from models.roster.tables import Guardian, Staff, Student, StudentGuardian
from models.school.tables import SchoolClass


class Event(StrEnum):
    """What an `IncidentEvent` records (its `event` column)."""

    REPORTED = "reported"
    #: detail: how many guardians were sent the message.
    GUARDIANS_NOTIFIED = "guardians_notified"
    #: One per guardian with no bound account; detail: the guardian's id.
    GUARDIAN_NOT_NOTIFIED = "guardian_not_notified"
    #: detail: how many staff members were alerted.
    STAFF_ALERTED = "staff_alerted"
    #: detail: the head teacher's staff id.
    DUTY_CREATED = "duty_created"
    #: The student's class has no head teacher: nobody to give the duty to.
    NO_HEAD_TEACHER = "no_head_teacher"
    ACKNOWLEDGED = "acknowledged"
    #: detail: the timeout in minutes.
    NOT_REACHED = "not_reached"
    PHONED = "phoned"


@dataclass(frozen=True)
class IncidentView:
    """An incident with the student, their class and the class's head teacher (if any)."""

    incident: Incident
    student: Student
    klass: SchoolClass

    @property
    def head_teacher_id(self) -> int | None:
        return self.klass.head_teacher_id


@dataclass(frozen=True)
class Contact:
    """A guardian of the student as the roster has them."""

    guardian: Guardian
    relation: str


async def create_incident(
    *,
    session: AsyncSession,
    school_id: int,
    student_id: int,
    reporter_id: int,
    kind: IncidentKind,
    what: str,
    where_now: str,
    photo_ref: str,
    photo_channel: str,
    now: datetime,
) -> Incident:
    """Store the incident, the first line of its history and its item in the problem ledger."""
    incident = Incident(
        school_id=school_id,
        student_id=student_id,
        reporter_id=reporter_id,
        kind=kind,
        what=what,
        where_now=where_now,
        photo_ref=photo_ref,
        photo_channel=photo_channel if photo_ref else "",
        reported_at=now,
    )
    session.add(incident)
    await session.flush()
    await record(
        session=session,
        incident_id=incident.id or 0,
        at=now,
        event=Event.REPORTED,
        actor=f"staff:{reporter_id}",
    )
    await record_item(
        session,
        school_id=school_id,
        source=LedgerSource.INCIDENT,
        source_id=incident.id,
        student_id=student_id,
        description=what,
        recorded_by=reporter_id,
        now=now,
    )
    return incident


async def record(
    *,
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    event: Event,
    actor: str = "system",
    detail: str = "",
) -> None:
    """Add one line to the incident's history."""
    session.add(
        IncidentEvent(
            incident_id=incident_id, at=at, event=event.value, actor=actor, detail=detail[:500]
        )
    )
    await session.flush()


def _views() -> Select[Incident, Student, SchoolClass]:
    return (
        select(Incident, Student, SchoolClass)
        .join(Student, col(Student.id) == col(Incident.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
    )


async def incident_view(
    *, session: AsyncSession, school_id: int, incident_id: int
) -> IncidentView | None:
    """The incident of this school with its student and class; None for a foreign or forged id."""
    query = _views().where(col(Incident.id) == incident_id, col(Incident.school_id) == school_id)
    row = (await session.exec(query)).first()
    return IncidentView(*row) if row is not None else None


async def contacts_of(*, session: AsyncSession, student_id: int) -> list[Contact]:
    """The student's guardians from the roster, in roster order."""
    query = (
        select(Guardian, StudentGuardian)
        .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
        .where(col(StudentGuardian.student_id) == student_id)
        .order_by(col(StudentGuardian.position), col(Guardian.id))
    )
    return [Contact(g, link.relation) for g, link in (await session.exec(query)).all()]


async def contacts_of_students(
    *, session: AsyncSession, student_ids: list[int]
) -> dict[int, list[Contact]]:
    """`contacts_of` for several students in one query."""
    if not student_ids:
        return {}
    query = (
        select(Guardian, StudentGuardian)
        .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
        .where(col(StudentGuardian.student_id).in_(student_ids))
        .order_by(col(StudentGuardian.position), col(Guardian.id))
    )
    found: dict[int, list[Contact]] = {i: [] for i in student_ids}
    for guardian, link in (await session.exec(query)).all():
        found[link.student_id].append(Contact(guardian, link.relation))
    return found


async def is_guardian_of(*, session: AsyncSession, guardian_id: int, student_id: int) -> bool:
    query = select(StudentGuardian).where(
        col(StudentGuardian.guardian_id) == guardian_id,
        col(StudentGuardian.student_id) == student_id,
    )
    return (await session.exec(query)).first() is not None


def may_follow(staff: Staff, view: IncidentView) -> bool:
    """Who was alerted and may see the history and record a phone call: the reporter, the
    student's head teacher, and 德育处 / the principal."""
    return (
        staff.school_id == view.incident.school_id
        and staff.active
        and (
            staff.id in (view.incident.reporter_id, view.head_teacher_id)
            or has_whole_school_scope(staff)
        )
    )


# -- guarded changes -------------------------------------------------------------------------


async def _first_answer(
    *,
    session: AsyncSession,
    incident: Incident,
    at_field: str,
    by_field: str,
    by: int,
    now: datetime,
    event: Event,
    actor: str,
) -> bool:
    """Set `at_field` to now and `by_field` to `by` if nobody did before (one guarded UPDATE),
    with its history line; False, and the incident reloaded, if someone was first."""
    statement = (
        update(Incident)
        .where(col(Incident.id) == incident.id, col(getattr(Incident, at_field)).is_(None))
        .values({at_field: now, by_field: by})
    )
    if (await session.exec(statement)).rowcount != 1:
        await session.refresh(incident)
        return False
    setattr(incident, at_field, now)
    setattr(incident, by_field, by)
    await record(session=session, incident_id=incident.id or 0, at=now, event=event, actor=actor)
    return True


async def acknowledge(
    *, session: AsyncSession, incident: Incident, guardian_id: int, now: datetime
) -> bool:
    """Record the first 已知悉 (and its history line); False if someone acknowledged before."""
    return await _first_answer(
        session=session,
        incident=incident,
        at_field="acknowledged_at",
        by_field="acknowledged_by",
        by=guardian_id,
        now=now,
        event=Event.ACKNOWLEDGED,
        actor=f"guardian:{guardian_id}",
    )


async def record_phoned(
    *, session: AsyncSession, incident: Incident, staff_id: int, now: datetime
) -> bool:
    """Record the first 已电话联系 (and its history line); False if recorded before."""
    return await _first_answer(
        session=session,
        incident=incident,
        at_field="phoned_at",
        by_field="phoned_by",
        by=staff_id,
        now=now,
        event=Event.PHONED,
        actor=f"staff:{staff_id}",
    )


async def mark_not_reached(
    *, session: AsyncSession, incident: Incident, now: datetime, minutes: int
) -> bool:
    """Claim the "guardian not reached" announcement; False if it was made before (or the family
    acknowledged or was phoned in the meantime)."""
    statement = (
        update(Incident)
        .where(
            col(Incident.id) == incident.id,
            col(Incident.not_reached_at).is_(None),
            col(Incident.acknowledged_at).is_(None),
            col(Incident.phoned_at).is_(None),
        )
        .values(not_reached_at=now)
    )
    if (await session.exec(statement)).rowcount != 1:
        return False
    incident.not_reached_at = now
    await record(
        session=session,
        incident_id=incident.id or 0,
        at=now,
        event=Event.NOT_REACHED,
        detail=str(minutes),
    )
    return True


# -- lists -----------------------------------------------------------------------------------


async def awaiting_acknowledgement(
    *, session: AsyncSession, school_id: int, reported_before: datetime
) -> list[IncidentView]:
    """Incidents reported at or before `reported_before` that no guardian acknowledged, nobody
    phoned about, and that were not yet announced as "not reached" (the timeout job's list)."""
    query = (
        _views()
        .where(
            col(Incident.school_id) == school_id,
            col(Incident.reported_at) <= reported_before,
            col(Incident.acknowledged_at).is_(None),
            col(Incident.not_reached_at).is_(None),
            col(Incident.phoned_at).is_(None),
        )
        .order_by(col(Incident.reported_at), col(Incident.id))
    )
    return [IncidentView(*row) for row in (await session.exec(query)).all()]


async def open_incidents_not_reached(
    *, session: AsyncSession, school_id: int
) -> list[IncidentView]:
    """Incidents shown as "guardian not reached" 家长未联系上: staff were told to phone, and
    neither a guardian's 已知悉 nor a recorded phone call has come since. One query; oldest first.
    """
    query = (
        _views()
        .where(
            col(Incident.school_id) == school_id,
            col(Incident.not_reached_at).is_not(None),
            col(Incident.acknowledged_at).is_(None),
            col(Incident.phoned_at).is_(None),
        )
        .order_by(col(Incident.reported_at), col(Incident.id))
    )
    return [IncidentView(*row) for row in (await session.exec(query)).all()]


async def history(*, session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    """The incident's events in the order they happened."""
    query = (
        select(IncidentEvent)
        .where(col(IncidentEvent.incident_id) == incident_id)
        .order_by(col(IncidentEvent.at), col(IncidentEvent.id))
    )
    return list((await session.exec(query)).all())


async def names_of(
    *, session: AsyncSession, staff_ids: set[int], guardian_ids: set[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Names for staff and guardian ids (two queries at most)."""
    staff: dict[int, str] = {}
    guardians: dict[int, str] = {}
    if staff_ids:
        rows = await session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))
        staff = {s.id or 0: s.name for s in rows.all()}
    if guardian_ids:
        rows2 = await session.exec(select(Guardian).where(col(Guardian.id).in_(guardian_ids)))
        guardians = {g.id or 0: g.name for g in rows2.all()}
    return staff, guardians


async def latest_unacknowledged_of_guardian(
    *, session: AsyncSession, guardian_id: int, since: datetime
) -> Incident | None:
    """The latest incident since `since` about a child of this guardian that no one acknowledged
    (for a typed 已知悉 on channels without buttons)."""
    query = (
        select(Incident)
        .join(StudentGuardian, col(StudentGuardian.student_id) == col(Incident.student_id))
        .where(
            col(StudentGuardian.guardian_id) == guardian_id,
            col(Incident.reported_at) >= since,
            col(Incident.acknowledged_at).is_(None),
        )
        .order_by(col(Incident.reported_at).desc(), col(Incident.id).desc())
    )
    return (await session.exec(query)).first()


async def latest_not_reached_for(*, session: AsyncSession, staff: Staff) -> IncidentView | None:
    """The latest "guardian not reached" incident this staff member was asked to phone about
    (reporter or head teacher), for a typed 已电话联系 on channels without buttons."""
    query = (
        _views()
        .where(
            col(Incident.school_id) == staff.school_id,
            col(Incident.not_reached_at).is_not(None),
            col(Incident.acknowledged_at).is_(None),
            col(Incident.phoned_at).is_(None),
            or_(
                col(Incident.reporter_id) == staff.id,
                col(SchoolClass.head_teacher_id) == staff.id,
            ),
        )
        .order_by(col(Incident.reported_at).desc(), col(Incident.id).desc())
    )
    row = (await session.exec(query)).first()
    return IncidentView(*row) if row is not None else None
