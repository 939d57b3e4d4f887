"""Absences and flags: the school-day rule, and recording what a teacher reports.

School days: `models.school.calendar.SchoolCalendar` (semesters and breaks, the school's days off
and make-up days, China's statutory holidays and 调休 working days).

A sick absence triggers an immediate visit once the child has missed
`rules.sick_absence_school_days` school days or more (seed 000: 因病缺课两天以上; in Chinese
rules 以上 includes the number, so the visit is due on the second school day): counted from `since` through `today` (the child is
absent today while the absence is open), and only up to the day before `back_on` once the child is
back. An unexcused absence and a flag trigger one at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.absences.tables import Absence, AbsenceKind, Flag
from models.audit.tables import audit
from models.duties.tables import Duty, DutyTrigger
from models.outbox.keys import keyed_under
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.tables import Staff, Student, Teaching
from models.school.calendar import SchoolCalendar
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import CalendarDay, GroupCoach, GroupMember, SchoolClass, Term


def school_days(first: date, last: date, calendar: SchoolCalendar) -> int:
    """How many school days there are from `first` to `last`, both included (0 if reversed)."""
    count, day = 0, first
    while day <= last:
        count += calendar.is_school_day(day)
        day += timedelta(days=1)
    return count


def days_missed(*, since: date, back_on: date | None, today: date, calendar: SchoolCalendar) -> int:
    """School days missed: from `since` through `today`, or through the day before `back_on`."""
    last = today if back_on is None else min(today, back_on - timedelta(days=1))
    return school_days(since, last, calendar)


def sick_visit_due(missed: int, rules: SchoolRules = DEFAULT_RULES) -> bool:
    """因病缺课两天以上: the rule's number of school days missed, or more (以上 includes it)."""
    return missed >= rules.sick_absence_school_days


def absence_source(absence_id: int) -> str:
    """The duty source key of an absence (`models.duties.tables.Duty.source_key`)."""
    return f"absence:{absence_id}"


def flag_source(flag_id: int) -> str:
    return f"flag:{flag_id}"


TRIGGER_OF_ABSENCE: dict[AbsenceKind, DutyTrigger] = {
    AbsenceKind.SICK: DutyTrigger.SICK_ABSENCE,
    AbsenceKind.UNEXCUSED: DutyTrigger.UNEXCUSED_ABSENCE,
}


# -- reading -----------------------------------------------------------------------------------


async def school_calendar(*, session: AsyncSession, school_id: int) -> SchoolCalendar:
    terms = await session.exec(select(Term).where(Term.school_id == school_id))
    days = await session.exec(select(CalendarDay).where(CalendarDay.school_id == school_id))
    return SchoolCalendar.from_terms(terms.all(), days.all())


async def open_absence(*, session: AsyncSession, student_id: int) -> Absence | None:
    """The student's running absence (not back yet), the latest if several."""
    query = (
        select(Absence)
        .where(Absence.student_id == student_id, col(Absence.back_on).is_(None))
        .order_by(col(Absence.since).desc(), col(Absence.id).desc())
    )
    return (await session.exec(query)).first()


async def head_teacher_of(*, session: AsyncSession, student: Student) -> int | None:
    klass = await session.get(SchoolClass, student.class_id)
    return klass.head_teacher_id if klass is not None else None


async def teaches(*, session: AsyncSession, staff_id: int, student: Student) -> bool:
    """Whether the staff member teaches the student's class or coaches a group the student is in
    (a subject teacher or coach: the "flagging teacher" who also gets the duty)."""
    taught = exists().where(
        col(Teaching.staff_id) == staff_id, col(Teaching.class_id) == student.class_id
    )
    coached = (
        exists()
        .where(col(GroupCoach.staff_id) == staff_id)
        .where(col(GroupMember.group_id) == col(GroupCoach.group_id))
        .where(col(GroupMember.student_id) == student.id)
    )
    result = await session.exec(select(taught | coached))
    return bool(result.one())


async def staff_by_id(*, session: AsyncSession, ids: Iterable[int]) -> list[Staff]:
    wanted = list(ids)
    if not wanted:
        return []
    return list((await session.exec(select(Staff).where(col(Staff.id).in_(wanted)))).all())


async def duty_teachers(
    *, session: AsyncSession, student: Student, reporter: Staff, with_reporter: bool
) -> list[int]:
    """Who must visit: the head teacher, and (when asked) the reporter if they teach the child.

    A 德育处 admin or the principal reporting from their whole-school view gets no duty.
    """
    head = await head_teacher_of(session=session, student=student)
    ids = [head] if head is not None else []
    if (
        with_reporter
        and reporter.id is not None
        and reporter.id != head
        and await teaches(session=session, staff_id=reporter.id, student=student)
    ):
        ids.append(reporter.id)
    return ids


