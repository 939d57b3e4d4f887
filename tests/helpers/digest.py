"""A fixed data set for the daily digest, on the test school (`tests.helpers.factories`), counted by hand.

The digest is built on Monday 16 November 2026 at 10:00 (the `clock` fixture); "yesterday" is
Sunday 15 November. No term is on record, so every day is a term day: by the end of the 15th,
half of November is past and pace asks a head teacher for 5 visits of 10, a subject teacher for
2 of 3, every teacher for 4 families of 8.

| teacher | visits in November (through the 15th) | families | behind? |
|---|---|---|---|
| 王芳 (head 三(2)) | 6, to 6 students (+3 in October, +1 dated the 16th: not counted) | 6 | no |
| 李强 (head 三(1)) | 4, to 2 students | 2 | visits 4 < 5, families 2 < 4 |
| 孙丽 (head 四(1)) | 10, to 5 students | 5 | no |
| 钱进 (coach) | 0 | 0 | families 0 < 4 |

Dated the 15th: 王芳 上门/常规, 李强 电访/重点 (needs the school), 孙丽 电访/常规 (a problem, not
for the school), 孙丽 家长来访/立即. Logged on the 15th with a problem: those two of 李强 and 孙丽,
and 孙丽's visit dated the 14th that needs the school. Logged on the 3rd and the 16th with a
problem: not yesterday's.

Duties: 王芳 for 张小明 (因病缺课), due the 15th 09:00: overdue by 25 hours. 孙丽 for 郑凯, due
the 17th: not yet. 李强 for 吴迪, overdue but done. Incidents: 赵刚 (意外伤害, reported the 16th
08:00, no acknowledgement): not reached. 李华: not reached but phoned. 王磊: acknowledged.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.engine import Database
from models.duties.tables import Duty, DutyTrigger
from models.incidents.tables import Incident, IncidentKind
from models.roster.tables import Staff, Student
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.quota import YEAR_2026, add_terms

ZONE = ZoneInfo("Asia/Shanghai")
NOV = 11


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def nov(day: int) -> date:
    return date(2026, NOV, day)


def _visit(
    ts: TestSchool,
    teacher: str,
    student: str,
    day: date,
    form: VisitForm = VisitForm.HOME,
    category: VisitCategory = VisitCategory.ROUTINE,
    *,
    problems: str = "",
    needs_school: bool = False,
    logged: datetime | None = None,
) -> Visit:
    return Visit(
        school_id=ts.school.id or 0,
        teacher_id=ts.staff[teacher].id or 0,
        student_id=ts.students[student].id or 0,
        visit_date=day,
        form=form,
        category=category,
        problems=problems,
        needs_school=needs_school,
        channel="console",
        created_at=logged or local(day, 19),
    )


def _duty(
    ts: TestSchool,
    teacher: Staff,
    student: Student,
    trigger: DutyTrigger,
    triggered: datetime,
    *,
    done: bool = False,
) -> Duty:
    return Duty(
        school_id=ts.school.id or 0,
        student_id=student.id or 0,
        teacher_id=teacher.id or 0,
        trigger=trigger,
        source_key=f"test:{student.id}",
        triggered_at=triggered,
        due_at=triggered + timedelta(hours=24),
        done_at=triggered + timedelta(hours=3) if done else None,
    )


def _incident(
    ts: TestSchool,
    student: str,
    kind: IncidentKind,
    reported: datetime,
    *,
    not_reached: bool = False,
    phoned: bool = False,
    acknowledged: bool = False,
) -> Incident:
    return Incident(
        school_id=ts.school.id or 0,
        student_id=ts.students[student].id or 0,
        reporter_id=ts.staff["孙丽"].id or 0,
        kind=kind,
        what="课间摔倒",
        reported_at=reported,
        not_reached_at=reported + timedelta(minutes=10) if not_reached else None,
        phoned_at=reported + timedelta(minutes=40) if phoned else None,
        acknowledged_at=reported + timedelta(minutes=2) if acknowledged else None,
    )


def add_data_set(session: AsyncSession, ts: TestSchool) -> None:
    home, phone, came = VisitForm.HOME, VisitForm.PHONE, VisitForm.PARENT_CAME
    routine, key, immediate = VisitCategory.ROUTINE, VisitCategory.KEY, VisitCategory.IMMEDIATE
    visits = [
        # 王芳: six in November, three in October, one dated today.
        *(
            _visit(ts, "王芳", name, nov(d))
            for name, d in [("张小明", 2), ("李娜", 4), ("王磊", 6), ("刘洋", 9), ("陈静", 11)]
        ),
        _visit(ts, "王芳", "杨帆", nov(15), home, routine),
        *(_visit(ts, "王芳", "张小明", date(2026, 10, 20)) for _ in range(3)),
        _visit(
            ts,
            "王芳",
            "张小明",
            nov(16),
            problems="情绪低落",
            needs_school=True,
            logged=local(nov(16), 9),
        ),
        # 李强: four, to two students.
        _visit(ts, "李强", "李华", nov(3)),
        _visit(ts, "李强", "周杰", nov(5)),
        _visit(ts, "李强", "李华", nov(10)),
        _visit(ts, "李强", "周杰", nov(15), phone, key, problems="学习跟不上", needs_school=True),
        # 孙丽: ten, to five students.
        _visit(ts, "孙丽", "张小红", nov(2)),
        _visit(ts, "孙丽", "张小红", nov(3), problems="作业拖拉"),
        _visit(ts, "孙丽", "赵刚", nov(4)),
        _visit(
            ts,
            "孙丽",
            "赵刚",
            nov(14),
            problems="家中变故",
            needs_school=True,
            logged=local(nov(15), 8),
        ),
        _visit(ts, "孙丽", "孙悦", nov(5)),
        _visit(ts, "孙丽", "孙悦", nov(15), phone, routine, problems="作业拖拉"),
        _visit(ts, "孙丽", "周敏", nov(6)),
        _visit(ts, "孙丽", "周敏", nov(15), came, immediate),
        _visit(ts, "孙丽", "吴昊", nov(9)),
        _visit(ts, "孙丽", "吴昊", nov(10)),
    ]
    session.add_all(visits)
    staff, students = ts.staff, ts.students
    session.add_all(
        [
            _duty(
                ts, staff["王芳"], students["张小明"], DutyTrigger.SICK_ABSENCE, local(nov(14), 9)
            ),
            _duty(
                ts, staff["孙丽"], students["郑凯"], DutyTrigger.FAMILY_CHANGE, local(nov(16), 8)
            ),
            _duty(
                ts,
                staff["李强"],
                students["吴迪"],
                DutyTrigger.DISCIPLINE,
                local(nov(13), 9),
                done=True,
            ),
            _incident(ts, "赵刚", IncidentKind.INJURY, local(nov(16), 8), not_reached=True),
            _incident(
                ts, "李华", IncidentKind.ILLNESS, local(nov(15), 9), not_reached=True, phoned=True
            ),
            _incident(ts, "王磊", IncidentKind.ILLNESS, local(nov(16), 7), acknowledged=True),
        ]
    )


async def seed_digest_school(db: Database) -> TestSchool:
    """The test school with the digest's data set and the 2026-27 calendar."""
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    async with db.session() as session:
        add_data_set(session, ts)
    return ts


@pytest.fixture
async def digest_school(db: Database) -> TestSchool:
    """The test school with the digest's data set (`seed_digest_school`)."""
    return await seed_digest_school(db)
