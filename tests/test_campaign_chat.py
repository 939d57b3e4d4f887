"""/campaign through the real dispatcher: 德育处 creates a 大走访 (name, days, grades, rule,
left-behind households), refusals ask again and save nothing, the 包保表 is generated and shown
per class, the list opens a campaign's overview, a household is moved with /campaign 调整, and a
teacher sees only their own households."""

from __future__ import annotations

from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.campaigns.rules import CampaignScope, VisitRule
from models.campaigns.tables import AssignmentSource, Campaign, CampaignAssignment
from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.visits import ChatUser, full_dispatcher, person


async def campaigns(db: Database) -> list[Campaign]:
    async with db.session() as session:
        return list((await session.exec(select(Campaign).order_by(col(Campaign.id)))).all())


async def rows(db: Database) -> list[CampaignAssignment]:
    async with db.session() as session:
        query = select(CampaignAssignment).order_by(col(CampaignAssignment.id))
        return list((await session.exec(query)).all())


async def _admin(db: Database, clock: FakeClock) -> tuple[TestSchool, ChatUser]:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    return ts, await person(db, clock, dispatcher, ts.staff["赵敏"])


async def test_德育处_creates_a_campaign_of_two_grades_and_generates_its_table(
    db: Database, clock: FakeClock
) -> None:
    ts, admin = await _admin(db, clock)
    await admin.send("/campaign new")
    assert "请输入这次大走访的名称" in admin.text
    await admin.send("秋季大走访")
    await admin.send("11月20日")
    await admin.send("12月20日")
    await admin.press("按年级")
    await admin.press("三年级")
    await admin.press("四年级")
    assert "✓ 三年级" in admin.labels and "✓ 四年级" in admin.labels
    await admin.press("完成")
    await admin.press("仅上门家访")
    await admin.press("是")
    assert "名称：秋季大走访" in admin.text
    assert "时间：11月20日（周五）至12月20日（周日）" in admin.text
    assert "范围：三年级、四年级" in admin.text
    assert "计入：仅上门家访" in admin.text
    assert await campaigns(db) == []  # nothing before 确认创建
    await admin.press("确认创建")
    [campaign] = await campaigns(db)
    assert (campaign.name, campaign.scope, campaign.grades) == (
        "秋季大走访",
        CampaignScope.GRADES,
        [3, 4],
    )
    assert campaign.visit_rule is VisitRule.IN_PERSON and campaign.left_behind_monthly
    assert campaign.created_by == ts.staff["赵敏"].id
    assert "已创建大走访“秋季大走访”" in admin.text
    await admin.press("自动分配包保表")
    assert "共 17 户" in admin.text
    assert "三(1)班：6 户 — 李强 3、王芳 3" in admin.text
    assert "三(2)班：5 户 — 王芳 5" in admin.text
    assert "四(1)班：6 户 — 孙丽 6" in admin.text
    saved = await rows(db)
    assert len(saved) == 17 and {r.source for r in saved} == {AssignmentSource.GENERATED}


async def test_an_end_before_the_start_is_refused_and_nothing_is_saved(
    db: Database, clock: FakeClock
) -> None:
    _ts, admin = await _admin(db, clock)
    await admin.send("/campaign 新建")
    await admin.send("秋季大走访")
    await admin.send("11月20日")
    await admin.send("11月10日")
    assert "结束日期 2026-11-10 早于开始日期 2026-11-20，请重新填写。" in admin.text
    assert "到哪一天结束" in admin.text
    await admin.send("不知道")
    assert "没能读懂这个日期" in admin.text
    await admin.send("/cancel")
    assert await campaigns(db) == []


async def test_a_start_more_than_a_year_ahead_and_a_taken_name_are_asked_again(
    db: Database, clock: FakeClock
) -> None:
    _ts, admin = await _admin(db, clock)
    await admin.send("/campaign new")
    await admin.steps(">秋季大走访", ">11月20日", ">11月30日")
    await admin.press("全校")
    await admin.press("任何形式")
    await admin.press("否")
    await admin.press("确认创建")
    assert "jiafang campaign assign 1 包保表.xlsx --by 工号" in admin.text
    assert admin.labels == ["自动分配包保表"]
    await admin.send("/campaign new")
    await admin.send("秋季大走访")
    assert "已有名为“秋季大走访”的大走访，请换一个名称。" in admin.text
    await admin.send("三年级走访")
    await admin.send("2028-03-01")
    assert "开始日期离今天超过一年" in admin.text
    await admin.send("11月25日")
    await admin.send("12月5日")
    await admin.press("按年级")
    await admin.press("完成")
    assert "请至少选择一项" in admin.text
    await admin.press("三年级")
    await admin.press("完成")
    await admin.press("仅上门家访")
    await admin.press("是")
    assert "提醒：与“秋季大走访”（11月20日（周五）至11月30日（周一））的时间和年级有重叠" in (
        admin.text
    )
    await admin.press("取消")
    assert [c.name for c in await campaigns(db)] == ["秋季大走访"]
    assert await rows(db) == []


