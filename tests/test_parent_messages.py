"""A parent's own messages on the real dispatcher: 收到 confirms the awaiting notice, a leave goes
to the head teacher to confirm as 病假 (recorded as /absence records it), anything else is
forwarded without phone numbers and can be answered, within the hourly limit; a staff member's
free text is read as before.

The test school (tests/helpers/factories.py): 李娜 (三(2)班, head teacher 王芳) has her father
李娜家长; 刘梅 is the mother of 张小明 (三(2)班) and 张小红 (四(1)班, head teacher 孙丽). The clock:
Monday 16 November 2026, 10:00 in Shanghai; every weekday is a school day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import col, select

from models.absences.tables import AbsenceKind
from models.db.engine import Database
from models.duties.tables import DutyTrigger
from models.parents.tables import LeaveDecision, ParentMessage
from models.school.rules import DEFAULT_RULES, SchoolRules
from scheduler.jobs.duties import sick_absence_check
from tests.helpers.clock import FakeClock
from tests.helpers.duties import absences, duties, local, run_at
from tests.helpers.factories import seed_school
from tests.helpers.notices import press_on, receipts
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.receipts import published_notice
from tests.helpers.visits import ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from handlers.types import Reply
    from tests.helpers.factories import TestSchool


@dataclass
class Family:
    ts: TestSchool
    parent: ChatUser
    head: ChatUser


async def _family(
    db: Database, clock: FakeClock, guardian: str = "李娜家长", head: str = "王芳", **rules: int
) -> Family:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock, SchoolRules(**rules) if rules else DEFAULT_RULES)
    teacher = await person(db, clock, dispatcher, ts.staff[head])
    parent = await person(db, clock, dispatcher, ts.guardians[guardian])
    return Family(ts, parent, teacher)


async def _forwarded(db: Database, user: ChatUser) -> list[Reply]:
    """The parents' messages queued for `user` (a member of staff)."""
    rows = await outbox(db, prefix="parent-message:")
    return [reply_of(r) for r in rows if r.chat_id == user.user_id]


async def _messages(db: Database) -> list[ParentMessage]:
    async with db.session() as session:
        query = select(ParentMessage).order_by(col(ParentMessage.id))
        return list((await session.exec(query)).all())


def _labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


# -- 收到 ----------------------------------------------------------------------------------------


