"""What a meeting tells others: the class's subject teachers when its notice is published
(once: key `meeting-teachers:{meeting id}`), and the families when it is cancelled after its
notice went out (once: key `meeting-cancelled:{meeting id}`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator
from handlers.notice.render import format_moment
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.meetings.queries import meeting_families, meeting_of_notice
from models.meetings.tables import Meeting, MeetingKind
from models.notices.publishing import families_of
from models.notices.tables import Notice, NoticeKind
from models.roster.tables import Teaching
from models.school.rules import SchoolRules, next_waking_moment
from models.school.tables import SchoolClass

TEACHERS_KIND = "meeting_teachers"
CANCELLED_KIND = "meeting_cancelled"


async def subject_teachers(*, session: AsyncSession, meeting: Meeting) -> list[int]:
    """The staff teaching the meeting's class (its organiser left out), each once."""
    if meeting.class_id is None:
        return []
    query = select(col(Teaching.staff_id)).where(Teaching.class_id == meeting.class_id)
    ids = set((await session.exec(query)).all())
    ids.discard(meeting.organiser_id)
    return sorted(ids)


async def tell_teachers(
    *, session: AsyncSession, notice: Notice, now: datetime, zone: ZoneInfo, rules: SchoolRules
) -> int:
    """A class meeting's notice was published: every subject teacher of the class is told the
    time, place and agenda (they meet the parents there), once; returns the rows queued."""
    if notice.kind is not NoticeKind.MEETING:
        return 0
    meeting = await meeting_of_notice(session=session, notice_id=notice.id or 0)
    if meeting is None or meeting.kind is not MeetingKind.CLASS:
        return 0
    teachers = await subject_teachers(session=session, meeting=meeting)
    klass = await session.get(SchoolClass, meeting.class_id) if meeting.class_id else None
    name = klass.name if klass is not None else ""

    def render(t: Translator) -> Reply:
        return Reply(
            t._(
                "【家长会】{klass}家长会定于 {time} 在{place}召开。您是这个班的任课教师，"
                "请参加并与家长交流。\n议程：{agenda}"
            ).format(
                klass=name,
                time=format_moment(t, meeting.starts_at, zone),
                place=meeting.place,
                agenda=meeting.agenda,
            )
        )

    notified = await notify_people(
        session=session,
        school_id=meeting.school_id,
        people=[(PersonKind.STAFF, i) for i in teachers],
        key=f"meeting-teachers:{meeting.id}",
        kind=TEACHERS_KIND,
        render=render,
        due_at=next_waking_moment(now, zone=zone, rules=rules),
    )
    return notified.queued


async def tell_cancelled(
    *,
    session: AsyncSession,
    meeting: Meeting,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
) -> int:
    """The families invited (the notice's receipts) and the subject teachers are told the
    meeting is cancelled, once; returns the rows queued."""
    families = await meeting_families(session=session, meeting=meeting)
    pupils = [(f.student, f.klass) for f in families]
    guardians = [f.guardian.id or 0 for f in await families_of(session=session, pupils=pupils)]
    teachers = await subject_teachers(session=session, meeting=meeting) if families else []

    def render(t: Translator) -> Reply:
        return Reply(
            t._(
                "【会议取消】原定于 {time} 在{place}召开的会议《{title}》已取消，敬请谅解。"
            ).format(
                time=format_moment(t, meeting.starts_at, zone),
                place=meeting.place,
                title=meeting.title,
            )
        )

    due = next_waking_moment(now, zone=zone, rules=rules)
    queued = 0
    for people, key in (
        ([(PersonKind.GUARDIAN, g) for g in guardians], f"meeting-cancelled:{meeting.id}"),
        ([(PersonKind.STAFF, s) for s in teachers], f"meeting-cancelled:{meeting.id}:teachers"),
    ):
        notified = await notify_people(
            session=session,
            school_id=meeting.school_id,
            people=people,
            key=key,
            kind=CANCELLED_KIND,
            render=render,
            due_at=due,
        )
        queued += notified.queued
    return queued
