"""Family situation as fields (issue 16, item 5; seed 003 附2): the household form in /visit,
remembered per household (siblings share it), and the 留守 tag change a visit proposes to
德育处, who approves or refuses it.

The test school: 三(2)班 张小明 (单亲·留守) and 四(1)班 张小红 are siblings; 李娜 has no tag.
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from handlers.types import Reply
from models.db.engine import Database
from models.families.rules import SPECS, FamilyField, parse_answer, tag_change
from models.families.tables import (
    Carer,
    FamilyProfile,
    Housing,
    ParentsWork,
    ProposalStatus,
    TagProposal,
)
from models.roster.tables import Student
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import press_on
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        (FamilyField.HOUSEHOLD_SIZE, "4", 4),
        (FamilyField.HOUSEHOLD_SIZE, "１２", 12),  # full-width digits from an input method
        (FamilyField.HOUSEHOLD_SIZE, "0", None),
        (FamilyField.HOUSEHOLD_SIZE, "四", None),
        (FamilyField.SCHOOL_AGE_CHILDREN, "0", 0),
        (FamilyField.SCHOOL_AGE_CHILDREN, "11", None),
        (FamilyField.PARENTS_WORK, "farmer", ParentsWork.FARMER.value),
        (FamilyField.PARENTS_WORK, "teacher", None),
        (FamilyField.CARER, "grandparents", Carer.GRANDPARENTS.value),
        (FamilyField.HOUSING, "poor", Housing.POOR.value),
        (FamilyField.PARENTS_AWAY, "yes", True),
        (FamilyField.PARENTS_AWAY, "否", False),
        (FamilyField.PARENTS_AWAY, "maybe", None),
    ],
)
def test_each_field_takes_its_own_answers(
    field: FamilyField, typed: str, stored: int | str | bool | None
) -> None:
    assert parse_answer(SPECS[field], typed) == stored


@pytest.mark.parametrize(
    ("tags", "away", "proposal"),
    [
        ([], True, True),  # found left behind: propose the tag
        (["单亲", "留守"], True, None),  # already tagged
        (["留守"], False, False),  # parents back home: propose removing it
        ([], False, None),
        (["留守"], None, None),  # not asked
    ],
)
def test_a_visits_answer_proposes_the_tag_only_when_it_differs(
    tags: list[str], away: bool | None, proposal: bool | None
) -> None:
    assert tag_change(tags, away) is proposal


#: /visit for 李娜 up to the household question, then the form: 4 people, 2 pupils, 工人,
#: 祖辈, 一般, parents away.
TO_FAMILY = ("/visit", "三(2)班", "李娜", "上门家访", "常规", "今天", "母亲", "跳过", "跳过")
FORM = ("填写家庭情况表", "4", "2", "工人", "祖辈", "一般", "是")
AFTER_FAMILY = ("跳过", "跳过", "跳过", "无")


async def profiles(db: Database) -> dict[int, FamilyProfile]:
    async with db.session() as session:
        rows = (await session.exec(select(FamilyProfile))).all()
    return {row.student_id: row for row in rows}


async def proposals(db: Database) -> list[TagProposal]:
    async with db.session() as session:
        return list((await session.exec(select(TagProposal).order_by(col(TagProposal.id)))).all())


async def proposals_for(db: Database, user: ChatUser) -> list[Reply]:
    rows = await outbox(db, kind="tag_proposal", prefix="tag-proposal:")
    return [reply_of(row) for row in rows if row.chat_id == user.user_id]


async def tags_of(db: Database, student_id: int) -> str:
    async with db.session() as session:
        student = await session.get(Student, student_id)
        assert student is not None
        return student.tags


async def test_the_household_form_is_saved_and_a_left_behind_child_is_proposed_to_the_office(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await chat_as(db, clock, ts.staff["赵敏"], dispatcher)
    wang = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await wang.steps(*TO_FAMILY, *FORM)
    assert wang.text.splitlines()[-1] == (
        "家庭情况表：家庭人口 4 · 学龄子女 2 · 家长就业 工人 · 在家照顾 祖辈 · 住房条件 一般 · "
        "父母外出务工 是"
    )
    await wang.steps(*AFTER_FAMILY)
    assert "家庭情况表：家庭人口 4" in wang.text  # on the summary card
    await wang.press("保存")
    assert "已请德育处确认是否将该生标记为留守儿童。" in wang.text

    lina = ts.students["李娜"].id or 0
    saved = (await profiles(db))[lina]
    assert (saved.household_size, saved.school_age_children, saved.parents_work) == (
        4,
        2,
        ParentsWork.WORKER,
    )
    assert (saved.carer, saved.housing, saved.parents_away) == (
        Carer.GRANDPARENTS,
        Housing.FAIR,
        True,
    )

    [message] = await proposals_for(db, admin)
    assert message.text.startswith(
        "【留守儿童标记】王芳家访三(2)班李娜时了解到：父母都在外地务工。"
    )
    await press_on(admin, message, "同意")
    assert admin.text == "已将李娜标记为留守儿童。"
    assert await tags_of(db, lina) == "留守"
    [proposal] = await proposals(db)
    assert proposal.status is ProposalStatus.APPROVED
    await press_on(admin, message, "不同意")  # a second press changes nothing
    assert admin.text == "这项调整已经处理过了。"
    assert await tags_of(db, lina) == "留守"

    # The picker's kept roster reads see the new tag at once: 重点 is proposed for her now.
    await wang.steps("/visit", "三(2)班", "李娜", "上门家访")
    assert "该生为留守学生，建议选择重点家访。" in wang.text


async def test_a_refused_proposal_keeps_the_tags_and_only_the_office_may_decide(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await chat_as(db, clock, ts.staff["赵敏"], dispatcher)
    wang = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await wang.steps(*TO_FAMILY, *FORM, *AFTER_FAMILY, "保存")
    [message] = await proposals_for(db, admin)
    teacher: ChatUser = wang
    await press_on(teacher, message, "同意")  # forged or forwarded: not 德育处
    assert teacher.text == "这个按钮不适用于您。"
    await press_on(admin, message, "不同意")
    assert admin.text == "已保留李娜原来的标记。"
    assert await tags_of(db, ts.students["李娜"].id or 0) == ""
    assert [p.status for p in await proposals(db)] == [ProposalStatus.REFUSED]


async def test_siblings_share_the_household_and_the_form_shows_what_was_recorded(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(
        "/visit",
        "三(2)班",
        "张小明",
        "上门家访",
        "常规",
        "今天",
        "奶奶",
        "跳过",
        "跳过",
        "填写家庭情况表",
        ">5",
        "2",
        "农民",
        "祖辈",
        "差",
        "是",
        *AFTER_FAMILY,
        "保存",
    )
    assert "留守儿童" not in wang.text  # already tagged 留守: nothing to propose
    found = await profiles(db)
    brother, sister = ts.students["张小明"].id or 0, ts.students["张小红"].id or 0
    assert found[brother].household_size == found[sister].household_size == 5
    assert found[sister].housing is Housing.POOR

    sun = await chat_as(db, clock, ts.staff["孙丽"])  # 张小红's head teacher
    await sun.steps(
        "/visit",
        "张小红",
        "上门家访",
        "常规",
        "今天",
        "奶奶",
        "跳过",
        "跳过",
        "填写家庭情况表",
    )
    assert "上次登记：5" in sun.text
    assert "不变" in sun.labels
    await sun.steps(">60")
    assert sun.text.startswith("请输入 1–20 之间的数字")
    await sun.steps("不变", "不变", "不变", "不变", "一般", "结束填写")
    assert sun.text.splitlines()[-1] == "家庭情况表：住房条件 一般"
    await sun.steps(*AFTER_FAMILY, "保存")
    found = await profiles(db)
    assert (found[sister].household_size, found[sister].housing) == (5, Housing.FAIR)
    assert found[brother].housing is Housing.FAIR  # one household
