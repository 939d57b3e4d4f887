"""Parent meetings and the parent committee: reading and writing, in the caller's transaction.

Status changes are guarded UPDATEs (`… WHERE id = ? AND status = 'planned'`), so two presses of
结束会议 or 取消会议 change a meeting once. The families of a meeting are its notice's receipts
(one per student of the audience): their answers are `NoticeReceipt.answer`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.meetings.tables import (
    CommitteeMember,
    Meeting,
    MeetingAttendance,
    MeetingKind,
    MeetingStatus,
    MinutesKind,
)
from models.notices.tables import Notice, NoticeReceipt, NoticeStatus
from models.roster.tables import Guardian, Student, StudentGuardian
from models.school.tables import SchoolClass


class MeetingError(Exception):
    """A meeting cannot be changed that way."""


class MinutesRequired(MeetingError):
    """A committee meeting is not closed without minutes."""


# -- the committee ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitteeEntry:
    member: CommitteeMember
    guardian: Guardian
    student: Student
    klass: SchoolClass
    relation: str


async def committee_members(*, session: AsyncSession, school_id: int) -> list[CommitteeEntry]:
    """The committee, in class order (two queries)."""
    query = (
        select(CommitteeMember, Guardian, Student, SchoolClass)
        .join(Guardian, col(Guardian.id) == col(CommitteeMember.guardian_id))
        .join(Student, col(Student.id) == col(CommitteeMember.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(CommitteeMember.school_id == school_id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    rows = list((await session.exec(query)).all())
    links = await session.exec(
        select(StudentGuardian).where(
            col(StudentGuardian.guardian_id).in_([m.guardian_id for m, *_ in rows])
        )
    )
    relation = {(link.student_id, link.guardian_id): link.relation for link in links.all()}
    return [
        CommitteeEntry(m, g, s, k, relation.get((m.student_id, m.guardian_id), ""))
        for m, g, s, k in rows
    ]


async def student_by_number(
    *, session: AsyncSession, school_id: int, student_no: str
) -> tuple[Student, SchoolClass] | None:
    """An active student by 学号, with their class."""
    query = (
        select(Student, SchoolClass)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            Student.school_id == school_id,
            Student.student_no == student_no.strip(),
            col(Student.active),
        )
    )
    row = (await session.exec(query)).first()
    return (row[0], row[1]) if row else None


async def guardians_of(
    *, session: AsyncSession, student_id: int
) -> list[tuple[Guardian, StudentGuardian]]:
    query = (
        select(Guardian, StudentGuardian)
        .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
        .where(StudentGuardian.student_id == student_id)
        .order_by(col(StudentGuardian.position), col(Guardian.id))
    )
    return [(g, link) for g, link in (await session.exec(query)).all()]


async def add_member(
    *,
    session: AsyncSession,
    school_id: int,
    guardian_id: int,
    student_id: int,
    by: int,
    now: datetime,
) -> CommitteeMember | None:
    """Add the guardian to the committee; None when they already are on it."""
    found = await session.exec(
        select(CommitteeMember).where(
            CommitteeMember.school_id == school_id, CommitteeMember.guardian_id == guardian_id
        )
    )
    if found.first() is not None:
        return None
    member = CommitteeMember(
        school_id=school_id,
        guardian_id=guardian_id,
        student_id=student_id,
        added_by=by,
        added_at=now,
    )
    session.add(member)
    await session.flush()
    await audit(
        session=session,
        actor=f"staff:{by}",
        action="committee.add",
        subject=f"guardian:{guardian_id}",
        student_id=student_id,
    )
    return member


async def remove_member(*, session: AsyncSession, school_id: int, member_id: int, by: int) -> bool:
    """Take a member off the committee; False when there was no such member."""
    member = await session.get(CommitteeMember, member_id)
    if member is None or member.school_id != school_id:
        return False
    guardian_id, student_id = member.guardian_id, member.student_id
    table: Table = CommitteeMember.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        delete(table).where(table.c["id"] == member_id, table.c["school_id"] == school_id)
    )
    if not getattr(result, "rowcount", 0):
        return False
    await audit(
        session=session,
        actor=f"staff:{by}",
        action="committee.remove",
        subject=f"guardian:{guardian_id}",
        student_id=student_id,
    )
    return True


async def members_among(
    *, session: AsyncSession, school_id: int, guardian_ids: Collection[int]
) -> list[CommitteeMember]:
    """The committee members among these guardians (a student's parents), by id."""
    query = (
        select(CommitteeMember)
        .where(
            CommitteeMember.school_id == school_id,
            col(CommitteeMember.guardian_id).in_(list(guardian_ids)),
        )
        .order_by(col(CommitteeMember.id))
    )
    return list((await session.exec(query)).all())


async def committee_student_ids(*, session: AsyncSession, school_id: int) -> list[int]:
    """The active students through whom the committee's members belong (the audience of a
    committee meeting), each once."""
    query = (
        select(col(CommitteeMember.student_id))
        .join(Student, col(Student.id) == col(CommitteeMember.student_id))
        .where(CommitteeMember.school_id == school_id, col(Student.active))
        .order_by(col(CommitteeMember.student_id))
    )
    return sorted(set((await session.exec(query)).all()))


# -- meetings -----------------------------------------------------------------------------------


async def get_meeting(*, session: AsyncSession, school_id: int, meeting_id: int) -> Meeting | None:
    """The meeting if it belongs to the school (ids in callback data can be forged)."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.school_id != school_id:
        return None
    await session.refresh(meeting)
    return meeting


async def meeting_of_notice(*, session: AsyncSession, notice_id: int) -> Meeting | None:
    found = await session.exec(select(Meeting).where(Meeting.notice_id == notice_id))
    return found.first()


async def open_meetings(
    *, session: AsyncSession, school_id: int, staff_id: int, whole_school: bool
) -> list[tuple[Meeting, Notice | None]]:
    """The meetings still to hold or to record (planned), earliest first: the school's for
    德育处 and the principal, else those the person organises or of the classes they head."""
    query = (
        select(Meeting, Notice)
        .join(Notice, col(Notice.id) == col(Meeting.notice_id), isouter=True)
        .where(Meeting.school_id == school_id, Meeting.status == MeetingStatus.PLANNED)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    )
    if not whole_school:
        headed = select(col(SchoolClass.id)).where(col(SchoolClass.head_teacher_id) == staff_id)
        query = query.where(
            or_(col(Meeting.organiser_id) == staff_id, col(Meeting.class_id).in_(headed))
        )
    return [(m, n) for m, n in (await session.exec(query)).all()]


@dataclass(frozen=True)
class FamilyReply:
    """One student's family in a meeting's audience: their answer and whether they came."""

    student: Student
    klass: SchoolClass
    #: `ReceiptAnswer` value, or "" (no answer).
    answer: str
    answered: bool
    #: None until attendance is recorded.
    attended: bool | None


async def meeting_families(*, session: AsyncSession, meeting: Meeting) -> list[FamilyReply]:
    """The families invited (the notice's receipts, so none before it is published), in class
    order, with their answers and attendance (one query)."""
    if meeting.notice_id is None:
        return []
    query = (
        select(NoticeReceipt, Student, SchoolClass, MeetingAttendance)
        .join(Student, col(Student.id) == col(NoticeReceipt.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(NoticeReceipt.class_id))
        .join(
            MeetingAttendance,
            (col(MeetingAttendance.student_id) == col(NoticeReceipt.student_id))
            & (col(MeetingAttendance.meeting_id) == meeting.id),
            isouter=True,
        )
        .where(NoticeReceipt.notice_id == meeting.notice_id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    return [
        FamilyReply(
            student,
            klass,
            receipt.answer,
            receipt.confirmed_at is not None,
            attendance.attended if attendance is not None else None,
        )
        for receipt, student, klass, attendance in (await session.exec(query)).all()
    ]


async def create_meeting(
    *,
    session: AsyncSession,
    school_id: int,
    kind: MeetingKind,
    class_id: int | None,
    organiser_id: int,
    title: str,
    starts_at: datetime,
    place: str,
    agenda: str,
    notice_id: int,
    now: datetime,
) -> Meeting:
    meeting = Meeting(
        school_id=school_id,
        kind=kind,
        class_id=class_id,
        organiser_id=organiser_id,
        title=title,
        starts_at=starts_at,
        place=place,
        agenda=agenda,
        notice_id=notice_id,
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def save_attendance(
    *, session: AsyncSession, meeting: Meeting, present: Collection[int], by: int, now: datetime
) -> int:
    """Record who came: one row per family of the audience (replacing an earlier record);
    returns the families present. Ids outside the audience are ignored."""
    families = await meeting_families(session=session, meeting=meeting)
    table: Table = MeetingAttendance.__table__  # type: ignore[attr-defined]
    await session.exec(delete(table).where(table.c["meeting_id"] == meeting.id))
    wanted = set(present)
    came = 0
    for family in families:
        attended = family.student.id in wanted
        came += attended
        session.add(
            MeetingAttendance(
                meeting_id=meeting.id or 0,
                student_id=family.student.id or 0,
                attended=attended,
                recorded_by=by,
                recorded_at=now,
            )
        )
    meeting.attendance_at = now
    session.add(meeting)
    await session.flush()
    return came


async def save_minutes(
    *,
    session: AsyncSession,
    meeting: Meeting,
    kind: MinutesKind,
    now: datetime,
    text: str = "",
    channel: str = "",
    file_ref: str = "",
    filename: str = "",
) -> Meeting:
    """The minutes: text, or a photo or document kept as the channel's own file reference (a
    new upload replaces the last)."""
    meeting.minutes_kind = kind.value
    meeting.minutes_text = text
    meeting.minutes_channel = channel if kind is not MinutesKind.TEXT else ""
    meeting.minutes_file_ref = file_ref if kind is not MinutesKind.TEXT else ""
    meeting.minutes_filename = filename[:100]
    meeting.minutes_at = now
    session.add(meeting)
    await session.flush()
    return meeting


async def _move(session: AsyncSession, meeting_id: int, values: dict[str, object]) -> bool:
    table: Table = Meeting.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        update(table)
        .where(table.c["id"] == meeting_id, table.c["status"] == MeetingStatus.PLANNED.value)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def close_meeting(*, session: AsyncSession, meeting: Meeting, now: datetime) -> bool:
    """结束会议: planned → held; False if it was not planned any more. `MinutesRequired` for a
    committee meeting without minutes (nothing changes)."""
    if meeting.kind is MeetingKind.COMMITTEE and not meeting.has_minutes:
        raise MinutesRequired(f"meeting {meeting.id} has no minutes")
    moved = await _move(
        session, meeting.id or 0, {"status": MeetingStatus.HELD.value, "held_at": now}
    )
    if moved:
        await session.refresh(meeting)
    return moved


async def cancel_meeting(*, session: AsyncSession, meeting: Meeting, now: datetime) -> bool:
    """取消会议: planned → cancelled; its notice, if still waiting for approval, is withdrawn
    (returned, reason 会议已取消) and, if published, archived (no more reminders). False if the
    meeting was not planned any more."""
    moved = await _move(
        session, meeting.id or 0, {"status": MeetingStatus.CANCELLED.value, "cancelled_at": now}
    )
    if not moved:
        return False
    await session.refresh(meeting)
    notice = await session.get(Notice, meeting.notice_id) if meeting.notice_id else None
    if notice is None:
        return True
    table: Table = Notice.__table__  # type: ignore[attr-defined]
    withdrawn = {
        "status": NoticeStatus.RETURNED.value,
        "returned_at": now,
        "returned_by": meeting.organiser_id,
        "return_reason": "会议已取消",
    }
    for before, values in (
        (NoticeStatus.PENDING, withdrawn),
        (NoticeStatus.APPROVED, withdrawn),
        (NoticeStatus.PUBLISHED, {"status": NoticeStatus.ARCHIVED.value, "archived_at": now}),
    ):
        await session.exec(
            update(table)
            .where(table.c["id"] == notice.id, table.c["status"] == before.value)
            .values(**values)
        )
    await session.refresh(notice)
    return True


# -- a semester's meetings ----------------------------------------------------------------------


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of `first` to the start of the day after `last`, in the school's zone."""
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone),
    )


async def meetings_between(
    *, session: AsyncSession, school_id: int, first: date, last: date, zone: ZoneInfo
) -> list[tuple[Meeting, Notice | None]]:
    """Every meeting starting between the two days (inclusive), earliest first, with its
    notice."""
    start, end = day_bounds(first, last, zone)
    query = (
        select(Meeting, Notice)
        .join(Notice, col(Notice.id) == col(Meeting.notice_id), isouter=True)
        .where(
            Meeting.school_id == school_id,
            col(Meeting.starts_at) >= start,
            col(Meeting.starts_at) < end,
        )
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    )
    return [(m, n) for m, n in (await session.exec(query)).all()]


def counts(meeting: Meeting, notice: Notice | None) -> bool:
    """Whether a meeting counts as planned: not cancelled, and its notice not sent back."""
    if meeting.status is MeetingStatus.CANCELLED:
        return False
    return notice is None or notice.status is not NoticeStatus.RETURNED
