"""A 大走访 over the test school in November 2026 with visits counted by hand (the campaign's
views: `models.campaigns.figures`, `handlers.campaigns.views`).

The campaign 秋季大走访 runs 11月1日–11月30日 over the whole school, in-person visits only. Its
包保表 is the generated one: 李强 三(1)班 李华 周杰 吴迪; 王芳 三(1)班 郑爽 冯雪 陈晨 and 三(2)班
李娜 王磊 刘洋 陈静 杨帆; 孙丽 四(1)班 张小红 (with 张小明 of 三(2)班: one household), 赵刚 孙悦
周敏 吴昊 郑凯 — 17 households. The rows of 三(1)班 and 三(2)班 have the leader 钱进 (a member of
staff), those of 四(1)班 陈校长 (no one on the staff). 杨帆 is tagged 留守 besides 张小明.

Visits (上门家访 unless said), in the order logged:

    1 李强 李华 11-03        counted: 李华's first visit
    2 王芳 李华 11-05        counted: a double visit (李强 first)
    3 李强 周杰 11-04 电话   not counted (in person only)
    4 李强 李华 11-10        counted: 李强 again, a second visit, not a double
    5 孙丽 张小红 11-06      counted: the 张 household's first visit
    6 王芳 张小明 11-12      counted: a double visit (孙丽 first)
    7 王芳 李娜 10-28        before the campaign
    8 王芳 王磊 11-14        counted
    9 孙丽 赵刚 11-02        counted

By hand: visited 李华, 张, 王磊, 赵刚 — 4 of 17 households (24%); 三(1)班 1/6, 三(2)班 2/6,
四(1)班 2/6; 三年级 3/12, 四年级 2/6; leader 钱进 2/11 (the 张 household's row is 四(1)班's),
陈校长 2/6; two double visits; left-behind households 张 (contacted in November) and 杨帆 (not):
1/2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from models.campaigns import queries
from models.campaigns.rules import VisitRule, check_campaign
from models.campaigns.tables import AssignmentSource, Campaign
from models.db.engine import Database
from models.roster.tables import Student
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers.factories import TestSchool

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)

VISITS: list[tuple[str, str, date, VisitForm]] = [
    ("李强", "李华", date(2026, 11, 3), VisitForm.HOME),
    ("王芳", "李华", date(2026, 11, 5), VisitForm.HOME),
    ("李强", "周杰", date(2026, 11, 4), VisitForm.PHONE),
    ("李强", "李华", date(2026, 11, 10), VisitForm.HOME),
    ("孙丽", "张小红", date(2026, 11, 6), VisitForm.HOME),
    ("王芳", "张小明", date(2026, 11, 12), VisitForm.HOME),
    ("王芳", "李娜", date(2026, 10, 28), VisitForm.HOME),
    ("王芳", "王磊", date(2026, 11, 14), VisitForm.HOME),
    ("孙丽", "赵刚", date(2026, 11, 2), VisitForm.HOME),
]


async def add_visit(
    db: Database, ts: TestSchool, teacher: str, student: str, day: date, form: VisitForm
) -> int:
    async with db.session() as session:
        visit = Visit(
            school_id=ts.school.id or 0,
            teacher_id=ts.staff[teacher].id or 0,
            student_id=ts.students[student].id or 0,
            visit_date=day,
            form=form,
            category=VisitCategory.ROUTINE,
        )
        session.add(visit)
        await session.flush()
        return visit.id or 0


async def november_campaign(
    db: Database,
    ts: TestSchool,
    *,
    visits: bool = True,
    rule: VisitRule = VisitRule.IN_PERSON,
) -> Campaign:
    """The campaign, its 包保表 with leaders, 杨帆 tagged 留守 and (unless not) the visits."""
    spec = check_campaign("秋季大走访", date(2026, 11, 1), date(2026, 11, 30), visit_rule=rule)
    leaders = {
        ts.classes["三(1)班"].id or 0: "钱进",
        ts.classes["三(2)班"].id or 0: "钱进",
        ts.classes["四(1)班"].id or 0: "陈校长",
    }
    async with db.session() as session:
        campaign = await queries.create_campaign(
            session, ts.school.id or 0, spec, by=ts.staff["赵敏"].id, now=NOW
        )
        found = await queries.campaign_roster(session, campaign)
        await queries.write_assignment(
            session,
            campaign,
            queries.generated(found),
            source=AssignmentSource.GENERATED,
            by=None,
            now=NOW,
            leaders=leaders,
            households=found.roster.households,
        )
        yang = (await session.exec(select(Student).where(Student.name == "杨帆"))).one()
        yang.tags = "留守"
        session.add(yang)
    if visits:
        for teacher, student, day, form in VISITS:
            await add_visit(db, ts, teacher, student, day, form)
    return campaign