async def test_收到_confirms_the_notice_awaiting_the_parents_receipt(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    notice = await published_notice(db, family.ts, clock())
    clock.advance(minutes=5)
    await family.parent.send("收到，谢谢")
    assert family.parent.text == "李娜家长，您好！已为您确认收到《秋季研学活动通知》。"
    [confirmed] = [r for r in await receipts(db) if r.confirmed_at is not None]
    assert (confirmed.notice_id, confirmed.student_id, confirmed.confirmed_by) == (
        notice.id,
        family.ts.students["李娜"].id,
        family.ts.guardians["李娜家长"].id,
    )
    assert (confirmed.confirmed_at, confirmed.channel) == (clock(), "console")


async def test_a_receipt_confirmed_by_收到_shows_in_the_head_teachers_tally(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await published_notice(db, family.ts, clock())
    await family.parent.send("好的")
    await family.head.send("/notices")
    assert "已确认 1/6" in family.head.text


async def test_收到_with_nothing_awaiting_gets_a_kind_answer_not_the_menu(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("收到")
    assert family.parent.text == (
        "李娜家长，您好！好的。目前没有需要您确认收到的通知。"
        "如有事要告诉班主任，直接给我发消息就可以。"
    )
    assert await _messages(db) == []


async def test_with_two_notices_awaiting_收到_confirms_the_latest_and_offers_the_other(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await published_notice(db, family.ts, clock(), title="家长会通知")
    clock.advance(hours=1)
    latest = await published_notice(db, family.ts, clock())
    await family.parent.send("已阅")
    assert "已为您确认收到《秋季研学活动通知》。" in family.parent.text
    assert "您还有 1 份通知未确认收到：《家长会通知》。请打开后点“确认收到”。" in family.parent.text
    assert family.parent.labels == ["查看《家长会通知》"]
    assert [r.notice_id for r in await receipts(db) if r.confirmed_at] == [latest.id]
    await family.parent.press("查看《家长会通知》")
    await family.parent.press("确认收到")
    assert len([r for r in await receipts(db) if r.confirmed_at]) == 2


async def test_thanks_alone_is_answered_kindly_and_confirms_nothing(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await published_notice(db, family.ts, clock())
    await family.parent.send("谢谢老师")
    assert family.parent.text == (
        "李娜家长，您好！不客气。《秋季研学活动通知》还需要您确认收到，回复“收到”即可。"
    )
    assert [r for r in await receipts(db) if r.confirmed_at] == []


# -- a leave -------------------------------------------------------------------------------------


async def test_a_sick_leave_reaches_the_head_teacher_with_确认为病假(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子今天发烧请假")
    assert family.parent.text == (
        "李娜家长，您好！您的请假消息已转给三(2)班班主任，老师确认后会登记为病假。祝孩子早日康复！"
    )
    [message] = await _forwarded(db, family.head)
    assert message.text.startswith("【家长请假】三(2)班李娜的父亲说：\n孩子今天发烧请假\n")
    assert "点“确认为病假”即登记为自 2026年11月16日 起的病假" in message.text
    assert _labels(message) == ["确认为病假", "不是病假", "回复家长"]
    assert await absences(db) == []


async def test_pressing_确认为病假_records_a_sick_absence_as_absence_does(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子今天发烧请假")
    [message] = await _forwarded(db, family.head)
    clock.advance(minutes=20)
    await press_on(family.head, message, "确认为病假")
    assert "已记录：三(2)班 李娜自 2026年11月16日 起病假。" in family.head.text
    assert "如病假满 2 个上学日仍未返校" in family.head.text
    [absence] = await absences(db)
    assert (absence.student_id, absence.kind, absence.since, absence.reported_by) == (
        family.ts.students["李娜"].id,
        AbsenceKind.SICK,
        date(2026, 11, 16),
        family.ts.staff["王芳"].id,
    )
    [row] = await _messages(db)
    assert (row.decision, row.absence_id) == (LeaveDecision.SICK, absence.id)
    [told] = await outbox(db, prefix="parent-leave:")
    assert told.chat_id == family.parent.user_id
    assert reply_of(told).text == (
        "李娜家长，您好！班主任已登记李娜自 2026年11月16日 起病假。祝孩子早日康复！"
    )
    assert await duties(db) == []


async def test_a_confirmed_leave_opens_the_visit_duty_on_its_second_school_day(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子今天发烧请假")
    [message] = await _forwarded(db, family.head)
    await press_on(family.head, message, "确认为病假")
    school = family.ts.school
    assert await run_at(db, school, sick_absence_check, local("2026-11-17 06:30")) == 1
    [duty] = await duties(db)
    assert (duty.teacher_id, duty.student_id, duty.trigger) == (
        family.ts.staff["王芳"].id,
        family.ts.students["李娜"].id,
        DutyTrigger.SICK_ABSENCE,
    )


async def test_a_leave_confirmed_past_the_threshold_opens_the_duty_at_once(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    clock.now = local("2026-11-13 07:30")  # Friday
    await family.parent.send("孩子今天发烧请假")
    [message] = await _forwarded(db, family.head)
    clock.now = local("2026-11-16 08:00")  # Monday: the second school day missed
    await press_on(family.head, message, "确认为病假")
    assert "已为您生成立即家访任务" in family.head.text
    [duty] = await duties(db)
    assert duty.trigger is DutyTrigger.SICK_ABSENCE


async def test_confirming_a_leave_twice_records_one_absence(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子咳嗽，在家休息")
    [message] = await _forwarded(db, family.head)
    await press_on(family.head, message, "确认为病假")
    await press_on(family.head, message, "确认为病假")
    assert family.head.text == "这条请假已于 11月16日 10:00 确认为病假。"
    assert len(await absences(db)) == 1


async def test_a_leave_for_a_child_already_absent_records_no_second_absence(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子今天发烧请假")
    [first] = await _forwarded(db, family.head)
    await press_on(family.head, first, "确认为病假")
    clock.advance(days=1)
    await family.parent.send("还在发烧，今天继续请假")
    [_, second] = await _forwarded(db, family.head)
    await press_on(family.head, second, "确认为病假")
    assert "已有一条自 2026年11月16日 起还没有返校的缺勤记录，没有重复登记。" in family.head.text
    assert len(await absences(db)) == 1


async def test_不是病假_records_nothing(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.parent.send("家里有事，明天请假一天")
    [message] = await _forwarded(db, family.head)
    await press_on(family.head, message, "不是病假")
    assert family.head.text.startswith("已记下：这条不是病假，没有登记缺勤。")
    assert await absences(db) == []
    [row] = await _messages(db)
    assert row.decision is LeaveDecision.NOT_SICK
    assert await outbox(db, prefix="parent-leave:") == []


async def test_only_the_teacher_the_leave_went_to_can_confirm_it(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("孩子今天发烧请假")
    [message] = await _forwarded(db, family.head)
    other = await person(db, clock, family.head.dispatcher, family.ts.staff["李强"])
    await press_on(other, message, "确认为病假")
    assert other.text == "这个按钮已失效。"
    assert await absences(db) == []


async def test_a_guardian_of_two_children_is_asked_which_child(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock, guardian="刘梅", head="孙丽")
    await family.parent.send("孩子肚子疼，去医院看病了")
    assert "这条消息是关于哪个孩子的？" in family.parent.text
    assert family.parent.labels == ["张小明（三(2)班）", "张小红（四(1)班）"]
    await family.parent.press("张小红（四(1)班）")
    assert "您的请假消息已转给四(1)班班主任" in family.parent.text
    [message] = await _forwarded(db, family.head)
    assert "四(1)班张小红的母亲说：\n孩子肚子疼，去医院看病了" in message.text


async def test_a_guardian_of_two_children_who_names_one_is_not_asked(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock, guardian="刘梅", head="孙丽")
    await family.parent.send("小红今天发烧请假")
    assert family.parent.text.startswith(
        "张小明、张小红家长，您好！您的请假消息已转给四(1)班班主任"
    )
    assert len(await _forwarded(db, family.head)) == 1


# -- any other message -----------------------------------------------------------------------------


async def test_other_text_is_forwarded_to_the_head_teacher_without_phone_numbers(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("老师，孩子最近作业写得很慢，怎么办？")
    assert family.parent.text == (
        "李娜家长，您好！您的消息已转给三(2)班班主任，老师会尽快答复您。"
        "您的电话和账号不会显示给老师。"
    )
    [message] = await _forwarded(db, family.head)
    assert message.text.startswith(
        "【家长留言】三(2)班李娜的父亲说：\n老师，孩子最近作业写得很慢，怎么办？"
    )
    assert family.ts.guardians["李娜家长"].phone not in message.text
    assert family.parent.user_id not in message.text
    assert _labels(message) == ["回复家长"]


async def test_the_head_teacher_answers_a_parents_message_through_the_bot(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("明天需要带午饭吗")
    [message] = await _forwarded(db, family.head)
    await press_on(family.head, message, "回复家长")
    assert "请输入给家长的答复（关于“明天需要带午饭吗”" in family.head.text
    await family.head.send("不用带，学校统一供餐。")
    assert family.head.text == "答复已发给家长。"
    [answer] = await outbox(db, prefix="parent-answer:")
    assert answer.chat_id == family.parent.user_id
    assert reply_of(answer).text == (
        "李娜家长，您好！关于您说的“明天需要带午饭吗”，三(2)班班主任答复：\n不用带，学校统一供餐。"
    )
    assert "13900000001" not in reply_of(answer).text


async def test_the_21st_message_in_an_hour_is_refused_politely_and_not_forwarded(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    for number in range(1, 21):
        await family.parent.send(f"老师，第{number}个问题")
        clock.advance(minutes=1)
    assert "您的消息已转给三(2)班班主任" in family.parent.text
    await family.parent.send("老师，第21个问题")
    assert family.parent.text == (
        "李娜家长，您好！这条消息没有转给老师。为免打扰老师，每人每小时最多给老师发 20 条消息。"
        "请在 11月16日 11:00 以后再发送；如有急事，请直接打电话给班主任。"
    )
    assert len(await _forwarded(db, family.head)) == 20


async def test_the_same_message_twice_is_forwarded_once(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.parent.send("明天需要带午饭吗")
    clock.advance(minutes=2)
    await family.parent.send("明天需要带午饭吗")
    assert family.parent.text == "李娜家长，您好！这条消息已转给老师，无需重复发送。"
    assert len(await _forwarded(db, family.head)) == 1


async def test_a_parent_still_gets_the_menu_with_help(db: Database, clock: FakeClock) -> None:
    family = await _family(db, clock)
    await family.parent.send("/help")
    assert family.parent.text.startswith("您可以发送：")


async def test_a_text_with_nothing_to_read_gets_a_hint_and_is_not_forwarded(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("？？")
    assert family.parent.text.startswith("李娜家长，您好！没能看懂这条消息。")
    assert await _messages(db) == []


# -- staff ------------------------------------------------------------------------------------------


async def test_a_staff_members_free_text_still_gets_the_visit_parser_or_the_menu(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.head.send("收到")
    assert family.head.text.startswith("您可以发送：")
    await family.head.send("今天电访了李娜的爸爸，最近作业按时完成")
    assert "李娜" in family.head.text and "您可以发送：" not in family.head.text
    assert await _messages(db) == []


async def test_a_staff_member_cannot_start_the_parents_flow_by_its_name(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.head.send("/parent_message 孩子今天发烧请假")
    assert family.head.text == "这项功能只对家长开放。"
    assert await _messages(db) == []


async def test_answering_a_parent_mid_visit_keeps_the_visit_as_a_draft(
    db: Database, clock: FakeClock
) -> None:
    family = await _family(db, clock)
    await family.parent.send("明天需要带午饭吗")
    [message] = await _forwarded(db, family.head)
    await family.head.send("/visit")
    await family.head.press("三(2)班")
    await press_on(family.head, message, "回复家长")
    assert family.head.text.startswith("已保存为草稿（")
    assert "请输入给家长的答复" in family.head.text
    await family.head.send("不用带，学校统一供餐。")
    assert family.head.text == "答复已发给家长。"
    await family.head.send("/drafts")
    assert "继续第 1 份" in family.head.labels
