"""Two small schools of one district, with figures counted by hand (`tests/test_district*.py`).

The report is for the morning of Monday 16 November 2026, exceptions read at 07:30 local time;
"yesterday" is Sunday 15 November, so the month's quota counts 1–15 November.

第一小学 (a calendar: the autumn semester covers all of November, so targets are whole and
pace asks, after 15 of 30 term days, for 5 of a head teacher's 10 visits, 2 of a subject
teacher's 3 and 4 of the 8 parent contacts):

* 4 active students (and one who left), a head teacher, a subject teacher and 德育处 (no quota);
* the head teacher: 12 home visits in November, 6 each to two students (on pace; 10 of them
  count towards the quota); the subject teacher: 1 home visit to a third student (behind);
  a phone call to the fourth (no 入户), a home visit to the student who left (not counted), a
  home visit in August (last school year) and one today (not yet counted) to the fourth;
  → quota 11/13 = 85 %, on pace 1/2, 入户 3/4 = 75 %;
* immediate visits: one overdue and open, one overdue and done only after the morning's
  moment (open then), one done in time, one not yet due → 2 overdue;
* incidents: one not reached and still unanswered, one not reached but phoned, one
  acknowledged → 1 not reached;
* notices: one published 10 days before with 4 receipts, 3 confirmed; one 40 days before
  (too old) and one without receipts asked → receipts 3/4 = 75 %;
* ledger: one active item due yesterday (overdue), one due today, one still open with a past
  date, one closed → 1 overdue.

第二小学 (no calendar: every day counts; same targets and pace):

* 2 active students, a head teacher and a coach;
* the head teacher: 5 home visits to one student in November (on pace) and one video visit to
  the other (a contact; 入户 only where video counts as 上门); the coach: no contact (behind)
  → quota 5/10 = 50 %, on pace 1/2, 入户 1/2 = 50 % (2/2 with video as 上门);
* no duty, incident, notice or ledger item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

import handlers.district
from models.db.engine import Database
from models.duties.tables import Duty, DutyTrigger
from models.incidents.tables import Incident, IncidentKind
from models.ledger.tables import LedgerItem, LedgerSource, LedgerStatus
from models.notices.tables import AudienceKind, Notice, NoticeKind, NoticeReceipt, NoticeStatus
from models.roster.tables import Staff, Student, Teaching
from models.school.tables import Group, GroupCoach, School, SchoolClass, Term, TermKind
from models.visits.tables import Visit, VisitCategory, VisitForm

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 16)
NOW = datetime.combine(TODAY, time(7, 30), tzinfo=ZONE).astimezone(UTC)
FIRST, SECOND = "第一小学", "第二小学"
#: Every person's name in the two schools: none may appear in a district report.
PEOPLE = (
    "甲班主任",
    "甲科任",
    "甲德育",
    "乙班主任",
    "乙教练",
    "学生甲一",
    "学生甲二",
    "学生甲三",
    "学生甲四",
    "学生甲五",
    "学生乙一",
    "学生乙二",
)


@dataclass(frozen=True)
class District:
    first_id: int
    second_id: int


def _visit(school: School, teacher: Staff, student: Student, day: date, form: VisitForm) -> Visit:
    return Visit(
        school_id=school.id or 0,
        teacher_id=teacher.id or 0,
        student_id=student.id or 0,
        visit_date=day,
        form=form,
        category=VisitCategory.ROUTINE,
    )


async def add_school(
    session: AsyncSession, name: str, staff: list[tuple[str, str]], pupils: list[str]
) -> tuple[School, SchoolClass, dict[str, Staff], list[Student]]:
    school = School(name=name)
    session.add(school)
    await session.flush()
    people = {
        who: Staff(school_id=school.id or 0, staff_no=no, name=who, roles="admin" * (no == "A"))
        for no, who in staff
    }
    session.add_all(people.values())
    await session.flush()
    head = next(iter(people.values()))
    klass = SchoolClass(
        school_id=school.id or 0, grade=3, number=1, name="三(1)班", head_teacher_id=head.id
    )
    session.add(klass)
    await session.flush()
    students = [
        Student(
            school_id=school.id or 0,
            student_no=f"S{n}",
            name=who,
            class_id=klass.id or 0,
        )
        for n, who in enumerate(pupils)
    ]
    session.add_all(students)
    await session.flush()
    return school, klass, people, students


async def _first(session: AsyncSession) -> int:
    school, klass, staff, pupils = await add_school(
        session,
        FIRST,
        [("T1", "甲班主任"), ("T2", "甲科任"), ("A", "甲德育")],
        ["学生甲一", "学生甲二", "学生甲三", "学生甲四", "学生甲五"],
    )
    sid = school.id or 0
    head, subject, admin = staff["甲班主任"], staff["甲科任"], staff["甲德育"]
    one, two, three, four, left = pupils
    left.active = False
    session.add(Teaching(staff_id=subject.id or 0, class_id=klass.id or 0, subject="数学"))
    session.add(
        Term(
            school_id=sid,
            kind=TermKind.SEMESTER,
            name="2026秋季学期",
            start_date=date(2026, 9, 1),
            end_date=date(2027, 1, 20),
        )
    )
    visits = [
        _visit(school, head, one if n % 2 else two, date(2026, 11, 2 + n), VisitForm.HOME)
        for n in range(12)
    ]
    visits += [
        _visit(school, subject, three, date(2026, 11, 3), VisitForm.HOME),
        _visit(school, head, four, date(2026, 11, 4), VisitForm.PHONE),
        _visit(school, head, left, date(2026, 10, 9), VisitForm.HOME),
        _visit(school, head, four, date(2026, 8, 20), VisitForm.HOME),
        _visit(school, head, four, TODAY, VisitForm.HOME),
    ]
    session.add_all(visits)
    hour = timedelta(hours=1)
    for n, (due, done) in enumerate(
        [
            (NOW - 5 * hour, None),
            (NOW - 30 * hour, NOW + 2 * hour),
            (NOW - 30 * hour, NOW - 40 * hour),
            (NOW + 5 * hour, None),
        ]
    ):
        session.add(
            Duty(
                school_id=sid,
                student_id=one.id or 0,
                teacher_id=head.id or 0,
                trigger=DutyTrigger.OTHER,
                source_key=f"test:{n}",
                triggered_at=due - 24 * hour,
                due_at=due,
                done_at=done,
            )
        )
    reported = NOW - 20 * hour
    for ack, phoned, missed in [
        (None, None, reported + 0.2 * hour),
        (None, reported + hour, reported + 0.2 * hour),
        (reported + 0.1 * hour, None, None),
    ]:
        session.add(
            Incident(
                school_id=sid,
                student_id=two.id or 0,
                reporter_id=head.id or 0,
                kind=IncidentKind.INJURY,
                what="摔倒",
                reported_at=reported,
                acknowledged_at=ack,
                phoned_at=phoned,
                not_reached_at=missed,
            )
        )
    for n, (days, required, confirmed) in enumerate([(10, True, 3), (40, True, 0), (5, False, 0)]):
        published = NOW - timedelta(days=days)
        notice = Notice(
            school_id=sid,
            year=2026,
            serial=n + 1,
            kind=NoticeKind.OTHER,
            title=f"通知{n}",
            body="请家长知悉。",
            author_id=admin.id or 0,
            audience_kind=AudienceKind.SCHOOL,
            receipt_required=required,
            display_until=TODAY + timedelta(days=30),
            status=NoticeStatus.PUBLISHED,
            published_at=published,
        )
        session.add(notice)
        await session.flush()
        for k, pupil in enumerate([one, two, three, four]):
            session.add(
                NoticeReceipt(
                    notice_id=notice.id or 0,
                    student_id=pupil.id or 0,
                    class_id=klass.id or 0,
                    confirmed_at=published + hour if k < confirmed else None,
                )
            )
    for status, due_on in [
        (LedgerStatus.ACTIVE, TODAY - timedelta(days=1)),
        (LedgerStatus.ACTIVE, TODAY),
        (LedgerStatus.OPEN, TODAY - timedelta(days=3)),
        (LedgerStatus.CLOSED, TODAY - timedelta(days=3)),
    ]:
        session.add(
            LedgerItem(
                school_id=sid,
                source=LedgerSource.MANUAL,
                description="问题",
                created_at=NOW - timedelta(days=5),
                status=status,
                due_on=due_on,
                class_id=klass.id,
            )
        )
    await session.flush()
    return sid


async def _second(session: AsyncSession) -> int:
    school, _klass, staff, pupils = await add_school(
        session, SECOND, [("T1", "乙班主任"), ("T2", "乙教练")], ["学生乙一", "学生乙二"]
    )
    head, coach = staff["乙班主任"], staff["乙教练"]
    team = Group(school_id=school.id or 0, name="篮球队")
    session.add(team)
    await session.flush()
    session.add(GroupCoach(group_id=team.id or 0, staff_id=coach.id or 0))
    session.add_all(
        [_visit(school, head, pupils[0], date(2026, 11, 2 + n), VisitForm.HOME) for n in range(5)]
    )
    session.add(_visit(school, head, pupils[1], date(2026, 11, 9), VisitForm.VIDEO))
    await session.flush()
    return school.id or 0


async def build_district(db: Database, *, empty_schools: int = 0) -> District:
    """The two schools (and `empty_schools` more with nothing in them)."""
    async with db.session() as session:
        first = await _first(session)
        second = await _second(session)
        for n in range(empty_schools):
            session.add(School(name=f"空白小学{n + 1}"))
        await session.commit()
    return District(first, second)


BUREAU = "区教育局"
#: The bureau's 区域管理员 (the district role) and a clerk of its roster without a role.
DISTRICT_ADMIN, BUREAU_CLERK = "李科长", "王干事"


async def add_bureau(db: Database) -> dict[str, Staff]:
    """The bureau's own entry (`school add 区教育局`): its roster has a 区域管理员 and a clerk
    with no role, and no student."""
    async with db.session() as session:
        bureau = School(name=BUREAU)
        session.add(bureau)
        await session.flush()
        staff = {
            DISTRICT_ADMIN: Staff(
                school_id=bureau.id or 0, staff_no="D01", name=DISTRICT_ADMIN, roles="district"
            ),
            BUREAU_CLERK: Staff(school_id=bureau.id or 0, staff_no="D02", name=BUREAU_CLERK),
        }
        session.add_all(staff.values())
        await session.flush()
        for member in staff.values():
            session.expunge(member)
        await session.commit()
    return staff


#: The line the two schools' digest ends its list with when read as a large district's.
REST_OF_A_LARGE_DISTRICT = (
    "其余 1 所学校排在以上各校之后，都没有逾期或未联系上家长的事项；"
    "全部学校的数字见区域合规表（由系统管理员用 export district 导出）。"
)


def as_a_large_district(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two schools read as a large district's are: the chat and the morning push list the
    first (most in need of attention) and sum up the other in one line."""
    monkeypatch.setattr(handlers.district, "EVERY_SCHOOL_UP_TO", 1)
    monkeypatch.setattr(handlers.district, "SCHOOLS_SHOWN", 1)
