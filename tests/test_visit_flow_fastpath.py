"""One-message visit logs: recognise what the message says, ask only for what is missing."""

from __future__ import annotations

from datetime import date

from models.db.engine import Database
from models.roster.tables import Student
from models.visits.message_rules import VISIT_TEXT_LIMIT
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import ChatUser, chat_as, conversation_of, visits


async def wang(db: Database, clock: FakeClock, *, namesake: bool = False) -> ChatUser:
    """王芳 (三(2)班 head, maths in 三(1)班); with `namesake`, a second 李华 in 三(2)班."""
    ts = await seed_school(db)
    if namesake:
        async with db.session() as session:
            session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no="S099",
                    name="李华",
                    class_id=ts.classes["三(2)班"].id or 0,
                )
            )
    return await chat_as(db, clock, ts.staff["王芳"])


async def test_home_visit_example_asks_only_the_category_then_saves(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("今天上门家访了三(2)班张小明，见了奶奶，最近作业按时完成")
    assert "已识别：三(2)班 张小明 · 2026年11月16日 · 上门家访 · 奶奶" in user.text
    assert "建议选择重点家访" in user.text
    await user.press("重点")
    assert "请核对这次家访记录" in user.text
    assert "备注：最近作业按时完成" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.form, visit.category, visit.met, visit.notes) == (
        date(2026, 11, 16),
        VisitForm.HOME,
        VisitCategory.KEY,
        "奶奶",
        "最近作业按时完成",
    )
    assert "本月上门家访 1/10。" in user.text


async def test_phone_example_records_yesterday_the_mother_and_the_rest_as_notes(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("昨天电访李华妈妈 说孩子感冒")
    assert "请选择家访分类" in user.text
    await user.steps("常规", "保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.form, visit.met, visit.notes) == (
        date(2026, 11, 15),
        VisitForm.PHONE,
        "母亲",
        "说孩子感冒",
    )
    assert (visit.school_report, visit.problems, visit.needs_school) == ("", "", False)


async def test_two_students_with_the_same_name_are_offered_to_choose_from(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock, namesake=True)
    await user.send("昨天电访李华妈妈 说孩子感冒")
    assert "有 2 位叫李华的同学" in user.text
    assert user.labels == ["三(1)班 李华", "三(2)班 李华", "按班级选择"]
    await user.press("三(2)班 李华")
    assert "请选择家访分类" in user.text


async def test_a_class_in_the_message_tells_namesakes_apart(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock, namesake=True)
    await user.send("昨天电访三(2)班李华妈妈 说孩子感冒")
    assert "已识别：三(2)班 李华" in user.text
    assert "请选择家访分类" in user.text


async def test_missing_parts_are_asked_and_nothing_else(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    asked = []
    await user.send("张小明 孩子最近很开心")
    asked.append(user.text.splitlines()[-1])
    for label in ("电访", "常规", "今天", "父亲"):
        await user.press(label)
        asked.append(user.text.splitlines()[0])
    assert asked == [
        "请选择家访形式：",
        "该生为单亲、留守学生，建议选择重点家访。",
        "家访是哪一天？",
        "这次见到的是学生的哪位家长或看护人？",
        "请核对这次家访记录：",
    ]
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.form, visit.met, visit.notes) == (VisitForm.PHONE, "父亲", "孩子最近很开心")


async def test_form_word_without_a_student_asks_for_the_student(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("今天电访了张小红妈妈")  # 张小红 is not 王芳's student
    assert "请选择学生所在的班级" in user.text
    await user.steps("三(2)班", "李娜")
    assert "请选择家访分类" in user.text


async def test_future_date_in_the_message_is_refused_and_asked_again(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("11月20日上门家访张小明，见了爸爸")
    assert "家访日期不能晚于今天" in user.text
    await user.press("重点")
    assert "家访是哪一天？" in user.text


async def test_optional_sections_can_still_be_edited_from_the_summary(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps(">昨天电访李华妈妈 说孩子感冒", "常规", "修改", "发现的问题", ">发烧三天")
    assert "需要学校处理吗" in user.text
    await user.steps("需要学校处理", "保存")
    [visit] = await visits(db)
    assert (visit.problems, visit.needs_school, visit.notes) == ("发烧三天", True, "说孩子感冒")


async def test_message_that_is_not_a_visit_gets_the_help(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.send("老师您好，请问明天几点开会？")
    assert "/visit — 记录一次家访" in user.text
    assert await conversation_of(db, user) is None


async def test_message_over_the_one_message_limit_is_not_read_and_says_what_to_do_instead(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    text = "今天电访张小明妈妈，孩子" + "很" * VISIT_TEXT_LIMIT
    await user.send(text[: VISIT_TEXT_LIMIT + 1])
    assert f"这条消息有 {VISIT_TEXT_LIMIT + 1} 个字，太长了" in user.text
    assert f"一句话记录最多 {VISIT_TEXT_LIMIT} 个字" in user.text
    assert "发送 /visit 按步骤填写" in user.text
    assert await conversation_of(db, user) is None
