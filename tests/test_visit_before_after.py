"""Before and after the visit (issue 16, item 4): what a teacher reads when starting a visit,
a late filing's reason and delay, and 德育处's figures: the classes furthest behind, late
filings per teacher.

The clock stands on Monday 16 November 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import date

import pytest

from models.db.engine import Database
from models.school.rules import SchoolRules
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.quota import YEAR_2026, add_terms, add_visits
from tests.helpers.visits import chat_as, visits


async def test_the_form_question_starts_with_the_students_last_visit_and_what_was_agreed(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "李强", ["张小明"], day=date(2026, 10, 12))
    await add_visits(
        db,
        ts,
        "王芳",
        ["张小明"],
        day=date(2026, 10, 20),
        form=VisitForm.PHONE,
        measures="每周电话沟通一次",
        problems="孩子情绪低落，常一个人哭",
    )
    await add_visits(db, ts, "王芳", ["张小明"], day=date(2026, 6, 1))  # last school year
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/visit 张小明")
    lines = user.text.splitlines()
    assert lines[1:4] == [
        "上次家访：2026年10月20日 电访（王芳）",
        "商定的措施：每周电话沟通一次；待跟进的问题：孩子情绪低落，常一个人哭",
        "请选择家访形式：",
    ]


async def test_a_student_not_visited_this_school_year_is_said_so(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["李娜"], day=date(2026, 6, 1))
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/visit 李娜")
    assert "本学年还没有这位学生的家访记录。\n请选择家访形式：" in user.text


VISIT_OF = ("/visit", "三(2)班", "张小明", "上门家访", "常规", "其他日期")
AFTER_MET = ("奶奶", "跳过", "跳过", "跳过", "跳过", "跳过", "无")


@pytest.mark.parametrize(
    ("typed", "late"),
    [
        ("11月9日", False),  # 7 days back: within the limit
        ("11月8日", True),  # 8 days back
        ("2026-10-05", True),
    ],
)
async def test_a_visit_more_than_seven_days_back_needs_a_reason(
    db: Database, clock: FakeClock, typed: str, late: bool
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*VISIT_OF, f">{typed}")
    if late:
        assert "超过了学校规定的 7 天" in user.text
        assert "请简单说明为什么现在才记录" in user.text
        await user.send("   ")
        assert user.text.startswith("请用一句话说明原因。")
        await user.send("期中考试周，一直没顾上整理")
    assert user.text.endswith("这次见到的是学生的哪位家长或看护人？")
    await user.steps(*AFTER_MET)
    assert ("晚记录原因：期中考试周，一直没顾上整理" in user.text) is late
    await user.press("保存")
    [visit] = await visits(db)
    assert visit.filed_days_late == (date(2026, 11, 16) - visit.visit_date).days
    assert visit.late_reason == ("期中考试周，一直没顾上整理" if late else "")


async def test_moving_the_date_within_the_limit_drops_the_reason(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*VISIT_OF, ">11月1日", ">补记", *AFTER_MET)
    assert "晚记录原因：补记" in user.text
    await user.steps("修改", "家访日期", "昨天")
    assert "晚记录原因" not in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.filed_days_late, visit.late_reason) == (
        date(2026, 11, 15),
        1,
        "",
    )


async def test_the_limit_is_the_schools_setting(db: Database, clock: FakeClock) -> None:
    from tests.helpers.visits import full_dispatcher

    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock, SchoolRules(late_filing_days=3))
    user = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await user.steps(*VISIT_OF, ">11月12日")
    assert "超过了学校规定的 3 天" in user.text


async def test_a_one_message_visit_from_long_ago_asks_for_the_reason_too(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("10月30日上门家访了三(2)班张小明，见了奶奶")
    await user.press("常规")
    assert "这次家访是 17 天前（2026年10月30日）的" in user.text
    await user.send("家长一直出差，今天才补记")
    assert "晚记录原因：家长一直出差，今天才补记" in user.text


# -- 德育处's figures -----------------------------------------------------------------------------


async def test_the_admin_sees_the_classes_furthest_behind_and_late_filings(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    # 三(2)班: 王芳 4/10, four homes visited; 三(1)班: 李强 1/10, one home; 四(1)班: none.
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "刘洋"], day=date(2026, 11, 10))
    await add_visits(db, ts, "李强", ["李华"], day=date(2026, 11, 2), filed_days_late=9)
    await add_visits(db, ts, "王芳", ["陈静"], day=date(2026, 9, 20), form=VisitForm.PHONE)
    await add_visits(
        db,
        ts,
        "王芳",
        ["杨帆"],
        day=date(2026, 11, 3),
        category=VisitCategory.KEY,
        filed_days_late=12,
    )
    await add_visits(db, ts, "王芳", ["李娜"], day=date(2026, 11, 11), filed_days_late=8)
    user = await chat_as(db, clock, ts.staff["赵敏"])  # 德育处, no class of her own
    await user.send("/quota")
    assert user.text.splitlines() == [
        "进度最落后的班级：",
        "　四(1)班（孙丽）本月 0/10，入户 0/6 人",
        "　三(1)班（李强）本月 1/10，入户 1/6 人",
        "　三(2)班（王芳）本月 6/10，入户 5/6 人",
        "本月晚记录（家访后超过 7 天才记录）：王芳 2 条、李强 1 条",
    ]
