"""Bringing a case to the care room: a teacher's referral (`/refer`), a care-room teacher
recording a student's own request, a guardian's request (`/care`); the care room told at once
(urgent ones even at night); whoever referred or asked sees the stage and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.care import buttons as b
from models.care.tables import CareEntryKind, CaseIntake, CaseStatus, CaseUrgency
from models.db.engine import Database
from models.roster.tables import Student
from models.school.tables import School, SchoolClass
from tests.helpers.care import NOTICED, add_care_staff, audit_rows, cases, entries, refer
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import chat_as, full_dispatcher, offer_button, person


async def test_a_teachers_referral_opens_a_case_and_the_care_room_is_told_at_once(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, care.worker)
    await person(db, clock, dispatcher, care.colleague)
    teacher = await chat_as(db, clock, school.staff["李强"], dispatcher)
    await teacher.send("/refer")
    assert "转介到关爱室：是哪位学生？" in teacher.text
    await teacher.steps("三(2)班", "张小明")
    assert "请写下您注意到的情况" in teacher.text
    await teacher.steps(f">{NOTICED}", "一般")
    assert "请核对转介内容" in teacher.text and "来源：教师转介" in teacher.text
    await teacher.press("提交")
    assert "状态：已受理" in teacher.text and "只能看到处理阶段" in teacher.text
    [case] = await cases(db)
    assert (case.intake, case.urgency, case.status, case.worker_id) == (
        CaseIntake.REFERRAL,
        CaseUrgency.NORMAL,
        CaseStatus.RECEIVED,
        None,
    )
    assert (case.student_id, case.referred_by_staff_id, case.noticed) == (
        school.students["张小明"].id,
        school.staff["李强"].id,
        NOTICED,
    )
    told = await outbox(db, kind="care_new")
    assert sorted(row.chat_id for row in told) == [
        f"staff-{care.worker.id}",
        f"staff-{care.colleague.id}",
    ]
    message = reply_of(told[0])
    assert f"新个案 #{case.id}：三(2)班 张小明（教师转介）" in message.text
    assert NOTICED not in message.text
    assert message.choices() == [f"!{b.OPEN}:{case.id}"]
    assert [e.kind for e in await entries(db)] == [CareEntryKind.OPENED]
    [opened] = await audit_rows(db)
    assert (opened.action, opened.subject, opened.student_id) == (
        "case.change",
        f"case:{case.id}",
        school.students["张小明"].id,
    )


async def test_a_referral_at_night_waits_for_the_morning_unless_it_is_urgent(
    db: Database, school: TestSchool
) -> None:
    clock = FakeClock(local("2026-11-16 22:30").astimezone(UTC))
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, care.worker)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher, "李娜")
    await refer(teacher, "王磊", "说家里有人打他", urgency="紧急")
    normal, urgent = await outbox(db, kind="care_new")
    assert normal.due_at == local("2026-11-17 07:00")
    assert urgent.due_at == clock()
    assert "【关爱室·紧急】" in reply_of(urgent).text


async def test_the_referrer_sees_only_the_stage_as_the_case_moves_on(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher)
    [case] = await cases(db)
    await teacher.press("查看进展")
    assert "三(2)班 张小明：已受理" in teacher.text
    worker = await person(db, clock, dispatcher, care.worker)
    await worker.send(f"/cases {case.id}")
    await worker.steps("接手", "评估", "心理", "中")
    await teacher.send("/refer 进展")
    assert "三(2)班 张小明：跟进中" in teacher.text
    for secret in (NOTICED, "周心", "心理", "程度"):
        assert secret not in teacher.text
    other = await chat_as(db, clock, school.staff["李强"], dispatcher)
    await other.callback(f"!{b.REFERRER_STAGE}:{case.id}")
    assert "没有找到这条记录。" in other.text and "张小明" not in other.text


async def test_a_care_teacher_records_a_students_own_request_and_a_teacher_cannot(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    worker = await person(db, clock, dispatcher, care.worker)
    await worker.send("/refer 赵刚")
    assert "这个个案是怎么来的？" in worker.text
    await worker.steps("学生主动求助", ">想找老师聊聊，最近睡不好", "一般", "提交")
    teacher = await chat_as(db, clock, school.staff["孙丽"], dispatcher)
    await teacher.send("/refer 孙悦")
    assert "这个个案是怎么来的？" not in teacher.text and "请写下您注意到的情况" in teacher.text
    await offer_button(db, teacher, "学生主动求助", "in:self")
    await teacher.callback("in:self")
    assert "请用文字写下您注意到的情况。" in teacher.text
    await teacher.steps(">上课总趴着，作业不交", "一般", "提交")
    own, referred = await cases(db)
    assert (own.intake, own.referred_by_staff_id) == (CaseIntake.SELF, care.worker.id)
    assert (referred.intake, referred.referred_by_staff_id) == (
        CaseIntake.REFERRAL,
        school.staff["孙丽"].id,
    )


async def test_a_forged_or_departed_student_is_refused_and_nothing_is_saved(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    async with db.session() as session:
        other = School(name="别的小学")
        session.add(other)
        await session.flush()
        klass = SchoolClass(school_id=other.id or 0, grade=3, number=1, name="三(1)班")
        session.add(klass)
        await session.flush()
        stranger = Student(
            school_id=other.id or 0, student_no="X001", name="外校生", class_id=klass.id or 0
        )
        session.add(stranger)
        await session.flush()
        stranger_id = stranger.id
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.send("/refer")
    for forged in (f"stu:{stranger_id}", "stu:999999"):
        await offer_button(db, teacher, "外校生", forged)
        await teacher.callback(forged)
        assert "找不到这位学生（可能已不在本校名册中）。请重新选择。" in teacher.text
    await teacher.send("/cancel")
    await teacher.steps("/refer 李娜", f">{NOTICED}", "一般")
    async with db.session() as session:
        departed = await session.get(Student, school.students["李娜"].id)
        assert departed is not None
        departed.active = False
        session.add(departed)
    await teacher.press("提交")
    assert "找不到这位学生（可能已不在本校名册中），本次没有转介。" in teacher.text
    assert await cases(db) == [] and await outbox(db, kind="care_new") == []


async def test_a_guardian_asks_for_help_for_one_of_two_children_and_sees_only_the_stage(
    db: Database, school: TestSchool
) -> None:
    clock = FakeClock(datetime(2026, 11, 16, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, care.worker)
    mother = await person(db, clock, dispatcher, school.guardians["刘梅"])
    await mother.send("/care")
    assert "您想为哪个孩子向关爱室求助？" in mother.text
    await mother.press("张小红（四(1)班）")
    await mother.send("孩子爸爸住院了，家里经济很困难，孩子很焦虑")
    assert "请核对" in mother.text
    await mother.press("提交")
    assert "已收到您的求助，状态：已受理" in mother.text
    [case] = await cases(db)
    assert (case.intake, case.student_id, case.referred_by_guardian_id) == (
        CaseIntake.GUARDIAN,
        school.students["张小红"].id,
        school.guardians["刘梅"].id,
    )
    assert case.referred_by_staff_id is None
    [told] = await outbox(db, kind="care_new")
    assert "四(1)班 张小红（家长反映）" in reply_of(told).text
    assert told.due_at == local("2026-11-17 07:00")
    await mother.press("查看进展")
    assert "四(1)班 张小红：已受理" in mother.text
    await mother.send("/care 进展")
    assert "四(1)班 张小红：已受理" in mother.text and "经济" not in mother.text
    await mother.callback(f"!{b.OPEN}:{case.id}")
    assert "经济" not in mother.text and "张小红" not in mother.text


async def test_staff_cannot_use_the_guardians_request_nor_a_guardian_the_referral(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.send("/care")
    assert "老师请用 /refer 转介学生" in teacher.text
    mother = await person(db, clock, dispatcher, school.guardians["刘梅"])
    await mother.send("/refer 张小明")
    assert await cases(db) == []
    assert "请写下您注意到的情况" not in mother.text
