"""/meeting through the real dispatcher: a head teacher plans her class's 家长会, 德育处 approves
its notice, families answer 确认参加 / 不能参加 (both receipts), the subject teachers are told,
and after the meeting the attendance (defaulting from the replies) and the minutes are recorded;
a committee meeting is not closed without minutes; bad input is answered and saves nothing."""

from __future__ import annotations

from sqlmodel import col, select

from models.db.engine import Database
from models.meetings.tables import CommitteeMember, Meeting, MeetingAttendance, MeetingStatus
from models.notices.tables import Notice, NoticeKind, NoticeStatus
from models.roster.tables import Teaching
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.notices import bind_guardians, press_on, receipts, received
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import full_dispatcher, person

#: 王芳 plans 三(2)班's meeting on 18 December at 15:30 (the clock: 16 November 2026, 10:00).
PLAN = (">12月18日 15:30", ">三楼会议室", ">期中成绩分析；各科老师与家长交流")


async def meetings(db: Database) -> list[Meeting]:
    async with db.session() as session:
        return list((await session.exec(select(Meeting).order_by(col(Meeting.id)))).all())


async def notices(db: Database) -> list[Notice]:
    async with db.session() as session:
        return list((await session.exec(select(Notice).order_by(col(Notice.id)))).all())


async def _teaching(db: Database, ts: TestSchool, teacher: str, klass: str) -> None:
    async with db.session() as session:
        session.add(
            Teaching(
                staff_id=ts.staff[teacher].id or 0,
                class_id=ts.classes[klass].id or 0,
                subject="语文",
            )
        )


