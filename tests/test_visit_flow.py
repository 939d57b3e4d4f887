"""The /visit conversation, step by step through the dispatcher on the console channel."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.dispatcher import Dispatcher
from handlers.registry import all_flows
from models.db.engine import Database
from models.roster.tables import Staff, Student
from models.school.rules import SchoolRules
from models.school.tables import SchoolClass
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox
from tests.helpers.visits import (
    FULL_VISIT,
    ZONE,
    ChatUser,
    chat_as,
    conversation_of,
    offer_button,
    visit_dispatcher,
    visits,
)


async def wang(db: Database, clock: FakeClock) -> tuple[ChatUser, dict[str, int]]:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    return user, {name: s.id or 0 for name, s in ts.students.items()}


async def test_complete_visit_saves_exactly_one_visit_with_every_field(
    db: Database, clock: FakeClock
) -> None:
    user, ids = await wang(db, clock)
    await user.steps(*FULL_VISIT, "保存")
    [visit] = await visits(db)
    assert (visit.student_id, visit.visit_date, visit.form, visit.category, visit.met) == (
        ids["张小明"],
        date(2026, 11, 16),
        VisitForm.HOME,
        VisitCategory.KEY,
        "奶奶",
    )
    assert (visit.school_report, visit.home_learned, visit.family) == (
        "最近作业按时完成",
        "在家主动做家务",
        "父母在外地打工，奶奶照看",
    )
    assert (visit.guidance, visit.measures, visit.problems, visit.needs_school) == (
        "多和孩子谈心",
        "每周电话沟通一次",
        "孩子情绪低落，常一个人哭",
        True,
    )
    assert visit.channel == "console"
    assert await conversation_of(db, user) is None


async def test_summary_card_shows_every_field_with_chinese_labels(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT)
    for line in (
        "学生：三(2)班 张小明",
        "家访形式：上门家访",
        "家访分类：重点",
        "家访日期：2026年11月16日",
        "见到的家长：奶奶",
        "在校情况反馈：最近作业按时完成",
        "家庭表现：在家主动做家务",
        "家庭情况：父母在外地打工，奶奶照看",
        "指导意见：多和孩子谈心",
        "商定措施：每周电话沟通一次",
        "发现的问题：孩子情绪低落，常一个人哭",
        "需要学校处理：是",
    ):
        assert line in user.text
    assert user.labels == ["保存", "修改", "取消"]


async def test_save_reply_shows_progress_this_month(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT, "保存")
    assert user.text.endswith("本月上门家访 1/10。")
    # The same student, day and form again: a second visit only when the teacher says so.
    await user.steps(*FULL_VISIT, "保存")
    assert "今天已记录过张小明的上门家访，仍要再记一条吗？" in user.text
    await user.press("仍要保存")
    assert user.text.startswith("已保存。")
    assert user.text.endswith("本月上门家访 2/10。")
    # A call is a contact, not a visit: the figure is the one /quota shows.
    phoned = tuple("电访" if step == "上门家访" else step for step in FULL_VISIT)
    await user.steps(*phoned, "保存")
    assert user.text.endswith("本月上门家访 2/10。")
    await user.send("/quota")
    assert "本月上门家访 2/10" in user.text
    assert "本月联系家长 3/8 人次" in user.text


async def test_progress_uses_the_schools_own_monthly_target(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    rules = SchoolRules(monthly_visits_head_teacher=12)
    dispatcher = Dispatcher(db, all_flows(), zone=ZONE, clock=clock, rules=rules)
    user = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await user.steps(*FULL_VISIT, "保存")
    assert user.text.endswith("本月上门家访 1/12。")


async def test_flagged_problem_queues_one_message_per_admin_account(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id="4242")
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FULL_VISIT, "保存")
    [visit] = await visits(db)
    rows = await outbox(db)
    assert sorted((m.channel, m.chat_id, m.kind) for m in rows) == [
        ("console", f"staff-{ts.staff['赵敏'].id}", "visit_problem"),
        ("telegram", "4242", "visit_problem"),
    ]
    assert all(m.key.startswith(f"visit-problem:{visit.id}:") for m in rows)
    text = rows[0].payload["text"]
    for part in ("三(2)班", "张小明", "王芳", "2026年11月16日", "孩子情绪低落，常一个人哭"):
        assert part in text
    assert "已转告德育处" in user.text


async def test_flagged_problem_with_no_admin_bound_does_not_claim_it_was_forwarded(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FULL_VISIT, "保存")
    assert await outbox(db) == []
    assert "已转告德育处" not in user.text
    assert "请另行告知德育处" in user.text


@pytest.mark.parametrize("answer", [("不需要",), ()])
async def test_no_alert_when_no_problem_needs_the_school(
    db: Database, clock: FakeClock, answer: tuple[str, ...]
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    user = await chat_as(db, clock, ts.staff["王芳"])
    problem = (">孩子有点挑食", *answer) if answer else ("无",)
    await user.steps(*FULL_VISIT[:-2], *problem, "保存")
    [visit] = await visits(db)
    assert visit.needs_school is False
    assert await outbox(db) == []


async def test_single_class_teacher_goes_straight_to_the_students(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["李强"])
    await user.send("/visit")
    assert "三(1)班" in user.text
    assert user.labels == ["李华", "周杰", "吴迪", "郑爽", "冯雪", "陈晨"]


async def test_long_class_is_paginated_eight_at_a_time(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        for n in range(12):
            session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no=f"X{n:02d}",
                    name=f"学生{n:02d}",
                    class_id=ts.classes["三(1)班"].id or 0,
                )
            )
    user = await chat_as(db, clock, ts.staff["李强"])
    await user.send("/visit")
    assert len([b for b in user.buttons if b.data.startswith("stu:")]) == 8
    assert "下一页" in user.labels and "上一页" not in user.labels
    await user.steps("下一页", "下一页")
    assert "第 3/3 页" in user.text
    assert user.labels == ["学生10", "学生11", "上一页"]
    await user.steps("上一页", "学生07")
    assert "请选择家访形式" in user.text


@pytest.mark.parametrize(
    ("teacher", "typed", "expected"),
    [
        ("王芳", "小明", "请选择家访形式"),  # one match in scope: chosen at once
        ("赵敏", "张小", "请选择是哪一位学生"),  # 张小明 and 张小红 for the whole school
    ],
)
async def test_typing_part_of_a_name_finds_students_in_scope(
    db: Database, clock: FakeClock, teacher: str, typed: str, expected: str
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff[teacher])
    await user.steps("/visit", f">{typed}")
    assert expected in user.text


async def test_visit_command_with_a_name_starts_with_that_student(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.send("/visit 张小明")
    assert "学生：三(2)班 张小明" in user.text
    assert "请选择家访形式" in user.text


async def test_name_not_found_for_a_single_class_teacher_shows_the_class_list(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["李强"])
    await user.send("/visit 张小明")
    assert "没有找到" in user.text
    assert "李华" in user.labels


async def test_name_outside_scope_is_not_found(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.send("/visit 张小红")
    assert "没有找到" in user.text
    assert user.labels == ["三(2)班", "三(1)班"]


async def test_tagged_student_gets_key_visit_proposed_with_the_reason(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "电访")
    assert "该生为单亲、留守学生，建议选择重点家访" in user.text
    assert user.labels == ["重点", "常规", "立即"]
    await user.steps("/visit", "放弃", "三(2)班", "李娜", "电访")
    assert "建议" not in user.text
    assert user.labels == ["常规", "重点", "立即"]


async def test_forged_student_outside_scope_is_refused_and_asked_again(
    db: Database, clock: FakeClock
) -> None:
    user, ids = await wang(db, clock)
    await user.steps("/visit", "三(2)班")
    await offer_button(db, user, "张小红", f"stu:{ids['张小红']}")
    await user.callback(f"stu:{ids['张小红']}")
    assert "不在您任教或负责的班级" in user.text
    assert "张小明" in user.labels
    await user.press("张小明")
    assert "请选择家访形式" in user.text


@pytest.mark.parametrize(
    ("steps", "data"),
    [
        (("/visit",), "cls:99999"),
        (("/visit", "三(2)班"), "stu:abc"),
        (("/visit", "三(2)班"), "stu:²"),
        (("/visit", "三(2)班", "张小明"), "form:teleport"),
        (("/visit", "三(2)班", "张小明"), "form:"),
        (("/visit", "三(2)班", "张小明", "电访", "常规", "今天"), "met:路人"),
        ((*FULL_VISIT, "修改"), "field:teacher_id"),
    ],
)
async def test_forged_callback_data_gets_a_clear_reply_and_the_same_question(
    db: Database, clock: FakeClock, steps: tuple[str, ...], data: str
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*steps)
    before = user.labels
    await offer_button(db, user, "伪造", data)
    await user.callback(data)
    assert "这个选项无效" in user.text
    assert user.labels == before


async def test_button_never_offered_is_refused_by_the_dispatcher(
    db: Database, clock: FakeClock
) -> None:
    user, ids = await wang(db, clock)
    await user.steps("/visit", "三(2)班")
    await user.callback(f"stu:{ids['张小红']}")
    assert "按钮已过期" in user.text
    await user.send("张小明")
    assert "请选择家访形式" in user.text
    assert await visits(db) == []


async def test_student_leaving_scope_before_save_is_not_saved(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FULL_VISIT)
    async with db.session() as session:
        klass = await session.get(SchoolClass, ts.classes["三(2)班"].id)
        assert klass is not None
        klass.head_teacher_id = ts.staff["孙丽"].id
        session.add(klass)
    await user.press("保存")
    assert "不在您任教或负责的范围内" in user.text
    assert await visits(db) == []


async def test_text_where_a_button_is_expected_gets_a_hint_and_the_same_buttons(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", ">随便写写")
    assert "请回复选项前面的数字来选择" in user.text
    assert user.labels == ["上门家访", "家长来访", "约访", "电访", "信访", "视频家访"]


async def test_typing_a_buttons_label_presses_it(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", ">三(2)班", ">张小明", ">电访")
    assert "请选择家访分类" in user.text


async def test_a_number_chooses_the_option_on_the_console(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", ">4", ">2", ">1")
    assert "这次见到的是" in user.text


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("11月20日", "不能晚于今天（2026年11月16日）"),
        ("2026-11-17", "不能晚于今天"),
        ("2026-08-31", "不能早于本学年开始的 2026年9月1日"),
        ("明年某天", "没能看懂这个日期"),
    ],
)
async def test_bad_date_is_refused_then_a_good_one_accepted(
    db: Database, clock: FakeClock, typed: str, refusal: str
) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "电访", "常规", "其他日期", f">{typed}")
    assert refusal in user.text
    assert user.labels == ["今天", "昨天", "其他日期"]
    await user.send("11月13日")
    assert "这次见到的是" in user.text
    await user.steps("母亲", "跳过", "跳过", "跳过", "跳过", "跳过", "无", "保存")
    [visit] = await visits(db)
    assert visit.visit_date == date(2026, 11, 13)


async def test_yesterday_button_records_yesterday(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "李娜", "电访", "常规", "昨天", "其他", ">舅舅")
    await user.steps("跳过", "跳过", "跳过", "跳过", "跳过", "无", "保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.met) == (date(2026, 11, 15), "舅舅")


async def test_five_thousand_characters_are_refused_and_the_conversation_continues(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:7], ">" + "很" * 5000)
    assert "最多 2000 个字，您发来的有 5000 个字" in user.text
    assert "在校情况反馈" in user.text
    await user.send("一切都好")
    assert "家庭表现" in user.text


async def test_long_answer_to_who_was_met_is_refused_with_its_limit(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:6], "其他", ">" + "舅" * 51)
    assert "最多 50 个字" in user.text
    assert "父亲" in user.labels


async def test_emoji_are_stored_as_written(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:7], ">作业按时完成 👍😀", *["跳过"] * 4, "无", "保存")
    [visit] = await visits(db)
    assert visit.school_report == "作业按时完成 👍😀"


@pytest.mark.parametrize("done", [1, 3, 6, 9, len(FULL_VISIT)])
async def test_cancel_at_any_step_saves_nothing(db: Database, clock: FakeClock, done: int) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:done], "/cancel")
    assert "已取消" in user.text
    assert await visits(db) == []
    assert await conversation_of(db, user) is None


async def test_cancel_button_on_the_summary_saves_nothing(db: Database, clock: FakeClock) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT, "取消")
    assert "没有保存" in user.text
    assert await visits(db) == []
    assert await outbox(db) == []


async def test_edit_a_field_returns_to_the_summary_and_saves_the_change(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT, "修改", "家访形式", "电访")
    assert "家访形式：电访" in user.text
    assert user.labels == ["保存", "修改", "取消"]
    await user.steps("修改", "指导意见", ">按时作息")
    assert "指导意见：按时作息" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.form, visit.guidance) == (VisitForm.PHONE, "按时作息")


async def test_edit_the_student_asks_for_the_student_then_returns(
    db: Database, clock: FakeClock
) -> None:
    user, ids = await wang(db, clock)
    await user.steps(*FULL_VISIT, "修改", "学生", "三(1)班", "李华")
    assert user.labels == ["常规", "重点", "立即"]  # asked again: 李华 has no special type
    await user.press("常规")
    assert "学生：三(1)班 李华" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.student_id, visit.category) == (ids["李华"], VisitCategory.ROUTINE)


async def test_changing_to_a_special_type_student_proposes_a_key_visit_again(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT, "修改", "学生", "三(2)班", "王磊")
    assert "学习困难" in user.text
    assert user.labels[0] == "重点"


async def test_idle_conversation_ends_politely_after_thirty_minutes(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:5])
    clock.advance(minutes=31)
    await user.press("今天")
    assert "已超过 30 分钟没有继续，已自动结束" in user.text
    assert await conversation_of(db, user) is None
    assert await visits(db) == []


async def test_idle_sweep_tells_the_teacher_through_the_outbox(
    db: Database, clock: FakeClock
) -> None:
    user, _ = await wang(db, clock)
    await user.steps(*FULL_VISIT[:5])
    clock.advance(minutes=31)
    assert await user.dispatcher.expire_idle() == 1
    [message] = await outbox(db)
    assert (message.kind, message.chat_id) == ("conversation_timeout", user.user_id)
    assert await conversation_of(db, user) is None


async def test_restart_mid_flow_continues_where_the_teacher_was(
    db: Database, clock: FakeClock
) -> None:
    user, ids = await wang(db, clock)
    await user.steps(*FULL_VISIT[:9])
    restarted = ChatUser(visit_dispatcher(db, clock), user.user_id)
    restarted.replies = user.replies
    await restarted.steps(*FULL_VISIT[9:], "保存")
    [visit] = await visits(db)
    assert (visit.student_id, visit.home_learned, visit.needs_school) == (
        ids["张小明"],
        "在家主动做家务",
        True,
    )


async def test_staff_whose_role_does_not_visit_are_told_who_may_and_nothing_starts(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    care = Staff(school_id=ts.school.id or 0, staff_no="T08", name="林静", roles="care")
    async with db.session() as session:
        session.add(care)
    user = await chat_as(db, clock, care)
    await user.send("/visit")
    assert user.text == "记录家访只对班主任、任课教师、教练、德育处和校长开放。"
    assert await conversation_of(db, user) is None


async def test_guardian_cannot_start_a_visit(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    external = await bind(db, clock, ts.guardians["刘梅"])
    parent = ChatUser(visit_dispatcher(db, clock), external)
    await parent.send("/visit")
    assert parent.text == "记录家访只对班主任、任课教师、教练、德育处和校长开放。"
    assert await conversation_of(db, parent) is None
