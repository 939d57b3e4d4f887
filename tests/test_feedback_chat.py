"""A parent's feedback 意见反馈 on the real dispatcher: `/feedback` (or 意见) writes a suggestion,
a complaint, a praise or another note, named or anonymous; 德育处 hear of it (an anonymous one
without any trace of its author); each one but praise is one ledger item; `/feedback <code>`
shows what became of it; staff cannot use it.

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班, head teacher
王芳) and 张小红 (四(1)班, head teacher 孙丽); 王芳 also teaches 数学 in 三(1)班; 赵敏 is 德育处.
The clock: Monday 16 November 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import col, select

from handlers.dispatcher import Dispatcher
from handlers.types import FileRef, Inbound
from models.accounts.tables import ChannelAccount
from models.db.engine import Database
from models.feedback.queries import NewFeedback, submit_feedback
from models.feedback.tables import Feedback, FeedbackAbout, FeedbackKind
from models.ledger.handling import Classification, classify, close
from models.ledger.tables import LedgerItem, LedgerKind, LedgerOutcome, LedgerSource
from models.parents.tables import ParentMessage
from models.roster.tables import Guardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ZONE, ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from handlers.types import Reply
    from tests.helpers.factories import TestSchool


@dataclass
class Family:
    ts: TestSchool
    dispatcher: Dispatcher
    mother: ChatUser
    office: ChatUser


async def _family(db: Database, clock: FakeClock, rules: SchoolRules = DEFAULT_RULES) -> Family:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock, rules)
    mother = await person(db, clock, dispatcher, ts.guardians["刘梅"])
    office = await person(db, clock, dispatcher, ts.staff["赵敏"])
    return Family(ts, dispatcher, mother, office)


async def _write(user: ChatUser, kind: str, about: tuple[str, ...], text: str, signed: str) -> None:
    """From /feedback to the summary's 提交."""
    await user.steps("/feedback", kind, *about, f">{text}", signed, "提交")


async def _feedback(db: Database) -> list[Feedback]:
    async with db.session() as session:
        return list((await session.exec(select(Feedback).order_by(col(Feedback.id)))).all())


