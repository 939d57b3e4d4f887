"""/visit while a 大走访 runs (issue 13): the campaign's 附2 questions in the household form,
remembered for the household (siblings too), a one-message log offered them on its summary card,
a student outside the campaign's grades not asked; before saving, a household another teacher
visited first in the campaign asks 仍要记录 / 返回修改, the same teacher again is a second visit,
and a colleague's household is named on the card. Runs on SQLite and PostgreSQL.

The test school (Monday 16 November 2026): 王芳 heads 三(2)班 (张小明, 留守; 李娜), 孙丽 heads 四(1)班
(张小红, 张小明's sister: one household, whose home class is 四(1)班, so the generated 包保表 gives
it to 孙丽).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from models.campaigns import queries
from models.campaigns.rules import CampaignScope, VisitRule, check_campaign
from models.campaigns.tables import AssignmentSource, Campaign
from models.db.engine import Database
from models.families.tables import Carer, FamilyProfile, Housing
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.visits import chat_as, full_dispatcher, person, visits

NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)

#: /visit for 李娜 up to the household section (skipped).
TO_FAMILY = (
    "/visit",
    "三(2)班",
    "李娜",
    "上门家访",
    "常规",
    "今天",
    "母亲",
    "跳过",
    "跳过",
    "跳过",
)
#: The campaign's six questions: 家庭结构, 经济状况, 住房条件, 在家照顾, 父亲职业, 母亲职业.
CAMPAIGN_ANSWERS = ("三代同堂", "困难", "差", "祖辈", "农民", "无业")
AFTER_FAMILY = ("跳过", "跳过", "无")


async def start_campaign(
    db: Database,
    ts: TestSchool,
    *,
    grades: tuple[int, ...] = (),
    rule: VisitRule = VisitRule.IN_PERSON,
) -> Campaign:
    """秋季大走访 from 1 to 30 November, its 包保表 generated (head teachers first)."""
    scope = CampaignScope.GRADES if grades else CampaignScope.SCHOOL
    spec = check_campaign(
        "秋季大走访",
        date(2026, 11, 1),
        date(2026, 11, 30),
        scope=scope,
        grades=grades,
        visit_rule=rule,
    )
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
            households=found.roster.households,
        )
    return campaign


async def profiles(db: Database) -> dict[int, FamilyProfile]:
    async with db.session() as session:
        rows = (await session.exec(select(FamilyProfile))).all()
    return {row.student_id: row for row in rows}


# -- the 附2 questions ---------------------------------------------------------------------------


async def test_a_campaign_student_is_asked_the_extra_questions_and_siblings_share_the_answers(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/visit", "三(2)班", "张小明", "上门家访", "常规", "今天", "奶奶")
    await wang.steps("跳过", "跳过", "跳过")
    assert "这位学生在大走访「秋季大走访」范围内，请补充家庭情况（附2）" in wang.text
    assert "家庭情况表（1/6）家庭结构？" in wang.text
    assert wang.labels[:6] == ["核心家庭", "三代同堂", "单亲家庭", "重组家庭", "留守", "其他"]
    assert wang.labels[-2:] == ["跳过", "结束填写"]
    await wang.steps(*CAMPAIGN_ANSWERS)
    # The form ends after the sixth: the record goes on with the next section.
    assert "指导意见" in wang.text
    await wang.steps(*AFTER_FAMILY)
    assert (
        "家庭情况表：在家照顾 祖辈 · 住房条件 差 · 家庭结构 三代同堂 · 经济状况 困难 · "
        "父亲职业 农民 · 母亲职业 无业"
    ) in wang.text
    assert "这一家由孙丽老师包保。" in wang.text  # 张小红's class is the household's home
    await wang.press("保存")
    assert wang.text.startswith("已保存。")

    saved = await profiles(db)
    for name in ("张小明", "张小红"):
        profile = saved[ts.students[name].id or 0]
        assert (profile.family_structure, profile.economy) == ("three_generations", "hard")
        assert (profile.father_work, profile.mother_work) == ("farmer", "unemployed")
        assert (profile.housing, profile.carer) == (Housing.POOR, Carer.GRANDPARENTS)


async def test_known_answers_are_offered_unchanged_and_the_questions_can_be_ended_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    dispatcher = full_dispatcher(db, clock)
    wang = await person(db, clock, dispatcher, ts.staff["王芳"])
    await wang.steps(*TO_FAMILY, *CAMPAIGN_ANSWERS, *AFTER_FAMILY, "保存")
    # 王芳 visits again the next day: the answers on record are offered.
    clock.advance(days=1)
    await wang.steps(*TO_FAMILY)
    assert "上次登记：三代同堂" in wang.text
    assert "不变" in wang.labels
    await wang.steps("不变", "好")  # 经济状况 now 好
    await wang.press("结束填写")
    assert "指导意见" in wang.text
    await wang.steps(*AFTER_FAMILY, "保存")
    profile = (await profiles(db))[ts.students["李娜"].id or 0]
    assert (profile.family_structure, profile.economy, profile.mother_work) == (
        "three_generations",
        "good",
        "unemployed",
    )


async def test_a_student_outside_the_campaigns_grades_is_not_asked(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts, grades=(4,))
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*TO_FAMILY)
    assert "指导意见" in wang.text
    assert "大走访" not in wang.text
    await wang.steps(*AFTER_FAMILY)
    assert "大走访" not in wang.text
    assert "包保" not in wang.text
    await wang.press("保存")
    assert wang.text.startswith("已保存。")
    assert await profiles(db) == {}


async def test_no_campaign_no_extra_questions_in_the_household_form(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*TO_FAMILY[:-1], "填写家庭情况表")
    assert "家庭情况表（1/6）家庭总人口几人？" in wang.text


async def test_the_whole_form_opened_during_a_campaign_has_its_questions_and_asks_them_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*TO_FAMILY[:-1], "填写家庭情况表")
    assert "家庭情况表（1/10）家庭总人口几人？" in wang.text
    await wang.steps("4", "2", "工人", "父母", "好", "否", "核心家庭", "一般", "工人", "个体")
    assert "家庭情况表：家庭人口 4" in wang.text  # back at the household section
    await wang.press("跳过")
    assert "指导意见" in wang.text  # not asked a second time
    await wang.steps(*AFTER_FAMILY, "保存")
    profile = (await profiles(db))[ts.students["李娜"].id or 0]
    assert (profile.household_size, profile.family_structure, profile.mother_work) == (
        4,
        "nuclear",
        "self_employed",
    )


async def test_a_one_message_log_is_offered_the_questions_on_its_summary(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(">今天上门家访了三(2)班李娜，见了妈妈", "常规")
    assert "请核对这次家访记录" in wang.text
    assert "大走访：还可补充家庭情况（家庭结构、经济状况等）。" in wang.text
    assert wang.labels[-1] == "补充家庭情况"
    await wang.press("补充家庭情况")
    assert "家庭情况表（1/6）家庭结构？" in wang.text
    await wang.steps("单亲家庭", "一般")
    await wang.press("结束填写")
    assert "请核对这次家访记录" in wang.text
    assert "家庭情况表：家庭结构 单亲家庭 · 经济状况 一般" in wang.text
    assert "还可补充家庭情况" not in wang.text
    assert "补充家庭情况" not in wang.labels
    await wang.press("保存")
    profile = (await profiles(db))[ts.students["李娜"].id or 0]
    assert (profile.family_structure, profile.economy, profile.housing) == (
        "single_parent",
        "fair",
        None,
    )


async def test_a_one_message_log_is_saved_without_the_questions(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(">今天电话联系了三(2)班李娜妈妈", "常规", "保存")
    assert wang.text.startswith("已保存。")
    assert len(await visits(db)) == 1


async def test_the_offer_is_left_out_when_the_household_is_known(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*TO_FAMILY, *CAMPAIGN_ANSWERS, *AFTER_FAMILY, "保存")
    await wang.steps(">今天电话联系了三(2)班李娜妈妈", "常规")
    assert "请核对这次家访记录" in wang.text
    assert "补充家庭情况" not in wang.text


# -- before saving ---------------------------------------------------------------------------------


FIRST_VISIT = ">11月12日上门家访了三(2)班张小明，见了奶奶"


async def test_a_household_another_teacher_visited_first_asks_before_saving(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    dispatcher = full_dispatcher(db, clock)
    wang = await person(db, clock, dispatcher, ts.staff["王芳"])
    sun = await person(db, clock, dispatcher, ts.staff["孙丽"])
    await wang.steps(FIRST_VISIT, "重点", "保存")
    assert wang.text.startswith("已保存。")

    # 孙丽 visits the sister: the same household.
    await sun.steps(">今天上门家访了四(1)班张小红，见了妈妈", "常规")
    assert "这一家由" not in sun.text  # her own household
    await sun.press("保存")
    assert "已由王芳老师于11月12日家访过，仍要记录吗？" in sun.text
    assert sun.labels == ["仍要记录", "返回修改"]
    await sun.press("返回修改")
    assert "好的，还没有保存。" in sun.text
    assert "要修改哪一项？" in sun.text
    assert len(await visits(db)) == 1

    await sun.steps("返回核对", "保存")
    assert "已由王芳老师于11月12日家访过" in sun.text
    await sun.press("仍要记录")
    assert sun.text.startswith("已保存。")
    assert len(await visits(db)) == 2


async def test_the_same_teacher_again_is_a_second_visit_without_a_caution(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(FIRST_VISIT, "重点", "保存")
    await wang.steps(">今天上门家访了三(2)班张小明，见了奶奶", "重点", "保存")
    assert wang.text.startswith("已保存。")
    assert len(await visits(db)) == 2


async def test_a_visit_the_campaign_does_not_count_is_not_a_double_visit(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)  # in person only
    dispatcher = full_dispatcher(db, clock)
    wang = await person(db, clock, dispatcher, ts.staff["王芳"])
    sun = await person(db, clock, dispatcher, ts.staff["孙丽"])
    await wang.steps(FIRST_VISIT, "重点", "保存")
    await sun.steps(">今天电话联系了四(1)班张小红妈妈", "常规", "保存")
    assert sun.text.startswith("已保存。")


async def test_a_colleagues_household_is_named_on_the_summary_without_stopping_the_save(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await start_campaign(db, ts)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(">今天上门家访了三(2)班张小明，见了奶奶", "重点")
    assert "这一家由孙丽老师包保。" in wang.text
    assert "已由" not in wang.text
    await wang.press("保存")
    assert wang.text.startswith("已保存。")  # nobody visited before: nothing to confirm