# -- recording -------------------------------------------------------------------------------


async def _store(
    *, session: AsyncSession, row: Absence | Flag, reporter: Staff, action: str
) -> None:
    """Write `row` and its audit line `{table}.{action}` by the reporter."""
    session.add(row)
    await session.flush()
    table = "absence" if isinstance(row, Absence) else "flag"
    await audit(
        session=session,
        actor=f"staff:{reporter.id}",
        action=f"{table}.{action}",
        subject=f"{table}:{row.id}",
        student_id=row.student_id,
    )


async def record_absence(
    *,
    session: AsyncSession,
    student: Student,
    kind: AbsenceKind,
    since: date,
    reporter: Staff,
    now: datetime,
) -> Absence:
    absence = Absence(
        school_id=student.school_id,
        student_id=student.id or 0,
        kind=kind,
        since=since,
        reported_by=reporter.id or 0,
        reported_at=now,
    )
    await _store(session=session, row=absence, reporter=reporter, action="create")
    return absence


async def record_return(
    *, session: AsyncSession, absence: Absence, back_on: date, reporter: Staff
) -> None:
    absence.back_on = back_on
    await _store(session=session, row=absence, reporter=reporter, action="back")


async def record_flag(
    *,
    session: AsyncSession,
    student: Student,
    trigger: DutyTrigger,
    note: str,
    reporter: Staff,
    now: datetime,
) -> Flag:
    flag = Flag(
        school_id=student.school_id,
        student_id=student.id or 0,
        trigger=trigger,
        note=note,
        flagged_by=reporter.id or 0,
        flagged_at=now,
    )
    await _store(session=session, row=flag, reporter=reporter, action="create")
    return flag


async def withdraw_open_duties(*, session: AsyncSession, school_id: int, source_key: str) -> int:
    """Remove the school's not-yet-done duties of `source_key` and their unsent notices and
    reminders.

    Used when a child turns out to be back before a sick absence passed the threshold: the duty
    was opened in the morning for a day the child did not miss. Done duties are kept.
    """
    query = select(Duty).where(
        Duty.school_id == school_id, Duty.source_key == source_key, col(Duty.done_at).is_(None)
    )
    duties = list((await session.exec(query)).all())
    if not duties:
        return 0
    for duty in duties:
        for prefix in ("duty-new", "duty-reminder"):
            await session.exec(
                delete(OutboxMessage).where(
                    keyed_under(school_id, f"{prefix}:{duty.id}:"),
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                )
            )
    await session.exec(delete(Duty).where(col(Duty.id).in_([d.id for d in duties])))
    return len(duties)


@dataclass(frozen=True)
class SickCandidate:
    """An open sick absence past the threshold, with the head teacher who must visit."""

    absence: Absence
    student: Student
    head_teacher_id: int


async def sick_absences_past_threshold(
    *,
    session: AsyncSession,
    school_id: int,
    today: date,
    rules: SchoolRules = DEFAULT_RULES,
) -> list[SickCandidate]:
    """Open sick absences that passed the threshold and whose head teacher has no duty for
    them yet: three queries, whatever the number of absences."""
    calendar = await school_calendar(session=session, school_id=school_id)
    query = (
        select(Absence, Student, SchoolClass)
        .join(Student, col(Student.id) == col(Absence.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(Absence.school_id) == school_id,
            col(Absence.kind) == AbsenceKind.SICK,
            col(Absence.back_on).is_(None),
            col(Absence.since) <= today,
            col(Student.active).is_(True),
            col(SchoolClass.head_teacher_id).is_not(None),
        )
        .order_by(col(Absence.id))
    )
    rows = [
        (absence, student, klass.head_teacher_id or 0)
        for absence, student, klass in (await session.exec(query)).all()
        if sick_visit_due(
            days_missed(since=absence.since, back_on=None, today=today, calendar=calendar), rules
        )
    ]
    if not rows:
        return []
    keys = [absence_source(a.id or 0) for a, _, _ in rows]
    existing = await session.exec(
        select(Duty.teacher_id, Duty.source_key).where(col(Duty.source_key).in_(keys))
    )
    have = set(existing.all())
    return [
        SickCandidate(absence, student, head)
        for absence, student, head in rows
        if (head, absence_source(absence.id or 0)) not in have
    ]


def duty_due_now(kind: AbsenceKind, missed: int, rules: SchoolRules = DEFAULT_RULES) -> bool:
    """Whether an absence of `kind` with `missed` school days calls for a visit now."""
    return kind is AbsenceKind.UNEXCUSED or sick_visit_due(missed, rules)