async def _items(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        return list((await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all())


async def _to(db: Database, user: ChatUser) -> list[Reply]:
    """What was queued for `user` about feedback."""
    return [reply_of(r) for r in await outbox(db, prefix="feedback:") if r.chat_id == user.user_id]


def _code_in(text: str) -> str:
    marker = "请记下反馈编号 "
    assert marker in text, text
    return text.split(marker, 1)[1][:8]


# -- writing it -------------------------------------------------------------------------------------


async def test_a_named_suggestion_about_a_class_is_stored_with_its_author_and_ledger_item(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "建议", ("四(1)班",), "希望班级多组织户外活动", "实名")
    assert family.mother.text == "已收到您的意见（建议），学校会认真处理。\n处理后会通知您。"
    [feedback] = await _feedback(db)
    assert (feedback.kind, feedback.about, feedback.about_class_id) == (
        FeedbackKind.SUGGESTION,
        FeedbackAbout.CLASS,
        family.ts.classes["四(1)班"].id,
    )
    assert (feedback.text, feedback.anonymous, feedback.guardian_id) == (
        "希望班级多组织户外活动",
        False,
        family.ts.guardians["刘梅"].id,
    )
    [item] = await _items(db)
    assert (item.source, item.source_id, item.class_id) == (
        LedgerSource.FEEDBACK,
        feedback.id,
        family.ts.classes["四(1)班"].id,
    )
    assert feedback.ledger_item_id == item.id


@pytest.mark.parametrize(
    ("label", "kind", "in_ledger"),
    [
        ("建议", FeedbackKind.SUGGESTION, True),
        ("投诉", FeedbackKind.COMPLAINT, True),
        ("表扬", FeedbackKind.PRAISE, False),
        ("其他", FeedbackKind.OTHER, True),
    ],
)
async def test_each_kind_is_stored_as_chosen_and_all_but_praise_enter_the_ledger(
    db: Database, clock: FakeClock, label: str, kind: FeedbackKind, in_ledger: bool
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, label, ("学校",), "学校门口接送时很拥挤", "实名")
    [feedback] = await _feedback(db)
    assert (feedback.kind, feedback.about, feedback.about_class_id) == (
        kind,
        FeedbackAbout.SCHOOL,
        None,
    )
    assert len(await _items(db)) == (1 if in_ledger else 0)
    assert (feedback.ledger_item_id is not None) is in_ledger


async def test_the_teachers_offered_are_the_childrens_head_and_subject_teachers(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉")
    assert family.mother.labels == ["三(2)班", "四(1)班", "老师", "学校"]
    await family.mother.press("老师")
    assert family.mother.labels == ["王芳老师（三(2)班班主任）", "孙丽老师（四(1)班班主任）"]
    other = await person(db, clock, family.dispatcher, family.ts.guardians["李华家长"])
    await other.steps("/feedback", "投诉", "老师")
    assert other.labels == ["李强老师（三(1)班班主任）", "王芳老师（三(1)班数学）"]


async def test_the_summary_shows_every_answer_before_anything_is_sent(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "老师", "王芳老师（三(2)班班主任）")
    await family.mother.steps(">作业太多，孩子每天写到十点", "匿名")
    assert family.mother.text == (
        "请核对您的意见：\n类别：投诉\n关于：王芳老师\n内容：作业太多，孩子每天写到十点\n"
        "照片：无\n署名：匿名（学校看不到您的姓名、电话和孩子）"
    )
    assert family.mother.labels == ["提交", "修改", "取消"]
    assert await _feedback(db) == []
    await family.mother.press("取消")
    assert family.mother.text == "已取消，这条意见没有提交。"
    assert await _feedback(db) == [] and await _items(db) == []


async def test_the_named_or_anonymous_question_says_what_anonymity_means(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "建议", "学校", ">食堂的菜可以再清淡些")
    assert family.mother.labels == ["实名", "匿名"]
    assert (
        "匿名时学校看不到您的姓名、电话和孩子，您将收到一个反馈编号用来查询处理结果"
        in family.mother.text
    )


async def test_修改_changes_one_answer_and_returns_to_the_summary(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "建议", "学校", ">食堂的菜太咸", "实名")
    await family.mother.steps("修改", "内容", ">食堂的菜可以再清淡些")
    assert "内容：食堂的菜可以再清淡些" in family.mother.text
    await family.mother.press("提交")
    [feedback] = await _feedback(db)
    assert feedback.text == "食堂的菜可以再清淡些"


# -- anonymous ------------------------------------------------------------------------------------


async def test_an_anonymous_complaint_keeps_no_author_and_gives_its_code(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("三(2)班",), "班里有同学经常欺负别人", "匿名")
    [feedback] = await _feedback(db)
    assert (feedback.anonymous, feedback.guardian_id) == (True, None)
    assert family.mother.text == (
        "已收到您的意见（投诉），学校会认真处理。\n"
        f"请记下反馈编号 {feedback.code}，发送 /feedback {feedback.code} 可查询处理进展。"
    )
    [item] = await _items(db)
    assert item.recorded_by is None and item.description == "班里有同学经常欺负别人"


async def test_the_office_hears_of_anonymous_feedback_without_any_trace_of_its_author(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("三(2)班",), "班里有同学经常欺负别人", "匿名")
    [item] = await _items(db)
    [message] = await _to(db, family.office)
    assert message.text == (
        f"新的家长意见（投诉）：班里有同学经常欺负别人，台账 #{item.id}，"
        f"请在台账中指定负责人 (/ledger {item.id})\n关于：三(2)班\n匿名意见"
    )
    async with db.session() as session:
        account = (
            await session.exec(
                select(ChannelAccount).where(ChannelAccount.external_id == family.mother.user_id)
            )
        ).one()
    guardian = family.ts.guardians["刘梅"]
    for trace in (guardian.name, guardian.phone, "张小明", "张小红", account.external_id):
        assert trace not in message.text
    rows = await outbox(db, prefix="feedback:")
    assert rows and all("guardian" not in r.key for r in rows)


async def test_the_office_hears_of_named_feedback_with_the_author_but_no_phone_or_account(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("学校",), "校门口车辆太多，很不安全", "实名")
    [item] = await _items(db)
    [message] = await _to(db, family.office)
    assert message.text == (
        f"新的家长意见（投诉）：校门口车辆太多，很不安全，台账 #{item.id}，"
        f"请在台账中指定负责人 (/ledger {item.id})\n关于：学校\n"
        "来自：刘梅（三(2)班张小明、四(1)班张小红的家长）"
    )
    assert "13700000000" not in message.text and family.mother.user_id not in message.text


async def test_praise_of_a_teacher_reaches_the_teacher_and_the_office_and_is_no_ledger_item(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    teacher = await person(db, clock, family.dispatcher, family.ts.staff["孙丽"])
    await _write(
        family.mother, "表扬", ("老师", "孙丽老师（四(1)班班主任）"), "孙老师非常耐心", "实名"
    )
    assert family.mother.text == "已收到您的表扬，我们会转达。谢谢您！"
    assert await _items(db) == []
    [to_teacher] = await _to(db, teacher)
    assert to_teacher.text == (
        "家长表扬了您：孙老师非常耐心\n来自：刘梅（三(2)班张小明、四(1)班张小红的家长）"
    )
    [to_office] = await _to(db, family.office)
    assert to_office.text.startswith("家长表扬（关于孙丽老师）：孙老师非常耐心")


async def test_the_offices_message_waits_for_the_end_of_quiet_hours(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    clock.advance(hours=12)  # 22:00 in Shanghai
    await _write(family.mother, "建议", ("学校",), "希望延长图书馆开放时间", "实名")
    [row] = await outbox(db, prefix="feedback:")
    assert row.due_at.astimezone(ZONE).isoformat() == "2026-11-17T07:00:00+08:00"


# -- what is refused --------------------------------------------------------------------------------


async def test_a_5000_character_text_is_refused_with_the_same_question_and_nothing_is_saved(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "学校", ">" + "太" * 5000)
    assert family.mother.text.startswith(
        "内容太长了：最多 1000 个字，您发来的有 5000 个字。请精简后重新发送。\n请写下您的意见"
    )
    await family.mother.send("/cancel")
    assert await _feedback(db) == [] and await _items(db) == []


async def test_a_photo_with_its_caption_is_kept_by_its_channel_reference(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "学校")
    user = family.mother
    response = await family.dispatcher.handle(
        Inbound(
            channel=user.channel,
            user_id=user.user_id,
            chat_id=user.user_id,
            photo="photo-ref-1",
            text="操场的围栏坏了",
        )
    )
    user.replies = response.replies
    await user.steps("实名", "提交")
    [feedback] = await _feedback(db)
    assert (feedback.text, feedback.photo_channel, feedback.photo_ref) == (
        "操场的围栏坏了",
        "console",
        "photo-ref-1",
    )


async def test_a_file_over_20_mb_is_refused_with_a_clear_answer(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "学校")
    user = family.mother
    big = FileRef("console", "file-1", "document", "IMG_0001.jpg", 25 * 1024 * 1024)
    response = await family.dispatcher.handle(
        Inbound(channel=user.channel, user_id=user.user_id, chat_id=user.user_id, document=big)
    )
    text = "\n".join(r.text for r in response.replies)
    assert text.startswith("这个文件超过 20 MB，太大了，没有收下。")
    assert "请写下您的意见" in text
    assert await _feedback(db) == []


async def test_a_save_that_fails_leaves_neither_feedback_nor_ledger_item(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "学校", ">校门口车辆太多", "实名")

    async def broken(**_kwargs: object) -> object:
        raise RuntimeError("the office could not be told")

    monkeypatch.setattr("handlers.feedback.sending.notify_people", broken)
    await family.mother.press("提交")
    assert "已收到" not in family.mother.text
    assert await _feedback(db) == [] and await _items(db) == []


async def test_a_redelivered_submit_creates_nothing_twice(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.mother.steps("/feedback", "投诉", "学校", ">校门口车辆太多", "实名")
    user = family.mother
    press = Inbound(
        channel=user.channel,
        user_id=user.user_id,
        chat_id=user.user_id,
        callback="submit",
        update_key="u-submit",
    )
    first = await family.dispatcher.handle(press)
    assert "已收到您的意见" in first.replies[0].text
    await family.dispatcher.handle(press)
    assert len(await _feedback(db)) == 1
    assert len(await _items(db)) == 1
    assert len(await _to(db, family.office)) == 1


async def test_the_hourly_limit_holds_feedback_back_at_the_summary_and_saves_nothing(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock, SchoolRules(messages_to_staff_per_hour=1))
    await _write(family.mother, "建议", ("学校",), "希望延长图书馆开放时间", "实名")
    clock.advance(minutes=40)
    await _write(family.mother, "投诉", ("学校",), "校门口车辆太多", "实名")
    assert family.mother.text.startswith(
        "这条意见暂未提交：为免打扰老师，每人每小时最多给学校发 1 条消息。"
        "请在 11月16日 11:00 以后再提交"
    )
    assert family.mother.labels == ["提交", "修改", "取消"]
    assert len(await _feedback(db)) == 1
    clock.advance(minutes=21)
    await family.mother.press("提交")
    assert len(await _feedback(db)) == 2


async def test_anonymous_feedback_is_held_back_by_the_schools_hourly_limit_not_the_parents(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock, SchoolRules(messages_to_staff_per_hour=1))
    other = await person(db, clock, family.dispatcher, family.ts.guardians["李娜家长"])
    await _write(other, "建议", ("学校",), "希望多开兴趣班", "匿名")
    await _write(family.mother, "投诉", ("学校",), "校门口车辆太多", "匿名")
    assert family.mother.text.startswith(
        "这条匿名意见暂未提交：这一小时内学校收到的匿名意见已达 1 条。"
    )
    await family.mother.steps("修改", "实名/匿名", "实名", "提交")
    assert family.mother.text.startswith("已收到您的意见（投诉）")
    assert [f.anonymous for f in await _feedback(db)] == [True, False]


# -- who may use it ---------------------------------------------------------------------------------


async def test_a_staff_member_cannot_use_feedback(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    for command in ("/feedback", "意见", "/feedback ABCD2345"):
        await family.office.send(command)
        assert family.office.text == "意见反馈只对家长开放。"
    assert await _feedback(db) == []


async def test_feedback_is_in_help_for_guardians_only(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.mother.send("/help")
    assert "/feedback — 向学校提建议、投诉或表扬（可匿名）" in family.mother.text
    await family.office.send("/help")
    assert "/feedback" not in family.office.text


async def test_意见_starts_feedback_with_its_text_while_a_sentence_with_意见_goes_to_the_teacher(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.mother.send("意见 食堂的菜太咸")
    assert family.mother.text == "您想向学校反馈什么？请选择："
    await family.mother.steps("建议", "学校", "实名", "提交")
    [feedback] = await _feedback(db)
    assert feedback.text == "食堂的菜太咸"
    parent = await person(db, clock, family.dispatcher, family.ts.guardians["李娜家长"])
    await parent.send("我对这周的作业量有意见")
    assert (
        parent.text.startswith("李娜家长，您好！您的消息已记下") and "三(2)班班主任" in parent.text
    )
    async with db.session() as session:
        [message] = (await session.exec(select(ParentMessage))).all()
    assert message.text == "我对这周的作业量有意见"
    assert len(await _feedback(db)) == 1


# -- looking it up ----------------------------------------------------------------------------------


async def _office_handles(db: Database, ts: TestSchool, clock: FakeClock, item_id: int) -> None:
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        plan = Classification(
            kind=LedgerKind.SOLVE_NOW,
            owner_id=ts.staff["王芳"].id or 0,
            due_on=clock().astimezone(ZONE).date() + timedelta(days=3),
        )
        await classify(session, item, plan, by=ts.staff["赵敏"].id or 0, now=clock(), zone=ZONE)


async def _office_closes(db: Database, ts: TestSchool, clock: FakeClock, item_id: int) -> None:
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        await close(
            session,
            item,
            "已与家长沟通，作业量已调整",
            outcome=LedgerOutcome.SOLVED,
            by=ts.staff["王芳"].id or 0,
            now=clock(),
        )


async def test_a_code_shows_the_feedbacks_kind_date_and_status_as_it_is_handled(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("学校",), "作业太多", "匿名")
    code = _code_in(family.mother.text)
    [item] = await _items(db)
    await family.mother.send(f"/feedback {code.lower()}")
    assert family.mother.text == (
        f"反馈编号：{code}\n类别：投诉\n提交日期：2026年11月16日\n状态：待受理"
    )
    clock.advance(hours=2)
    await _office_handles(db, family.ts, clock, item.id or 0)
    await family.mother.send(f"/feedback {code}")
    assert family.mother.text.endswith("状态：处理中")
    clock.advance(days=1)
    await _office_closes(db, family.ts, clock, item.id or 0)
    await family.mother.send(f"意见 {code}")
    assert family.mother.text.endswith("状态：已办结（已解决）：已与家长沟通，作业量已调整")
    for staff in ("王芳", "赵敏"):
        assert staff not in family.mother.text


async def test_a_wrong_code_is_not_found(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("学校",), "作业太多", "匿名")
    await family.mother.send("/feedback ZZZZ2222")
    assert family.mother.text == "没有找到这个反馈编号，请核对后再试。"


async def test_another_schools_code_is_not_found(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    async with db.session() as session:
        other = School(name="别的小学")
        session.add(other)
        await session.flush()
        parent = Guardian(school_id=other.id or 0, name="外校家长", phone="13600000000")
        session.add(parent)
        await session.flush()
        feedback, _item = await submit_feedback(
            session,
            NewFeedback(
                school_id=other.id or 0,
                kind=FeedbackKind.COMPLAINT,
                about=FeedbackAbout.SCHOOL,
                text="外校的意见",
                guardian_id=parent.id or 0,
                anonymous=True,
            ),
            now=clock(),
        )
        code = feedback.code
    await family.mother.send(f"/feedback {code}")
    assert family.mother.text == "没有找到这个反馈编号，请核对后再试。"


async def test_a_named_feedbacks_code_opens_it_for_its_author_only(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "建议", ("学校",), "希望多开兴趣班", "实名")
    [feedback] = await _feedback(db)
    await family.mother.send(f"/feedback {feedback.code}")
    assert family.mother.text.startswith(f"反馈编号：{feedback.code}\n类别：建议")
    other = await person(db, clock, family.dispatcher, family.ts.guardians["李娜家长"])
    await other.send(f"/feedback {feedback.code}")
    assert other.text == "没有找到这个反馈编号，请核对后再试。"


async def test_after_ten_unknown_codes_no_code_is_looked_up_until_the_next_day(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "投诉", ("学校",), "作业太多", "匿名")
    code = _code_in(family.mother.text)
    for n in range(10):
        await family.mother.send(f"/feedback WRONG{n:03d}")
        assert family.mother.text == "没有找到这个反馈编号，请核对后再试。"
    await family.mother.send(f"/feedback {code}")
    assert family.mother.text == (
        "今天输入错误的反馈编号已达 10 次，请明天再查询。如需帮助，请联系班主任。"
    )
    clock.advance(hours=14)  # 00:00 the next day in Shanghai
    await family.mother.send(f"/feedback {code}")
    assert family.mother.text.startswith(f"反馈编号：{code}")


async def test_feedback_alone_lists_the_parents_own_named_feedback(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await _write(family.mother, "建议", ("学校",), "希望多开兴趣班", "实名")
    await _write(family.mother, "投诉", ("学校",), "作业太多", "匿名")
    [named, _anonymous] = await _feedback(db)
    await family.mother.send("/feedback")
    assert family.mother.text == (
        "您提交过的意见：\n"
        f"11月16日 建议（编号 {named.code}）：待受理\n"
        "发送 /feedback 编号 可查看处理结果。\n"
        "您想向学校反馈什么？请选择："
    )