async def test_a_head_teacher_plans_her_class_meeting_and_its_notice_goes_through_approval(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await teacher.send("/meeting")
    await teacher.steps(*PLAN)
    assert await meetings(db) == []  # nothing before 提交
    await teacher.press("提交")
    [meeting] = await meetings(db)
    [notice] = await notices(db)
    assert meeting.notice_id == notice.id and meeting.status is MeetingStatus.PLANNED
    assert meeting.class_id == ts.classes["三(2)班"].id
    assert notice.kind is NoticeKind.MEETING and notice.status is NoticeStatus.PENDING
    assert notice.title == "三(2)班家长会：12月18日 15:30 · 三楼会议室"
    assert "期中成绩分析" in notice.body and notice.receipt_required


async def test_a_published_meeting_reaches_families_with_two_answers(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await _teaching(db, ts, "李强", "三(2)班")
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    subject = await person(db, clock, dispatcher, ts.staff["李强"])
    families = await bind_guardians(db, clock, dispatcher, ts, "刘梅", "李娜家长", "王磊家长")
    await teacher.send("/meeting")
    await teacher.steps(*PLAN, "提交")
    [approval] = [reply_of(r) for r in await outbox(db, kind="notice_approval")]
    await press_on(admin, approval, "批准")
    [to_mother] = await received(db, families["刘梅"])
    assert "【会议通知】" in to_mother.text and "请于 12月17日（周四） 18:00 前" in to_mother.text
    assert [b.label for row in to_mother.buttons for b in row] == ["确认参加", "不能参加"]
    # The subject teacher of the class is told once (the organiser is not).
    told = await outbox(db, kind="meeting_teachers")
    assert [r.chat_id for r in told] == [subject.user_id]
    assert "三(2)班家长会定于" in reply_of(told[0]).text
    # 确认参加, redelivered: one receipt; 不能参加 from another family: a receipt too.
    await press_on(families["刘梅"], to_mother, "确认参加", update_key="u1")
    assert families["刘梅"].replies[0].text.endswith("✓ 已回复：确认参加（11月16日 10:00）")
    await press_on(families["刘梅"], to_mother, "确认参加", update_key="u1")
    [to_lina] = await received(db, families["李娜家长"])
    await press_on(families["李娜家长"], to_lina, "不能参加")
    assert "✓ 已回复：不能参加" in families["李娜家长"].replies[0].text
    assert [b.label for r in families["李娜家长"].replies for row in r.buttons for b in row] == [
        "改为参加"
    ]
    answered = {r.student_id: r.answer for r in await receipts(db) if r.confirmed_at}
    assert answered == {
        ts.students["张小明"].id: "attend",
        ts.students["李娜"].id: "decline",
    }
    # After the meeting: 记录出席 starts from the replies (张小明 present), 王磊 toggled, saved.
    clock.advance(days=33)
    await teacher.send("/meeting")
    assert "回复：确认参加 1 · 不能参加 1 · 未回复 4" in teacher.text
    await teacher.press("记录出席")
    assert "✅ 张小明" in teacher.labels and "⬜ 李娜" in teacher.labels
    assert "现在出席 1/6 家" in teacher.text
    await teacher.press("⬜ 王磊")
    await teacher.press("保存出席情况")
    assert "出席 2/6 家" in teacher.text
    async with db.session() as session:
        rows = (await session.exec(select(MeetingAttendance))).all()
    present = {r.student_id for r in rows if r.attended}
    assert len(rows) == 6 and present == {ts.students["张小明"].id, ts.students["王磊"].id}
    await teacher.press("结束会议")
    assert "会议已结束" in teacher.text
    [meeting] = await meetings(db)
    assert meeting.status is MeetingStatus.HELD


async def test_a_committee_meeting_is_not_closed_without_minutes(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await admin.send("/meeting")
    await admin.press("家长委员会会议")
    assert "家长委员会还没有成员" in admin.text
    async with db.session() as session:
        session.add(
            CommitteeMember(
                school_id=ts.school.id or 0,
                guardian_id=ts.guardians["刘梅"].id or 0,
                student_id=ts.students["张小明"].id or 0,
                added_by=ts.staff["赵敏"].id or 0,
                added_at=clock(),
            )
        )
    await admin.press("家长委员会会议")
    await admin.steps(">明天 16:00", ">校会议室", ">本学期家校工作", "提交")
    assert "家长委员会会议：11月17日 16:00 · 校会议室" in admin.text
    assert "1 名学生" in admin.text
    clock.advance(days=1, hours=7)
    await admin.send("/meeting")
    await admin.press("结束会议")
    assert admin.text.startswith("家长委员会会议须上传会议纪要后才能结束。")
    assert (await meetings(db))[0].status is MeetingStatus.PLANNED
    await admin.press("上传纪要")
    await admin.send("讨论了本学期家校共育工作，形成三条建议。")
    assert "已保存会议纪要" in admin.text
    await admin.press("结束会议")
    assert "会议已结束" in admin.text
    [meeting] = await meetings(db)
    assert meeting.status is MeetingStatus.HELD and meeting.minutes_text.startswith("讨论了")


async def test_bad_input_is_answered_and_saves_nothing(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await teacher.send("/meeting")
    await teacher.send("11月10日 15:00")
    assert "会议时间不能早于现在" in teacher.text
    await teacher.send("2027年12月1日 15:00")
    assert "超过半年" in teacher.text
    await teacher.send("12月18日")
    assert "请写上会议开始的具体时间" in teacher.text
    await teacher.send("随便什么时候")
    assert "没有看懂这个时间" in teacher.text
    await teacher.send("12月18日 15:30")
    await teacher.send("   ")
    assert "地点不能为空" in teacher.text
    await teacher.send("会" * 41)
    assert "内容太长了" in teacher.text
    await teacher.send("三楼会议室")
    await teacher.send("议程")
    # A forged button for another class and a forged kind are refused at the summary.
    await teacher.callback(f"class:{ts.classes['三(1)班'].id}")
    assert "这个按钮已过期" in teacher.text
    await teacher.callback("kind:committee")
    assert "这个按钮已过期" in teacher.text
    await teacher.send("随便说点什么")
    assert "请点“提交”，或选择要修改的内容" in teacher.text
    await teacher.send("/cancel")
    assert await meetings(db) == [] and await notices(db) == []
    # Buttons naming a meeting that is not theirs are stale.
    await teacher.callback("!mat:999")
    assert "这个按钮已失效" in teacher.text
    other = await person(db, clock, dispatcher, ts.staff["钱进"])
    await other.send("/meeting")
    assert "只有班主任和德育处可以安排家长会" in other.text
