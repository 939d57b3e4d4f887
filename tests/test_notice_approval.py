"""Approval by 德育处: 批准 publishes, 退回 asks for a reason, and nothing reaches parents unapproved."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlmodel import select

from models.db.engine import Database
from models.notices.publishing import publish_notice
from models.notices.queries import NotApproved
from models.notices.tables import NoticeKind, NoticeStatus
from models.roster.tables import Staff
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import (
    OPENING,
    TEACHER_TO_CLASS,
    bind_guardians,
    notice_rows,
    notices,
    press_on,
    receipts,
    received,
    run_publish_job,
)
from tests.helpers.visits import ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool


async def _submitted(db: Database, clock: FakeClock) -> tuple[TestSchool, ChatUser, ChatUser]:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅", "李娜家长")
    await teacher.steps(*TEACHER_TO_CLASS, "提交")
    return ts, teacher, admin


async def test_approval_publishes_records_the_approver_and_tells_the_author(
    db: Database, clock: FakeClock
) -> None:
    ts, teacher, admin = await _submitted(db, clock)
    [request] = await received(db, admin, "notice-approval:")
    clock.advance(minutes=5)
    await press_on(admin, request, "批准")
    assert admin.replies[0].edit
    assert "✓ 您已批准" in admin.text and "〔2026〕第001号《秋季研学活动通知》 已发布" in admin.text
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.PUBLISHED
    assert notice.approved_by == ts.staff["赵敏"].id and notice.approved_at == clock()
    assert notice.number == "〔2026〕第001号"
    assert len(await notice_rows(db)) == 2 and len(await receipts(db)) == 6
    [told] = await received(db, teacher, "notice-approved:")
    assert "您的通知已由赵敏批准" in told.text


async def test_return_asks_for_a_reason_and_the_author_is_told_it(
    db: Database, clock: FakeClock
) -> None:
    ts, teacher, admin = await _submitted(db, clock)
    [request] = await received(db, admin, "notice-approval:")
    await press_on(admin, request, "退回")
    assert "请输入退回《秋季研学活动通知》的理由" in admin.text
    await admin.send("   ")
    assert "请用文字写下退回的理由" in admin.text
    await admin.send("请注明集合时间和地点")
    assert "已退回《秋季研学活动通知》，并已告知王芳老师" in admin.text
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.RETURNED
    assert notice.return_reason == "请注明集合时间和地点"
    assert notice.returned_by == ts.staff["赵敏"].id
    [told] = await received(db, teacher, "notice-returned:")
    assert "理由：请注明集合时间和地点" in told.text
    assert await notice_rows(db) == [] and await receipts(db) == []
    # The approval card pressed later only says what happened.
    await press_on(admin, request, "批准")
    assert "已由赵敏退回" in admin.text
    assert await notice_rows(db) == []


async def test_a_second_admin_finds_the_notice_already_approved(
    db: Database, clock: FakeClock
) -> None:
    ts, _teacher, admin = await _submitted(db, clock)
    async with db.session() as session:
        other = Staff(school_id=ts.school.id or 0, staff_no="T06", name="周静", roles="admin")
        session.add(other)
    second = await person(db, clock, admin.dispatcher, other)
    [request] = await received(db, admin, "notice-approval:")
    await press_on(admin, request, "批准")
    await press_on(second, request, "批准")
    assert "已由赵敏批准" in second.text
    await press_on(second, request, "退回")
    assert "已由赵敏批准" in second.text
    [notice] = await notices(db)
    assert notice.approved_by == ts.staff["赵敏"].id
    assert len(await notice_rows(db)) == 2


async def test_a_teacher_cannot_approve_by_forging_the_button(
    db: Database, clock: FakeClock
) -> None:
    _ts, teacher, admin = await _submitted(db, clock)
    [request] = await received(db, admin, "notice-approval:")
    await press_on(teacher, request, "批准")
    assert teacher.text == "这个按钮不适用于您。"
    [notice] = await notices(db)
    assert notice.status is NoticeStatus.PENDING
    assert await notice_rows(db) == []


async def test_an_emergency_notice_from_a_teacher_still_needs_an_approver(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅")
    clock.advance(hours=12)  # 22:00: emergency requests are not held for the morning
    await teacher.steps("/notice", "紧急", ">暴雨停课", ">明日停课，请家长安排看护。", "跳过")
    await teacher.steps("三(2)班全体家长", "不需要回执", "批准后立即发布", ">12月1日")
    assert "紧急通知也需德育处批准后才会发出" in teacher.text
    await teacher.press("提交")
    [request_row] = await notice_rows(db, "notice-approval:")
    assert request_row.due_at == clock()
    assert await notice_rows(db) == []
    [request] = await received(db, admin, "notice-approval:")
    assert request.text.startswith("【紧急通知待审批】")
    await press_on(admin, request, "批准")
    [notice] = await notices(db)
    assert notice.kind is NoticeKind.EMERGENCY and notice.approved_by == ts.staff["赵敏"].id
    [row] = await notice_rows(db)
    assert row.due_at == clock()


async def test_publishing_a_pending_notice_is_refused_and_writes_nothing(
    db: Database, clock: FakeClock
) -> None:
    await _submitted(db, clock)
    [notice] = await notices(db)
    async with db.session() as session:
        try:
            await publish_notice(
                session=session,
                notice_id=notice.id or 0,
                now=clock(),
                due_at=clock(),
                render=lambda n, f, a: {"text": "", "buttons": []},
            )
        except NotApproved:
            pass
        else:
            raise AssertionError("an unapproved notice was published")
    assert await notice_rows(db) == [] and await receipts(db) == []
    async with db.session() as session:
        [still] = (await session.exec(select(type(notice)))).all()
    assert still.status is NoticeStatus.PENDING


async def test_a_scheduled_teacher_notice_is_published_only_after_approval(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await bind_guardians(db, clock, dispatcher, ts, "刘梅")
    await teacher.steps(*OPENING, "三(2)班全体家长", "不需要回执", "定时发布", ">明天 8:00")
    await teacher.steps(">12月1日", "提交")
    tomorrow = clock() + timedelta(days=1)
    assert await run_publish_job(db, ts.school, tomorrow) == 0
    [request] = await received(db, admin, "notice-approval:")
    await press_on(admin, request, "批准")
    assert "已批准，将于 11月17日（周二） 08:00 发给家长" in admin.text
    assert await notice_rows(db) == []
    assert await run_publish_job(db, ts.school, tomorrow) == 2
    assert len(await notice_rows(db)) == 1


async def test_the_author_reopens_a_returned_notice_and_submits_it_again(
    db: Database, clock: FakeClock
) -> None:
    ts, teacher, admin = await _submitted(db, clock)
    [request] = await received(db, admin, "notice-approval:")
    await press_on(admin, request, "退回")
    await admin.send("请注明集合时间")
    [told] = await received(db, teacher, "notice-returned:")
    other = await person(db, clock, admin.dispatcher, ts.staff["李强"])
    await press_on(other, told, "修改后重新提交")
    assert other.text == "这个按钮已失效。"
    await press_on(teacher, told, "修改后重新提交")
    assert "已载入被退回的通知《秋季研学活动通知》" in teacher.text
    assert (
        "请核对这条通知" in teacher.text and "发送对象：三(2)班（6 名学生的家长）" in teacher.text
    )
    await teacher.steps("修改", "正文", ">11月20日8:00在校门口集合，全天赴科技馆研学。", "提交")
    assert "已提交德育处审批" in teacher.text
    returned, again = await notices(db)
    assert returned.status is NoticeStatus.RETURNED
    assert again.status is NoticeStatus.PENDING and again.body.startswith(
        "11月20日8:00在校门口集合"
    )
    await press_on(teacher, told, "修改后重新提交")  # the returned one is still there to reuse
    assert "已载入被退回的通知" in teacher.text
