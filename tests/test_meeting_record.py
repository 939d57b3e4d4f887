"""More of /meeting through the real dispatcher: a head teacher of two classes chooses which
class meets; minutes uploaded as a document; a cancelled meeting tells its families and the
class's subject teachers once, however often 确认取消会议 is pressed, and one cancelled before its
approval tells no family."""

from __future__ import annotations

from sqlmodel import select

from handlers.types import FileRef, Inbound
from models.db.engine import Database
from models.meetings.tables import MeetingStatus
from models.notices.tables import Notice, NoticeStatus
from models.school.tables import SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.notices import bind_guardians
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, full_dispatcher, person
from tests.test_meeting_chat import PLAN, _teaching, meetings


async def _notice(db: Database, notice_id: int | None) -> Notice:
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
    assert notice is not None
    return notice


async def test_a_head_teacher_of_two_classes_chooses_which_class_meets(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    async with db.session() as session:
        first = await session.get(SchoolClass, school.classes["三(1)班"].id)
        assert first is not None
        first.head_teacher_id = school.staff["王芳"].id
        session.add(first)
    teacher = await person(db, clock, full_dispatcher(db, clock), school.staff["王芳"])
    await teacher.send("/meeting")
    assert "哪个班的家长会？" in teacher.text
    assert teacher.labels == ["三(1)班", "三(2)班"]
    assert "家长委员会会议" not in teacher.labels  # a head teacher plans class meetings only
    await teacher.send("四(1)班")  # typed, and not hers
    assert "班主任只能安排自己班的家长会" in teacher.text
    await teacher.press("三(1)班")
    await teacher.steps(*PLAN)
    assert "类型：班级家长会（三(1)班）" in teacher.text
    await teacher.press("提交")
    [meeting] = await meetings(db)
    assert meeting.class_id == school.classes["三(1)班"].id
    notice = await _notice(db, meeting.notice_id)
    assert notice.title.startswith("三(1)班家长会：") and notice.status is NoticeStatus.PENDING


async def test_minutes_can_be_a_document_with_its_name(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    teacher = await person(db, clock, full_dispatcher(db, clock), school.staff["王芳"])
    await teacher.send("/meeting")
    await teacher.steps(*PLAN, "提交")
    clock.advance(days=33)
    await teacher.send("/meeting")
    await teacher.press("上传纪要")
    file = FileRef(
        teacher.channel, "BQACAgIAAxk-minutes", "document", "三(2)班家长会纪要.docx", 20_000
    )
    response = await teacher.dispatcher.handle(
        Inbound(
            channel=teacher.channel,
            user_id=teacher.user_id,
            chat_id=teacher.user_id,
            document=file,
        )
    )
    teacher.replies = response.replies
    assert "已保存会议纪要" in teacher.text
    [meeting] = await meetings(db)
    assert (meeting.minutes_kind, meeting.minutes_file_ref, meeting.minutes_filename) == (
        "document",
        "BQACAgIAAxk-minutes",
        "三(2)班家长会纪要.docx",
    )
    assert meeting.minutes_channel == teacher.channel and meeting.minutes_text == ""
    await teacher.press("结束会议")
    assert "会议已结束" in teacher.text and "没有上传会议纪要" not in teacher.text
    assert (await meetings(db))[0].status is MeetingStatus.HELD


async def _cancel(user: ChatUser) -> str:
    await user.send("/meeting")
    await user.press("取消会议")
    [sure] = [b.data for b in user.buttons if b.label == "确认取消会议"]
    await user.callback(sure)
    return sure


async def test_a_cancelled_meeting_tells_its_families_and_teachers_once(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _teaching(db, school, "李强", "三(2)班")
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, school.staff["赵敏"])
    families = await bind_guardians(db, clock, dispatcher, school, "刘梅", "李娜家长", "赵刚家长")
    subject = await person(db, clock, dispatcher, school.staff["李强"])
    await admin.send("/meeting new")
    await admin.steps("班级家长会", "三(2)班", *PLAN, "提交")
    sure = await _cancel(admin)
    assert "已取消会议《三(2)班家长会：12月18日 15:30 · 三楼会议室》" in admin.text
    assert "已通知收到会议通知的家长和任课教师" in admin.text
    await admin.callback(sure)  # pressed again
    assert "已取消" in admin.text
    told = await outbox(db, kind="meeting_cancelled")
    # 刘梅 and 李娜's family of 三(2)班 (赵刚 is in 三(1)班: not invited) and 李强, once each.
    assert sorted(r.chat_id for r in told) == sorted(
        [families["刘梅"].user_id, families["李娜家长"].user_id, subject.user_id]
    )
    assert "【会议取消】原定于" in reply_of(told[0]).text
    [meeting] = await meetings(db)
    assert meeting.status is MeetingStatus.CANCELLED
    assert (await _notice(db, meeting.notice_id)).status is NoticeStatus.ARCHIVED


async def test_a_meeting_cancelled_before_approval_tells_no_family(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, school.staff["王芳"])
    await bind_guardians(db, clock, dispatcher, school, "刘梅")
    await teacher.send("/meeting")
    await teacher.steps(*PLAN, "提交")
    await _cancel(teacher)
    assert "已取消会议" in teacher.text and "已通知" not in teacher.text
    assert await outbox(db, kind="meeting_cancelled") == []
    [meeting] = await meetings(db)
    notice = await _notice(db, meeting.notice_id)
    assert notice.status is NoticeStatus.RETURNED and notice.return_reason == "会议已取消"
    async with db.session() as session:
        assert len((await session.exec(select(Notice))).all()) == 1
