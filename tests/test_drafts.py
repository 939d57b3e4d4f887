"""Drafts: a command mid-visit asks before anything is lost, an idle visit is kept as a draft,
/drafts resumes one where it stood, and old drafts are cleared with a note (real dispatcher)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.db.engine import Database
from models.drafts.tables import Draft
from models.school.tables import School
from scheduler.jobs.drafts import clear_old_drafts
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import seed_school
from tests.helpers.outbox import outbox
from tests.helpers.visits import FULL_VISIT, ChatUser, chat_as, conversation_of, visits

#: Up to the question after 见到的家长: 在校情况反馈.
TO_SCHOOL_REPORT = FULL_VISIT[:7]


async def teacher(db: Database, clock: FakeClock) -> ChatUser:
    ts = await seed_school(db)
    return await chat_as(db, clock, ts.staff["王芳"])


async def drafts_in(db: Database) -> list[Draft]:
    async with db.session() as session:
        return list((await session.exec(select(Draft))).all())


async def test_a_command_mid_visit_asks_whether_to_save_a_draft(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT, "/absence")
    assert user.text == "您正在记录张小明的家访，要先保存草稿吗？"
    assert user.labels == ["继续记录", "保存草稿", "放弃"]
    assert (await conversation_of(db, user)) is not None


async def test_a_saved_draft_resumes_at_the_same_question_with_every_answer_kept(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT)
    question = user.text
    await user.steps("/visit", "保存草稿")
    assert "已保存为草稿（记录张小明的家访）" in user.text
    assert "请选择学生所在的班级" in user.text  # then /visit ran
    await user.send("/cancel")
    await user.send("/drafts")
    assert "1. 记录张小明的家访（最后编辑于 11月16日 10:00）" in user.text
    await user.press("继续第 1 份")
    assert user.text == f"继续草稿：记录张小明的家访\n{question}"
    await user.steps(*FULL_VISIT[7:], "保存")
    [visit] = await visits(db)
    assert (visit.met, visit.school_report, visit.needs_school) == (
        "奶奶",
        "最近作业按时完成",
        True,
    )
    assert await drafts_in(db) == []


async def test_dropping_the_visit_loses_it_and_runs_the_command(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT, "/visit", "放弃")
    assert "已放弃，本次内容没有保存。" in user.text
    assert "请选择学生所在的班级" in user.text
    assert await drafts_in(db) == []
    await user.send("/drafts")
    assert user.replies[0].text == "您没有保存的草稿。"


async def test_going_on_asks_the_same_question_again_and_loses_nothing(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT)
    question = user.text
    await user.steps("/notice", "继续记录")
    assert user.text == question
    await user.steps(*FULL_VISIT[7:], "保存")
    [visit] = await visits(db)
    assert visit.met == "奶奶"


async def test_quota_mid_visit_answers_then_asks_the_same_question_again(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*FULL_VISIT[:6])
    question = user.replies[-1]
    await user.send("/quota")
    assert "保存草稿" not in user.labels
    assert user.replies[-1] == question
    assert len(user.replies) > 1
    await user.steps(*FULL_VISIT[6:], "保存")
    [visit] = await visits(db)
    assert (visit.met, visit.measures) == ("奶奶", "每周电话沟通一次")


async def test_an_idle_visit_at_its_summary_card_is_kept_as_a_draft_and_resumes(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*FULL_VISIT)
    assert user.labels[0] == "保存"
    card = user.text
    clock.advance(minutes=31)
    assert await user.dispatcher.expire_idle() == 1
    [note] = await outbox(db, kind="conversation_timeout")
    assert "已保存为草稿（记录张小明的家访）。发送 /drafts 可以继续。" in note.payload["text"]
    assert await conversation_of(db, user) is None
    await user.steps("/drafts", "继续第 1 份")
    assert user.text == f"继续草稿：记录张小明的家访\n{card}"
    await user.press("保存")
    [visit] = await visits(db)
    assert visit.guidance == "多和孩子谈心"


async def test_an_answer_after_the_timeout_finds_the_visit_kept_as_a_draft(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*FULL_VISIT[:5])
    clock.advance(minutes=45)
    await user.press("今天")
    assert "已超过 30 分钟没有继续，已自动结束。已保存为草稿（记录张小明的家访）" in user.text
    [draft] = await drafts_in(db)
    assert draft.state == "date"


async def test_a_draft_older_than_seven_days_is_cleared_with_a_note_to_its_owner(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT, "/absence", "保存草稿")
    async with db.session() as session:
        school = (await session.exec(select(School))).one()
    assert await run_at(db, school, clear_old_drafts, clock() + timedelta(days=6)) == 0
    assert len(await drafts_in(db)) == 1
    assert await run_at(db, school, clear_old_drafts, clock() + timedelta(days=7, hours=1)) == 1
    [note] = await outbox(db, kind="draft_cleared")
    assert note.payload["text"] == "您 11月16日 未完成的家访草稿（张小明）已超过 7 天，已清除。"
    assert note.chat_id == user.user_id
    assert await drafts_in(db) == []


async def test_a_draft_can_be_deleted_from_the_list(db: Database, clock: FakeClock) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT, "/absence", "保存草稿")
    await user.steps("/drafts", "删除第 1 份")
    assert user.text == "已删除草稿：记录张小明的家访"
    assert await drafts_in(db) == []


async def test_resuming_a_draft_over_a_visit_in_progress_keeps_that_one_as_a_draft(
    db: Database, clock: FakeClock
) -> None:
    user = await teacher(db, clock)
    await user.steps(*TO_SCHOOL_REPORT, "/visit", "保存草稿", "三(2)班", "李娜", "/drafts")
    await user.press("继续第 1 份")
    assert "已保存为草稿（记录李娜的家访）" in user.text
    assert "继续草稿：记录张小明的家访" in user.text
    [kept] = await drafts_in(db)
    assert kept.about == "李娜"
