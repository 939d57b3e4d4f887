"""/campaign's views through the real dispatcher, on the November campaign counted by hand
(`tests.helpers.campaign_figures`): a teacher's own households most due first with a 家访 button
that starts /visit and 更多; 德育处's overview with 入户率 by school, grade, class and leader, the
chart, the households not yet visited per class, double visits and left-behind contacts; a
leader named in the 包保表 sees the overview; forged buttons are refused."""

from __future__ import annotations

import pytest

from handlers.campaigns import views
from models.db.engine import Database
from tests.helpers.campaign_figures import november_campaign
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.visits import ChatUser, conversation_of, full_dispatcher, person


async def _setup(db: Database, clock: FakeClock) -> tuple[TestSchool, int, ChatUser]:
    ts = await seed_school(db)
    campaign = await november_campaign(db, ts)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    return ts, campaign.id or 0, admin


async def test_a_teacher_sees_their_own_households_not_visited_first(
    db: Database, clock: FakeClock
) -> None:
    ts, _campaign, admin = await _setup(db, clock)
    wang = await person(db, clock, admin.dispatcher, ts.staff["王芳"])
    await wang.send("/campaign")
    assert wang.text.splitlines() == [
        "大走访“秋季大走访”（11月1日至11月30日）：您包保 8 户，已访 1 户，未访 7 户。",
        "1. 三(2)班 杨帆 — 未访 · 留守，本月未联系",
        "2. 三(1)班 郑爽 — 未访",
        "3. 三(1)班 冯雪 — 未访",
        "4. 三(1)班 陈晨 — 未访",
        "5. 三(2)班 李娜 — 未访",
        "6. 三(2)班 刘洋 — 未访",
        "7. 三(2)班 陈静 — 未访",
        "8. 三(2)班 王磊 — 已访 11月14日",
    ]
    assert wang.labels == [
        f"家访 {n}" for n in ("杨帆", "郑爽", "冯雪", "陈晨", "李娜", "刘洋", "陈静")
    ]
    sun = await person(db, clock, admin.dispatcher, ts.staff["孙丽"])
    await sun.send("大走访")
    assert "四(1)班 张小红、张小明 — 已访 11月6日" in sun.text
    assert "李华" not in sun.text and "杨帆" not in sun.text
    li = await person(db, clock, admin.dispatcher, ts.staff["李强"])
    await li.send("/campaign")
    # 李华 visited by 李强 himself; 周杰's phone call does not count in person only.
    assert "1. 三(1)班 周杰 — 未访" in li.text
    assert "3. 三(1)班 李华 — 已访 11月3日" in li.text


async def test_a_long_list_comes_a_page_at_a_time(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE", 3)
    ts, _campaign, admin = await _setup(db, clock)
    wang = await person(db, clock, admin.dispatcher, ts.staff["王芳"])
    await wang.send("/campaign")
    assert "3. 三(1)班 冯雪 — 未访" in wang.text and "陈晨" not in wang.text
    await wang.press("更多")
    assert wang.text.splitlines()[0] == "大走访“秋季大走访”：您包保的家庭（续，第 4–6 户）"
    assert "4. 三(1)班 陈晨 — 未访" in wang.text
    await wang.press("更多")
    assert "8. 三(2)班 王磊 — 已访 11月14日" in wang.text
    assert "更多" not in wang.labels


async def test_the_visit_button_starts_a_visit_for_that_child(
    db: Database, clock: FakeClock
) -> None:
    ts, _campaign, admin = await _setup(db, clock)
    wang = await person(db, clock, admin.dispatcher, ts.staff["王芳"])
    await wang.send("/campaign")
    await wang.press("家访 郑爽")
    assert "郑爽" in wang.text
    conversation = await conversation_of(db, wang)
    assert conversation is not None and conversation.flow == "visit"
    assert conversation.draft["student_id"] == ts.students["郑爽"].id


async def test_德育处_sees_coverage_by_class_grade_school_and_leader_with_the_chart(
    db: Database, clock: FakeClock
) -> None:
    _ts, _campaign, admin = await _setup(db, clock)
    await admin.send("/campaign")
    await admin.press("秋季大走访")
    first = admin.replies[0]
    assert first.image is not None and first.image.data is not None
    assert first.image.data.startswith(b"\x89PNG")
    lines = admin.text.splitlines()
    for line in [
        "家庭：17 户",
        "责任教师：王芳 8 户、孙丽 6 户、李强 3 户",
        "入户率：全校 4/17 户（24%）",
        "按年级：三年级 3/12 户（25%）；四年级 2/6 户（33%）",
        "三(1)班 1/6 户（17%）",
        "三(2)班 2/6 户（33%）",
        "四(1)班 2/6 户（33%）",
        "钱进 2/11 户（18%）",
        "陈校长 2/6 户（33%）",
        "尚未走访：13 户",
        "三(1)班 5 户；三(2)班 4 户；四(1)班 4 户",
        "重复走访：2 次（这些家庭只计一次）",
        "1. 三(1)班 李华：李强 11月3日 首访，王芳 11月5日 再访",
        "2. 四(1)班 张小红、张小明：孙丽 11月6日 首访，王芳 11月12日 再访",
        "留守儿童家庭11月联系：已联系 1 户，共 2 户",
        "三(2)班 杨帆（王芳）",
    ]:
        assert line in lines, line
    await admin.press("三(2)班（4）")
    assert admin.text.splitlines() == [
        "三(2)班尚未走访的家庭（4 户）：",
        "1. 李娜 — 王芳老师",
        "2. 刘洋 — 王芳老师",
        "3. 陈静 — 王芳老师",
        "4. 杨帆 — 王芳老师",
    ]


async def test_a_leader_named_in_the_table_sees_the_overview(
    db: Database, clock: FakeClock
) -> None:
    ts, _campaign, admin = await _setup(db, clock)
    qian = await person(db, clock, admin.dispatcher, ts.staff["钱进"])
    await qian.send("/campaign")
    assert "入户率：全校 4/17 户（24%）" in qian.text
    assert "新建大走访" not in qian.labels and "自动分配包保表" not in qian.labels
    await qian.press("四(1)班（4）")
    assert "四(1)班尚未走访的家庭（4 户）：" in qian.text


async def test_a_teacher_cannot_see_another_teachers_list_or_the_overview(
    db: Database, clock: FakeClock
) -> None:
    ts, campaign, admin = await _setup(db, clock)
    li = await person(db, clock, admin.dispatcher, ts.staff["李强"])
    await li.send("/campaign")
    assert "入户率" not in li.text
    klass = ts.classes["三(2)班"].id
    await li.callback(f"!cpu:{campaign}.{klass}")
    assert li.text == "这个按钮不适用于您。"
    await li.callback(f"!cpv:{campaign}")
    assert li.text == "这个按钮不适用于您。"
    await li.callback(f"!cpm:{campaign}.0")  # 更多 shows the presser's own households only
    assert "周杰" in li.text and "杨帆" not in li.text
    await li.callback(f"!cpw:{ts.students['杨帆'].id}")
    assert li.text == "这一家不是您在进行中的大走访里包保的家庭。"
    conversation = await conversation_of(db, li)
    assert conversation is None or conversation.flow != "visit"


async def test_with_no_running_campaign_a_teacher_is_told_so(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await wang.send("/campaign")
    assert wang.text == "目前没有进行中的大走访。"
    await november_campaign(db, ts)
    qian = await person(db, clock, wang.dispatcher, ts.staff["孙丽"])
    await qian.send("/campaign")
    assert "您包保 6 户" in qian.text
