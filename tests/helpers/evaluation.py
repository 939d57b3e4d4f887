"""A fixture semester for the evaluation tests (tests/test_evaluation_*.py), on the test school.

王芳 heads 三(2)班 (张小明 单亲·留守 and 王磊 学习困难 are special-type; 杨帆 is never visited):

| month | 上门 (routine) | all contacts | target visits / contacts |
|---|---|---|---|
| Sep | 10 | 10 | 10 / 8 |
| Oct | 8 | 10 (2 calls to 张小明) | 10 / 8 |
| Nov | 0 | 0 | 10 / 8 |
| Dec | 10 (one 重点 to 王磊) | 10 | 10 / 8 |
| Jan | 4 | 4 | 8 / 6 (22 of 31 days in term, rounded up) |

Winter break: 3 上门 (张小明, 李娜, 刘洋) of 6, and of the must-visit list (张小明, 王磊) one.
Two records filed more than 7 days late (8 and 10 days), one exactly 7 days (not late), of 37.
Duties: on time; a day late; six hours late; missed; one due after the period (left out).
Ledger: three items recorded in the semester, two closed; one from August (left out).
Campaign 十月大走访 (October, in person): 王芳 is responsible for 张小明's, 李娜's and 王磊's
households; she visits 李娜 and 王磊 at home and only phones 张小明's, whom 李强 visits at home.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.campaigns.rules import CampaignScope, VisitRule
from models.campaigns.tables import AssignmentSource, Campaign, CampaignAssignment
from models.db.engine import Database
from models.duties.tables import Duty, DutyTrigger
from models.ledger.tables import LedgerItem, LedgerSource, LedgerStatus
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers import factories
from tests.helpers.factories import seed_school
from tests.helpers.quota import YEAR_2026, add_terms, add_visits

EVALUATED = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CLASS = ["张小明", "李娜", "王磊", "刘洋", "陈静"]  # 杨帆 is never visited


def at(year: int, month: int, day: int, hour: int) -> datetime:
    """A Shanghai hour, in UTC."""
    return datetime(year, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


async def build_semester(db: Database) -> factories.TestSchool:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "王芳", CLASS * 2, day=date(2026, 9, 10))
    await add_visits(db, ts, "王芳", ["李娜", "王磊", "刘洋", "陈静"] * 2, day=date(2026, 10, 8))
    await add_visits(
        db, ts, "王芳", ["张小明"], day=date(2026, 10, 9), form=VisitForm.PHONE, filed_days_late=10
    )
    await add_visits(
        db, ts, "王芳", ["张小明"], day=date(2026, 10, 9), form=VisitForm.PHONE, filed_days_late=8
    )
    await add_visits(db, ts, "李强", ["张小明"], day=date(2026, 10, 12))
    await add_visits(
        db, ts, "王芳", ["李娜", "刘洋", "陈静", "张小明"] * 2 + ["刘洋"], day=date(2026, 12, 3)
    )
    await add_visits(
        db,
        ts,
        "王芳",
        ["王磊"],
        day=date(2026, 12, 4),
        category=VisitCategory.KEY,
        filed_days_late=7,
    )
    await add_visits(db, ts, "王芳", ["李娜", "刘洋", "陈静", "李娜"], day=date(2027, 1, 10))
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "刘洋"], day=date(2027, 2, 1))
    await add_visits(db, ts, "钱进", ["赵刚"] * 8, day=date(2026, 9, 20), form=VisitForm.PHONE)
    school_id, teacher = ts.school.id or 0, ts.staff["王芳"].id or 0
    async with db.session() as session:
        for n, (due, done) in enumerate(
            [
                (at(2026, 10, 10, 10), at(2026, 10, 10, 9)),
                (at(2026, 11, 5, 10), at(2026, 11, 6, 10)),
                (at(2026, 12, 1, 10), at(2026, 12, 1, 16)),
                (at(2027, 1, 5, 10), None),
                (at(2027, 3, 10, 10), None),
            ]
        ):
            session.add(
                Duty(
                    school_id=school_id,
                    student_id=ts.students["王磊"].id or 0,
                    teacher_id=teacher,
                    trigger=DutyTrigger.SICK_ABSENCE,
                    source_key=f"test:{n}",
                    triggered_at=due - timedelta(hours=24),
                    due_at=due,
                    done_at=done,
                )
            )
        for n, (created, closed) in enumerate(
            [
                (at(2026, 10, 1, 9), at(2026, 10, 20, 9)),
                (at(2026, 12, 1, 9), at(2027, 1, 5, 9)),
                (at(2027, 1, 10, 9), None),
                (at(2026, 8, 20, 9), at(2026, 8, 25, 9)),
            ]
        ):
            session.add(
                LedgerItem(
                    school_id=school_id,
                    source=LedgerSource.MANUAL,
                    source_id=n + 1,
                    description="作业经常不能按时完成",
                    created_at=created,
                    status=LedgerStatus.CLOSED if closed else LedgerStatus.ACTIVE,
                    owner_id=teacher,
                    closed_at=closed,
                )
            )
        campaign = Campaign(
            school_id=school_id,
            name="十月大走访",
            start_date=date(2026, 10, 1),
            end_date=date(2026, 10, 31),
            scope=CampaignScope.SCHOOL,
            visit_rule=VisitRule.IN_PERSON,
        )
        session.add(campaign)
        await session.flush()
        for name in ("张小明", "李娜", "王磊"):
            session.add(
                CampaignAssignment(
                    school_id=school_id,
                    campaign_id=campaign.id or 0,
                    student_id=ts.students[name].id or 0,
                    household=0,
                    class_id=ts.classes["三(2)班"].id or 0,
                    teacher_id=teacher,
                    source=AssignmentSource.GENERATED,
                )
            )
    return ts
