"""The problem ledger in the chat, as staff use it: `/ledger`, an item's card, classifying,
progress notes, closing only with a note, reopening with a reason, the history; and refusals for
people an item is not for (forged buttons included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from handlers.dispatcher import Dispatcher
from handlers.ledger import buttons as b
from models.db.engine import Database
from models.duties.tables import Duty
from models.ledger.tables import LedgerEvent, LedgerEventKind, LedgerItem, LedgerStatus
from models.roster.tables import Staff
from models.school.rules import DEFAULT_RULES
from scheduler.jobs.ledger import LEDGER_REMINDERS
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, run_at
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import FULL_VISIT, ChatUser, chat_as, full_dispatcher


async def _items(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        return list((await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all())


async def _events(db: Database, item_id: int) -> list[LedgerEvent]:
    async with db.session() as session:
        query = (
            select(LedgerEvent).where(LedgerEvent.item_id == item_id).order_by(col(LedgerEvent.id))
        )
        return list((await session.exec(query)).all())


async def _visit_with_problem(
    db: Database, school: TestSchool, clock: FakeClock
) -> tuple[Dispatcher, ChatUser, int]:
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.steps(*FULL_VISIT, "保存")
    [item] = await _items(db)
    return dispatcher, teacher, item.id or 0


async def _classify_track(admin: ChatUser, item_id: int) -> None:
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "跟踪解决", "王芳", "1周内", "每7天")
    assert "请核对台账" in admin.text
    await admin.press("确认")


async def test_a_teacher_sees_their_problem_in_the_ledger_and_the_admin_sees_the_counts(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, teacher, item_id = await _visit_with_problem(db, school, clock)
    await teacher.send("/ledger")
    assert "您的未办结台账（共 1 条" in teacher.text
    assert f"#{item_id} 三(2)班张小明 · 待分类" in teacher.text
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send("台账")
    assert "三(2)班：待分类 1 · 处理中 0 · 已办结 0" in admin.text
    assert "需要关注（共 1 条" in admin.text
    await admin.press(f"#{item_id} 张小明")
    assert f"台账 #{item_id} · 待分类" in admin.text
    assert "问题：孩子情绪低落，常一个人哭" in admin.text
    assert "家访记录：11月16日 王芳 上门家访" in admin.text
    assert "分类并指派" in admin.labels


async def test_classifying_tells_the_owner_and_shows_the_item_in_progress(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await _classify_track(admin, item_id)
    assert "已保存分类。" in admin.text
    assert f"台账 #{item_id} · 处理中" in admin.text
    assert "分类：跟踪解决，每7天记录一次进展" in admin.text
    assert "负责人：王芳 · 11月23日到期" in admin.text
    [item] = await _items(db)
    assert (item.status, item.owner_id, item.follow_every_days) == (
        LedgerStatus.ACTIVE,
        school.staff["王芳"].id,
        7,
    )
    [told] = await outbox(db, kind="ledger_owner")
    assert "赵敏请您负责台账" in reply_of(told).text
    assert reply_of(told).choices() == [f"!{b.OPEN}:{item_id}"]


async def test_nothing_closes_without_a_note_and_a_reopen_keeps_the_history(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await _classify_track(admin, item_id)
    clock.advance(hours=1)
    await teacher.send(f"/ledger {item_id}")
    await teacher.steps("记录进展", ">已和奶奶通电话，孩子情绪好转")
    assert "已记录进展。" in teacher.text
    await teacher.steps("办结", "已解决")
    await teacher.send("   ")
    assert "办结必须写明处理结果，不能为空" in teacher.text
    assert (await _items(db))[0].status is LedgerStatus.ACTIVE
    await teacher.send("心理老师跟进两周，孩子已恢复正常")
    assert "已办结。" in teacher.text and f"台账 #{item_id} · 已办结" in teacher.text
    assert "办结：已解决" in teacher.text
    await admin.send(f"/ledger {item_id}")
    await admin.steps("重新打开", ">家长反映孩子又出现情绪问题")
    assert f"台账 #{item_id} · 处理中" in admin.text
    await admin.press("查看记录")
    history = admin.text
    for line in (
        "登记 · 王芳",
        "分类 · 赵敏：跟踪解决",
        "进展 · 王芳：已和奶奶通电话",
        "办结 · 王芳 · 已解决：心理老师跟进两周",
        "重新打开 · 赵敏：家长反映",
    ):
        assert line in history
    kinds = [e.kind for e in await _events(db, item_id)]
    assert kinds == [
        LedgerEventKind.CREATED,
        LedgerEventKind.CLASSIFIED,
        LedgerEventKind.PROGRESS,
        LedgerEventKind.CLOSED,
        LedgerEventKind.REOPENED,
    ]


async def test_staff_an_item_is_not_for_cannot_open_or_act_on_it_even_with_forged_buttons(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, teacher, item_id = await _visit_with_problem(db, school, clock)
    other = await chat_as(db, clock, school.staff["李强"], dispatcher)
    for action in (b.OPEN, b.LOG, b.NOTE, b.CLOSE, b.REOPEN):
        await other.callback(f"!{action}:{item_id}")
        assert "没有找到这条台账，或您没有查看它的权限。" in other.text
        assert "孩子情绪低落" not in other.text
    await other.callback(f"!{b.CLASSIFY}:{item_id}")  # the matrix: only 德育处 and the principal
    assert other.text == "这个按钮不适用于您。"
    await other.send(f"/ledger {item_id}")
    assert "没有找到这条台账" in other.text
    await teacher.callback(f"!{b.CLASSIFY}:{item_id}")
    assert teacher.text == "这个按钮不适用于您。"
    await teacher.callback(f"!{b.CLOSE}:{item_id}")
    assert "这项操作现在不适用于这条台账。" in teacher.text
    [item] = await _items(db)
    assert item.status is LedgerStatus.OPEN and len(await _events(db, item_id)) == 1


async def test_a_head_teacher_classifies_their_class_only_when_the_school_allows_it(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    rules = DEFAULT_RULES.model_copy(update={"ledger_head_teacher_classifies": True})
    dispatcher = full_dispatcher(db, clock, rules=rules)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.steps(*FULL_VISIT, "保存")
    [item] = await _items(db)
    await teacher.send(f"/ledger {item.id}")
    await teacher.steps("分类并指派", "立即解决", "王芳", "今天", "确认")
    assert f"台账 #{item.id} · 处理中" in teacher.text


@pytest.mark.parametrize(
    ("typed", "note"),
    [
        ("2020-01-01", "截止日期不能早于今天。"),
        ("2028-01-01", "截止日期超过一年，请检查年份。"),
        ("下个月吧", "没能读懂这个日期"),
    ],
)
async def test_a_due_date_that_cannot_be_is_asked_again(
    db: Database, school: TestSchool, clock: FakeClock, typed: str, note: str
) -> None:
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "立即解决", "王芳")
    await admin.send(typed)
    assert note in admin.text and "请选择截止日期" in admin.text
    await admin.send("11月30日")
    assert "截止日期：11月30日" in admin.text


async def test_a_typed_name_finds_the_owner_and_a_long_note_is_refused(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "上报", ">钱")
    assert "请选择截止日期" in admin.text
    await admin.steps("2周内", ">区教育局安全科", "确认")
    assert "分类：上报，上报至区教育局安全科" in admin.text
    assert "负责人：钱进" in admin.text
    await admin.press("记录上级答复")
    await admin.send("答" * 5000)
    assert "内容太长了：最多 500 个字，您发来的有 5000 个字" in admin.text
    await admin.send("教育局回复：已安排维修")
    assert "已记录上级答复。" in admin.text
    kinds = [e.kind for e in await _events(db, item_id)]
    assert kinds[-1] is LedgerEventKind.REPLY


async def test_a_district_admin_on_the_roster_is_never_offered_as_an_owner(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    async with db.session() as session:
        session.add(
            Staff(school_id=school.school.id or 0, staff_no="D01", name="钱督导", roles="district")
        )
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "跟踪解决", ">钱")
    assert "请选择截止日期" in admin.text  # 钱进 alone matched: straight to the due date
    await admin.steps("1周内", "每7天")
    assert "负责人：钱进" in admin.text and "钱督导" not in admin.text


async def test_explaining_face_to_face_gives_the_owner_a_visit_duty(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "当面解释", "王芳", "3天内", "确认")
    async with db.session() as session:
        [duty] = (await session.exec(select(Duty))).all()
    assert (duty.teacher_id, duty.student_id, duty.source_key) == (
        school.staff["王芳"].id,
        school.students["张小明"].id,
        f"ledger:{item_id}",
    )


async def test_staff_record_a_problem_by_hand_for_a_student_or_the_whole_school(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    teacher = await chat_as(db, clock, school.staff["王芳"], full_dispatcher(db, clock))
    await teacher.send("/ledger add 李娜")
    assert "请描述发现的问题" in teacher.text
    await teacher.send("午餐经常吃不完，家长希望学校关注")
    assert "已登记为台账 #" in teacher.text and "三(2)班李娜" in teacher.text
    await teacher.send("/ledger")
    await teacher.press("登记新问题")
    await teacher.press("全校性问题（不涉及具体学生）")
    await teacher.send("")
    assert "请用文字描述问题。" in teacher.text
    await teacher.send("校门口接送时段交通拥堵")
    items = await _items(db)
    assert [(i.student_id, i.recorded_by, i.description) for i in items] == [
        (school.students["李娜"].id, school.staff["王芳"].id, "午餐经常吃不完，家长希望学校关注"),
        (None, school.staff["王芳"].id, "校门口接送时段交通拥堵"),
    ]
    await teacher.send("/ledger")
    assert "共 2 条" in teacher.text


async def test_an_overdue_item_is_marked_and_listed_first_for_the_admin(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "立即解决", "王芳", "今天", "确认")
    await admin.send("/ledger add")
    await admin.press("全校性问题（不涉及具体学生）")
    await admin.send("操场围栏破损")
    clock.advance(days=2)
    await admin.send("/ledger")
    assert "三(2)班：待分类 0 · 处理中 1 · 逾期 1 · 已办结 0" in admin.text
    listed = admin.text.split("需要关注")[1]
    assert listed.index(f"#{item_id}") < listed.index("操场围栏")
    assert "11月16日到期（已逾期）" in listed
    assert clock() - timedelta(days=2) < clock()


async def test_the_office_alert_of_a_visit_problem_opens_its_ledger_item(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await chat_as(db, clock, school.staff["赵敏"])
    dispatcher, _teacher, item_id = await _visit_with_problem(db, school, clock)
    [alert] = await outbox(db, kind="visit_problem")
    reply = reply_of(alert)
    assert f"已登记为台账 #{item_id}，请分类并指派负责人。" in reply.text
    [button] = reply.flat_buttons()
    admin.dispatcher = dispatcher
    await admin.callback(button.data)
    assert f"台账 #{item_id} · 待分类" in admin.text


async def test_the_owners_reminder_opens_the_item_it_names(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, teacher, item_id = await _visit_with_problem(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item_id}")
    await admin.steps("分类并指派", "立即解决", "王芳", "3天内", "确认")
    await run_at(db, school.school, LEDGER_REMINDERS.func, local("2026-11-19 08:00"))
    [reminder] = [
        r for r in await outbox(db) if r.kind != "ledger_owner" and r.chat_id == teacher.user_id
    ]
    [button] = reply_of(reminder).flat_buttons()
    await teacher.callback(button.data)
    assert f"台账 #{item_id} · 处理中" in teacher.text and "记录进展" in teacher.labels


async def test_an_incidents_item_opens_the_incidents_own_history(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher = full_dispatcher(db, clock)
    coach = await chat_as(db, clock, school.staff["钱进"], dispatcher)
    await coach.steps("/incident 张小明", "意外伤害", ">课间摔倒", "已送医院", "确认上报")
    [item] = await _items(db)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send(f"/ledger {item.id}")
    assert "突发事件：11月16日 10:00 意外伤害" in admin.text
    await admin.press("事件记录")
    assert "突发事件记录：三(2)班 张小明（意外伤害）" in admin.text


async def test_a_school_wide_item_is_listed_as_the_whole_schools(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await chat_as(db, clock, school.staff["赵敏"], full_dispatcher(db, clock))
    await admin.steps("/ledger add", "全校性问题（不涉及具体学生）", ">校门口放学时段车辆拥堵")
    await admin.send("/ledger")
    assert "#1 全校 · 待分类" in admin.text and "全校：待分类 1" in admin.text