async def test_the_list_opens_an_overview_and_a_household_is_moved_after_confirming(
    db: Database, clock: FakeClock
) -> None:
    ts, admin = await _admin(db, clock)
    await admin.send("/campaign new")
    await admin.steps(">秋季大走访", ">11月1日", ">11月30日")
    await admin.press("全校")
    await admin.press("仅上门家访")
    await admin.press("是")
    await admin.press("确认创建")
    await admin.send("/campaign")
    assert "秋季大走访（#1）" in admin.text and "进行中" in admin.text
    await admin.press("秋季大走访")
    assert "家庭：17 户" in admin.text and "包保表：还没有分配。" in admin.text
    await admin.press("自动分配包保表")
    assert "共 17 户" in admin.text
    await admin.send("/campaign")
    await admin.press("秋季大走访")
    assert "已分配 17 户，未分配 0 户" in admin.text
    assert "责任教师：王芳 8 户、孙丽 6 户、李强 3 户" in admin.text
    ming = ts.students["张小明"]
    await admin.send(f"/campaign 调整 {ming.student_no} T04")
    assert "这一家现在由孙丽老师包保" in admin.text
    assert "把三(2)班张小明（S007）一家交给钱进老师包保？" in admin.text
    before = [(r.student_id, r.teacher_id) for r in await rows(db)]
    await admin.press("取消")
    assert [(r.student_id, r.teacher_id) for r in await rows(db)] == before
    await admin.send(f"/campaign 调整 {ming.student_no} T04")
    await admin.press("确认调整")
    assert "已调整" in admin.text
    moved = [r for r in await rows(db) if r.teacher_id == ts.staff["钱进"].id]
    assert [(r.student_id, r.source) for r in moved] == [
        (ts.students["张小红"].id, AssignmentSource.EDITED)
    ]
    async with db.session() as session:
        audited = (
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action).startswith("campaign."))
            )
        ).all()
    assert list(audited) == ["campaign.create", "campaign.assign", "campaign.move"]


async def test_a_bad_move_is_one_clear_line(db: Database, clock: FakeClock) -> None:
    _ts, admin = await _admin(db, clock)
    await admin.send("/campaign 调整 S001")
    assert "请这样写：/campaign 调整 学号 工号" in admin.text
    await admin.send("/campaign 调整 S999 T02")
    assert admin.text == "没有学号为 S999 的学生。"
    await admin.send("/campaign 调整 S001 T99")
    assert admin.text == "没有工号为 T99 的教职工。"
    await admin.send("/campaign 调整 S001 T02")
    assert admin.text == "没有进行中或即将开始的大走访包括这名学生。"


async def test_a_teacher_sees_their_own_households_and_may_not_create_one(
    db: Database, clock: FakeClock
) -> None:
    ts, admin = await _admin(db, clock)
    await admin.send("/campaign new")
    await admin.steps(">秋季大走访", ">11月1日", ">11月30日")
    await admin.press("全校")
    await admin.press("仅上门家访")
    await admin.press("是")
    await admin.press("确认创建")
    await admin.press("自动分配包保表")
    teacher = await person(db, clock, admin.dispatcher, ts.staff["李强"])
    await teacher.send("/campaign")
    assert "您包保 3 户" in teacher.text
    assert "1. 三(1)班 李华 — 未访" in teacher.text
    await teacher.send("/campaign new")
    assert "您包保 3 户" in teacher.text  # the same view: no creating
    assert len(await campaigns(db)) == 1


async def test_a_running_campaign_is_stopped_after_confirming_and_then_runs_no_more(
    db: Database, clock: FakeClock
) -> None:
    ts, admin = await _admin(db, clock)
    await admin.send("/campaign new")
    await admin.steps(">秋季大走访", ">11月1日", ">11月30日")
    await admin.press("全校")
    await admin.press("仅上门家访")
    await admin.press("是")
    await admin.press("确认创建")
    await admin.press("自动分配包保表")
    await admin.send("/campaign")
    await admin.press("秋季大走访")
    assert "停止大走访" in admin.labels
    await admin.press("停止大走访")
    assert "停止后不再统计入户率" in admin.text
    [campaign] = await campaigns(db)
    assert campaign.cancelled_at is None  # asked, not done
    await admin.press("确认停止")
    assert "大走访“秋季大走访”已停止。" in admin.text
    [campaign] = await campaigns(db)
    assert campaign.cancelled_at == clock()
    assert len(await rows(db)) == 17  # the 包保表 stays
    await admin.callback(f"!cpy:{campaign.id}")  # pressed again (a redelivery)
    assert "已经结束或停止" in admin.text
    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert [e.action for e in entries].count("campaign.stop") == 1

    await admin.send("/campaign")
    assert "已停止" in admin.text
    teacher = await person(db, clock, admin.dispatcher, ts.staff["李强"])
    await teacher.send("/campaign")
    assert "您包保" not in teacher.text
