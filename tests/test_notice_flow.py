"""/notice through the real dispatcher: composing, submitting, and what is refused."""

from __future__ import annotations

from datetime import timedelta

from handlers.types import FileRef, Inbound
from models.db.engine import Database
from models.notices.tables import AudienceKind, NoticeKind, NoticeStatus
from models.school.tables import SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import (
    ADMIN_TO_CLASS,
    OPENING,
    TEACHER_TO_CLASS,
    ZONE,
    bind_guardians,
    deliveries,
    notice_rows,
    notices,
    receipts,
    run_publish_job,
)
from tests.helpers.visits import conversation_of, full_dispatcher, offer_button, person

#: Receipt by tomorrow 18:00, published at once, shown until 1 December.
CLOSING_NOW = ("需要回执", "明天 18:00", "提交后立即发布", ">12月1日")


async def test_admin_notice_is_approved_by_the_admin_and_published_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅", "李娜家长")
    await admin.steps(*ADMIN_TO_CLASS)
    assert "发送对象：三(2)班（6 名学生的家长）" in admin.text
    await admin.press("提交")
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.PUBLISHED
    assert notice.approved_by == ts.staff["赵敏"].id and notice.approved_at == clock()
    assert notice.number == "〔2026〕第001号"
    assert notice.kind is NoticeKind.OUTING and notice.audience_kind is AudienceKind.CLASSES
    assert (
        "〔2026〕第001号《秋季研学活动通知》 已发布：6 名学生，2 位家长将收到消息。" in admin.text
    )
    assert "另有 4 位家长尚未绑定" in admin.text
    assert [r.key for r in await notice_rows(db)] == [
        f"notice:{notice.id}:guardian:{ts.guardians['刘梅'].id}:console",
        f"notice:{notice.id}:guardian:{ts.guardians['李娜家长'].id}:console",
    ]
    assert len(await receipts(db)) == 6
    unreachable = [d for d in await deliveries(db) if not d.reachable]
    assert len(unreachable) == 4 and all(d.outbox_key == "" for d in unreachable)
    assert await conversation_of(db, admin) is None


