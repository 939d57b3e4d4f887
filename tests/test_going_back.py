"""上一步 / 返回 at every step: the question before is asked again, and the answer given to it
is kept in the draft until a new one replaces it (real dispatcher, the visit and /flag flows)."""

from __future__ import annotations

import pytest

from handlers.going_back import split
from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.duties import flags
from tests.helpers.factories import seed_school
from tests.helpers.visits import FULL_VISIT, ChatUser, chat_as, conversation_of, visits


async def state_and_draft(db: Database, user: ChatUser) -> tuple[str, dict[str, object]]:
    conversation = await conversation_of(db, user)
    assert conversation is not None
    draft, _notes = split(conversation.draft)
    return conversation.state, draft


@pytest.mark.parametrize(
    ("answered", "back_to", "field", "kept"),
    [
        (2, "pick_class", "class_id", None),
        (4, "form", "form", "home"),
        (5, "category", "category", "key"),
        (6, "date", "visit_date", "2026-11-16"),
        (7, "met", "met", "奶奶"),
        (8, "school_report", "school_report", "最近作业按时完成"),
        (9, "home_learned", "home_learned", "在家主动做家务"),
        (10, "family", "family", "父母在外地打工，奶奶照看"),
        (11, "guidance", "guidance", "多和孩子谈心"),
        (12, "measures", "measures", "每周电话沟通一次"),
        (13, "problems", "problems", "孩子情绪低落，常一个人哭"),
        (14, "needs_school", "needs_school", True),
    ],
)
async def test_back_in_the_visit_asks_the_previous_question_with_its_answer_kept(
    db: Database, clock: FakeClock, answered: int, back_to: str, field: str, kept: object
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FULL_VISIT[:answered])
    await user.send("上一步")
    assert user.text.startswith("好的，回到上一步。")
    state, draft = await state_and_draft(db, user)
    assert state == back_to
    if kept is not None:
        assert draft[field] == kept


async def test_back_from_the_student_list_shows_the_classes_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班", ">返回")
    assert "请选择学生所在的班级" in user.text
    await user.steps("三(2)班", "张小明", *FULL_VISIT[3:], "保存")
    [visit] = await visits(db)
    assert visit.student_id == ts.students["张小明"].id


FLAG = ("/flag", "三(1)班", "周杰", "家庭重大变故", ">父亲上周因工伤住院")


@pytest.mark.parametrize(
    ("answered", "back_to", "field", "kept"),
    [
        (5, "note", "note", "父亲上周因工伤住院"),
        (4, "trigger", "trigger", "family_change"),
        (3, "student", "student_id", None),
    ],
)
async def test_back_in_the_flag_flow_asks_the_previous_question_with_its_answer_kept(
    db: Database, clock: FakeClock, answered: int, back_to: str, field: str, kept: object
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FLAG[: answered - 1])
    question = user.replies[-1]
    await user.steps(FLAG[answered - 1], ">返回")
    assert user.replies[0].text == "好的，回到上一步。"
    assert user.replies[-1] == question
    state, draft = await state_and_draft(db, user)
    assert state == back_to
    assert draft[field] == (kept if kept is not None else ts.students["周杰"].id)


async def test_back_then_a_new_answer_replaces_the_earlier_one(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(*FLAG)
    await user.send("上一步")
    await user.send("上一步")
    await user.steps("获突出进步或奖励", ">获全市作文比赛一等奖", "确认上报")
    [flag] = await flags(db)
    assert (flag.trigger, flag.note) == ("award", "获全市作文比赛一等奖")


async def test_back_at_the_first_question_says_there_is_none_and_asks_it_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/flag")
    first = user.replies[-1]
    await user.send("上一步")
    assert user.replies[0].text == "这已经是第一步了，没有上一步。"
    assert user.replies[-1] == first
