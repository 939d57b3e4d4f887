"""The semester-midpoint rule of parent meetings: from the midpoint, a class with fewer than two
meetings planned reminds its head teacher and no committee meeting reminds 德育处 — once per
semester, however often the job runs; cancelled meetings do not count."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.db.engine import Database
from models.meetings.tables import Meeting, MeetingKind, MeetingStatus
from models.school.rules import DEFAULT_RULES
from models.school.tables import Term, TermKind
from scheduler.base import JobContext
from scheduler.jobs.meetings import meeting_midpoint_check
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.notices import ZONE
from tests.helpers.outbox import outbox, reply_of

#: The autumn semester: 1 September 2026 to 20 January 2027, its midpoint 10 November.
START, END = date(2026, 9, 1), date(2027, 1, 20)


async def _school(db: Database, clock: FakeClock) -> TestSchool:
    ts = await seed_school(db)
    async with db.session() as session:
        session.add(
            Term(
                school_id=ts.school.id or 0,
                kind=TermKind.SEMESTER,
                name="秋季学期",
                start_date=START,
                end_date=END,
            )
        )
    for name in ("王芳", "李强", "孙丽", "赵敏"):
        await bind(db, clock, ts.staff[name])
    return ts


async def _run(db: Database, ts: TestSchool, now: datetime) -> int:
    async with db.session() as session:
        jc = JobContext(session=session, now=now, school=ts.school, zone=ZONE, rules=DEFAULT_RULES)
        return await meeting_midpoint_check(jc)


async def _meeting(
    db: Database,
    ts: TestSchool,
    klass: str,
    day: int,
    status: MeetingStatus = MeetingStatus.PLANNED,
) -> None:
    async with db.session() as session:
        session.add(
            Meeting(
                school_id=ts.school.id or 0,
                kind=MeetingKind.CLASS,
                class_id=ts.classes[klass].id,
                organiser_id=ts.staff["王芳"].id or 0,
                title="家长会",
                starts_at=datetime(2026, 12, day, 7, 30, tzinfo=UTC),
                place="教室",
                agenda="议程",
                status=status,
            )
        )


async def test_nothing_is_sent_before_the_semesters_midpoint(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    assert await _run(db, ts, datetime(2026, 11, 9, 0, 0, tzinfo=UTC)) == 0
    assert await outbox(db, kind="meeting_midpoint") == []


async def test_classes_short_of_meetings_and_a_missing_committee_meeting_are_reminded_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school(db, clock)
    await _meeting(db, ts, "三(2)班", 10)
    await _meeting(db, ts, "三(2)班", 20)
    await _meeting(db, ts, "三(1)班", 10)
    await _meeting(db, ts, "三(1)班", 20, MeetingStatus.CANCELLED)
    queued = await _run(db, ts, clock())
    rows = await outbox(db, kind="meeting_midpoint")
    assert queued == len(rows) == 3
    by_chat = {r.chat_id: reply_of(r).text for r in rows}
    li, sun, zhao = (f"staff-{ts.staff[n].id}" for n in ("李强", "孙丽", "赵敏"))
    assert set(by_chat) == {li, sun, zhao}  # 王芳's class has its two meetings
    assert "三(1)班已安排 1 次家长会，每学期应开 2 次" in by_chat[li]
    assert "四(1)班已安排 0 次家长会" in by_chat[sun]
    assert "已安排 0 次家长委员会会议" in by_chat[zhao]
    # The next day, and the same slot again: nothing more.
    clock.advance(days=1)
    assert await _run(db, ts, clock()) == 0
    assert await _run(db, ts, clock()) == 0
    assert len(await outbox(db, kind="meeting_midpoint")) == 3