async def test_head_teacher_notice_waits_for_approval_and_reaches_no_parent(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅")
    await teacher.steps(*TEACHER_TO_CLASS, "提交")
    assert "已提交德育处审批" in teacher.text
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.PENDING and notice.approved_by is None
    assert notice.number == ""
    assert await notice_rows(db) == []
    assert await receipts(db) == []
    [request] = await notice_rows(db, "notice-approval:")
    assert request.chat_id == admin.user_id
    assert "【通知待审批】王芳老师提交了一条通知" in request.payload["text"]
    # Even past its publication time, the job publishes nothing unapproved.
    assert await run_publish_job(db, ts.school, clock() + timedelta(days=1)) == 0
    assert await notice_rows(db) == []


async def test_head_teacher_may_address_only_their_own_class(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*OPENING)
    assert teacher.labels == ["三(2)班全体家长", "选择学生"]
    await teacher.press("选择学生")
    # 王芳 teaches 三(1)班 too, but heads only 三(2)班: its pupils are the ones offered.
    assert "李华" not in teacher.labels and "张小明" in teacher.labels
    forged = f"stu:{ts.students['李华'].id}"
    await offer_button(db, teacher, "李华", forged)
    await teacher.callback(forged)
    assert "只能选择您担任班主任的班级的学生" in teacher.text


async def test_a_subject_teacher_or_coach_cannot_send_notices(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    coach = await person(db, clock, full_dispatcher(db, clock), ts.staff["钱进"])
    await coach.send("/notice")
    assert "只有班主任和德育处可以给家长发通知" in coach.text
    assert await conversation_of(db, coach) is None


async def test_help_offers_notices_to_head_teachers_and_admins_only(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    for name, offered in (("钱进", False), ("王芳", True), ("赵敏", True)):
        someone = await person(db, clock, dispatcher, ts.staff[name])
        await someone.send("/help")
        assert ("/notice —" in someone.text) is offered, name


async def test_admin_chooses_students_one_by_one(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await admin.steps(*OPENING, "选择学生", "三(2)班", "张小明", "李娜")
    assert "已选 2 名学生：三(2)班 张小明、三(2)班 李娜" in admin.text
    await admin.steps("李娜")  # a second pick removes
    assert "已移除：三(2)班 李娜" in admin.text
    await admin.steps(">张小红", "完成（2 人）", *CLOSING_NOW, "提交")
    [notice] = await notices(db)
    assert notice.audience_kind is AudienceKind.STUDENTS
    assert set(notice.audience_ids) == {ts.students["张小明"].id, ts.students["张小红"].id}


async def test_grades_are_chosen_together(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING, "按年级", "三年级", "四年级", "✓ 四年级", "四年级", "完成")
    await admin.steps(*CLOSING_NOW)
    assert "发送对象：三年级、四年级（18 名学生的家长）" in admin.text


# -- bad input: a clear note, nothing saved ---------------------------------------------------


async def test_empty_body_and_overlong_title_are_refused(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps("/notice", "停课", ">" + "长" * 61)
    assert "最多 60 个字" in admin.text
    await admin.steps(">停课通知", ">   ")
    assert "正文不能为空" in admin.text
    await admin.steps(">" + "字" * 3001)
    assert "最多 3000 个字" in admin.text and "作为文件附上" in admin.text
    assert await notices(db) == []


async def test_an_audience_with_nobody_in_it_is_refused_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        session.add(SchoolClass(school_id=ts.school.id or 0, grade=5, number=1, name="五(1)班"))
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING, "按班级", "五(1)班", "完成")
    assert "所选范围内没有在读学生" in admin.text
    assert "这条通知发给哪些学生的家长？" in admin.text
    await admin.steps("按年级", "五年级", "完成")
    assert "所选范围内没有在读学生" in admin.text
    await admin.steps("按班级", "完成")
    assert "请至少选择一项" in admin.text
    assert await notices(db) == []


async def test_a_deadline_in_the_past_is_refused(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING, "全校", "需要回执", ">11月15日 18:00")
    assert "回执截止时间不能早于现在" in admin.text
    await admin.steps(">今天 9:00")
    assert "回执截止时间不能早于现在" in admin.text
    await admin.steps(">下周")
    assert "没能看懂这个时间" in admin.text
    await admin.steps(">11月20日")
    assert "什么时候发给家长？" in admin.text


async def test_a_deadline_with_a_mistyped_year_is_refused_naming_the_year(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING, "全校", "需要回执", ">2062-11-20 18:00")
    assert "回执截止时间 2062年11月20日 18:00 离现在超过半年，是不是年份写错了？" in admin.text
    await admin.steps(">2026-11-20 18:00")
    assert "什么时候发给家长？" in admin.text


async def test_deadline_before_the_scheduled_publication_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING, "全校", "需要回执", "明天 18:00", "定时发布", ">后天 8:00")
    assert "回执截止时间必须晚于发布时间" in admin.text
    await admin.steps(">明天 7:30", ">11月17日")
    assert "展示截止：11月17日（周二）" in admin.text
    assert "发布时间：11月17日（周二） 07:30" in admin.text


async def test_a_file_over_20_mb_is_refused_and_a_smaller_one_kept(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*OPENING[:-1])

    async def send_file(name: str, size: int) -> None:
        document = FileRef("console", f"file-{name}", "document", name, size)
        inbound = Inbound(
            channel="console", user_id=admin.user_id, chat_id=admin.user_id, document=document
        )
        admin.replies = (await admin.dispatcher.handle(inbound)).replies

    await send_file("全文.pdf", 25 * 1024 * 1024)
    assert "文件“全文.pdf”有 25.0 MB，超过 20 MB，无法作为附件发送" in admin.text
    await send_file("回执单.pdf", 300_000)
    assert "已添加附件：回执单.pdf" in admin.text
    await admin.steps("完成", "全校", *CLOSING_NOW)
    assert "附件：回执单.pdf" in admin.text


async def test_the_approval_request_shows_the_files_with_their_sizes_and_sends_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await person(db, clock, dispatcher, ts.staff["赵敏"])
    await teacher.steps(*OPENING[:-1])
    document = FileRef("console", "file-回执单", "document", "回执单.pdf", 300_000)
    inbound = Inbound(
        channel="console", user_id=teacher.user_id, chat_id=teacher.user_id, document=document
    )
    teacher.replies = (await teacher.dispatcher.handle(inbound)).replies
    await teacher.steps("完成", *TEACHER_TO_CLASS[len(OPENING) :], "提交")
    [request] = await notice_rows(db, "notice-approval:")
    assert "附件：回执单.pdf（293 KB）" in request.payload["text"]
    assert [f["ref"] for f in request.payload["files"]] == ["file-回执单"]


async def test_cancel_at_the_summary_saves_nothing(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*ADMIN_TO_CLASS, "取消")
    assert "已取消，这条通知没有保存" in admin.text
    assert await notices(db) == [] and await notice_rows(db) == []


async def test_editing_the_audience_from_the_summary_asks_only_that_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.steps(*ADMIN_TO_CLASS, "修改", "发送对象", "全校")
    assert "请核对这条通知" in admin.text
    assert "发送对象：全校（18 名学生的家长）" in admin.text


async def test_a_scheduled_notice_is_published_by_the_job_when_its_time_comes(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅")
    await admin.steps(*OPENING, "按班级", "三(2)班", "完成", "不需要回执", "定时发布", ">明天 8:00")
    await admin.steps(">12月1日", "提交")
    assert "已由您批准，将于 11月17日（周二） 08:00 发给家长" in admin.text
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.APPROVED and notice.number == "〔2026〕第001号"
    assert await run_publish_job(db, ts.school, clock() + timedelta(hours=21)) == 0
    due = clock() + timedelta(hours=22)  # 8:00 on Tuesday
    assert await run_publish_job(db, ts.school, due) == 2  # the guardian, and the author's note
    assert await run_publish_job(db, ts.school, due) == 0
    [row] = await notice_rows(db)
    assert row.due_at == due
    [published] = await notices(db)
    assert published.status is NoticeStatus.PUBLISHED and published.published_at == due


async def test_a_notice_approved_in_quiet_hours_waits_for_the_morning_unless_urgent(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    clock.advance(hours=12)  # 22:00 in Shanghai
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅")
    await admin.steps(
        "/notice", "停课", ">明日停课", ">因暴雨明日停课。", "跳过", "按班级", "三(2)班"
    )
    await admin.steps("完成", "不需要回执", "提交后立即发布", ">12月1日", "提交")
    await admin.steps(
        "/notice", "紧急", ">紧急通知", ">请立即接孩子。", "跳过", "按班级", "三(2)班"
    )
    await admin.steps("完成", "不需要回执", "提交后立即发布", ">12月1日", "提交")
    suspension, emergency = await notice_rows(db)
    assert suspension.due_at.astimezone(ZONE).hour == 7  # the end of the quiet hours
    assert emergency.due_at == clock()
