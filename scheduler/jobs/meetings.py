"""The parent-meeting rule at the semester's midpoint (`meeting_midpoint_check`, daily at
`rules.meeting_check_time`; DOMAIN.md: two parent meetings per class and one committee meeting
per semester).

From the semester's midpoint (`models.quota.rules.semester_midpoint`) to its end, each run
counts the meetings planned in the semester (not cancelled, their notice not sent back): a class
with fewer than `rules.meetings_per_class_semester` reminds its head teacher, and fewer than
`rules.committee_meetings_semester` committee meetings remind 德育处. The keys carry the
semester's id (`meeting-midpoint:{term}:class:{class}`, `meeting-midpoint:{term}:committee`,
then `:staff:{id}:{channel}`), so the first run on or after the midpoint sends and every later
run of that semester — the next day, a re-run of the slot — queues nothing. A class that plans
its meetings after being reminded is not reminded again.
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers.i18n import Translator
from handlers.notify import Render, notify_keyed, notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.meetings.queries import counts, meetings_between
from models.meetings.rules import check_due, classes_short
from models.meetings.tables import MeetingKind
from models.quota.rules import semester_midpoint, semester_on
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.calendar_store import stored_calendar
from models.school.tables import SchoolClass
from scheduler.base import Job, JobContext, daily_at

KIND = "meeting_midpoint"


async def meeting_midpoint_check(jc: JobContext) -> int:
    school_id = jc.school.id or 0
    calendar = await stored_calendar(session=jc.session, school_id=school_id)
    term = semester_on(jc.today, calendar.terms)
    if term is None or not check_due(jc.today, semester_midpoint(term), term.end_date):
        return 0
    found = await meetings_between(
        session=jc.session,
        school_id=school_id,
        first=term.start_date,
        last=term.end_date,
        zone=jc.zone,
    )
    planned: dict[int, int] = {}
    committee = 0
    for meeting, notice in found:
        if not counts(meeting, notice):
            continue
        if meeting.kind is MeetingKind.CLASS and meeting.class_id is not None:
            planned[meeting.class_id] = planned.get(meeting.class_id, 0) + 1
        elif meeting.kind is MeetingKind.COMMITTEE:
            committee += 1
    classes = {
        k.id or 0: k
        for k in (
            await jc.session.exec(
                select(SchoolClass)
                .where(SchoolClass.school_id == school_id)
                .order_by(col(SchoolClass.grade), col(SchoolClass.number))
            )
        ).all()
    }
    required = jc.rules.meetings_per_class_semester

    def render(klass: SchoolClass, done: int) -> Render:
        return lambda t: Reply(
            t._(
                "【家长会提醒】本学期已过半，{klass}已安排 {done} 次家长会，"
                "每学期应开 {required} 次。请发送 /meeting 安排。"
            ).format(klass=klass.name, done=done, required=required)
        )

    # Every short class's head teacher in one go (one account read, one insert).
    reminders = [
        (
            (PersonKind.STAFF, klass.head_teacher_id),
            f"meeting-midpoint:{term.id}:class:{class_id}",
            render(klass, planned.get(class_id, 0)),
        )
        for class_id in classes_short(classes, planned, required)
        if (klass := classes[class_id]).head_teacher_id is not None
    ]
    notified = await notify_keyed(
        session=jc.session, school_id=school_id, items=reminders, kind=KIND, due_at=jc.now
    )
    queued = notified.queued
    wanted = jc.rules.committee_meetings_semester
    if committee < wanted:
        admins = await staff_with_role(
            session=jc.session, school_id=school_id, role=StaffRole.ADMIN
        )

        def render_committee(t: Translator) -> Reply:
            return Reply(
                t._(
                    "【家委会提醒】本学期已过半，已安排 {done} 次家长委员会会议，每学期应开 "
                    "{required} 次（会后须上传纪要）。请发送 /meeting 安排。"
                ).format(done=committee, required=wanted)
            )

        notified = await notify_people(
            session=jc.session,
            school_id=school_id,
            people=[(PersonKind.STAFF, s.id or 0) for s in admins],
            key=f"meeting-midpoint:{term.id}:committee",
            kind=KIND,
            render=render_committee,
            due_at=jc.now,
        )
        queued += notified.queued
    return queued


MEETING_MIDPOINT_CHECK = Job(
    name="meeting_midpoint_check",
    func=meeting_midpoint_check,
    schedule=daily_at(lambda rules: rules.meeting_check_time),
    describe="学期过半：家长会不足的班级提醒班主任，家委会会议不足提醒德育处（每学期一次）",
)
