"""/absence through the real dispatcher on the console: absences, returns, duties and scope.

The test school (tests/helpers/factories.py): 王芳 heads 三(2)班 and teaches maths in 三(1)班; 李强 heads
三(1)班; 孙丽 heads 四(1)班; 钱进 coaches the basketball team (赵刚, 孙悦 of 四(1)班); 赵敏 is
德育处. The clock: Monday 16 November 2026, 10:00 in Shanghai; the school has no terms entered, so
every weekday is a school day.
"""

from __future__ import annotations

from datetime import date

from handlers.absence.states import State
from models.absences.tables import AbsenceKind
from models.db.engine import Database
from models.duties.tables import DutyTrigger
from scheduler.jobs.duties import sick_absence_check
from tests.helpers.clock import FakeClock
from tests.helpers.duties import absences, duties, local, run_at
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import another_school_s_row, outbox
from tests.helpers.visits import ChatUser, chat_as, conversation_of, offer_button


async def test_unexcused_absence_opens_a_duty_for_the_head_teacher_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.steps("/absence", "赵刚", "无故缺席", "今天")
    assert "确认后将生成立即家访任务（24 小时内上门家访）：您。" in sun.text
    await sun.press("确认")
    assert "已记录：四(1)班 赵刚自 2026年11月16日 起无故缺席。" in sun.text
    assert "已为您生成立即家访任务，请于 11月17日 10:00 前上门家访。" in sun.text
    [absence] = await absences(db)
    assert (absence.kind, absence.since, absence.back_on) == (
        AbsenceKind.UNEXCUSED,
        date(2026, 11, 16),
        None,
    )
    [duty] = await duties(db)
    assert (duty.teacher_id, duty.student_id, duty.trigger, duty.source_key) == (
        ts.staff["孙丽"].id,
        ts.students["赵刚"].id,
        DutyTrigger.UNEXCUSED_ABSENCE,
        f"absence:{absence.id}",
    )
    assert duty.due_at == local("2026-11-17 10:00")
    # The reporter read it in the reply: no second message to herself.
    assert await outbox(db, kind="duty_new") == []
    assert await conversation_of(db, sun) is None


async def test_subject_teacher_reporting_an_unexcused_absence_gets_a_duty_beside_the_head(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["李强"])
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 李华", "无故缺席", "今天")
    assert "确认后将生成立即家访任务（24 小时内上门家访）：班主任李强、您。" in wang.text
    await wang.press("确认")
    assert "已为李强生成立即家访任务（11月17日 10:00 前），并已通知。" in wang.text
    assert "已为您生成立即家访任务" in wang.text
    assert sorted(d.teacher_id or 0 for d in await duties(db)) == sorted(
        [ts.staff["李强"].id or 0, ts.staff["王芳"].id or 0]
    )
    [notice] = await outbox(db, kind="duty_new")
    assert notice.chat_id == f"staff-{ts.staff['李强'].id}"
    assert "三(1)班 李华：无故缺席旷课" in notice.payload["text"]


async def test_head_teacher_who_has_not_bound_the_bot_is_named_so_the_reporter_tells_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await chat_as(db, clock, ts.staff["赵敏"])
    await admin.steps("/absence 周杰", "无故缺席", "今天", "确认")
    assert "李强还没有绑定本机器人，请当面或电话转告" in admin.text
    # 德育处 sees the whole school but does not get a visit duty of its own.
    assert [d.teacher_id for d in await duties(db)] == [ts.staff["李强"].id]


async def test_a_coach_reporting_a_team_member_absent_gets_a_duty_too(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    coach = await chat_as(db, clock, ts.staff["钱进"])
    await coach.steps("/absence 孙悦", "无故缺席", "昨天", "确认")
    assert sorted(d.teacher_id or 0 for d in await duties(db)) == sorted(
        [ts.staff["孙丽"].id or 0, ts.staff["钱进"].id or 0]
    )


async def test_a_first_day_of_sick_absence_opens_no_duty_yet(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", "今天")
    assert "病假满 2 个上学日仍未返校时，将为班主任生成立即家访任务。" in wang.text
    await wang.press("确认")
    assert "如病假满 2 个上学日仍未返校" in wang.text
    assert "孩子返校后，请再发送 /absence 登记返校。" in wang.text
    assert len(await absences(db)) == 1
    assert await duties(db) == []


async def test_sick_absence_reported_on_its_third_school_day_opens_a_duty_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    # Thursday 12th, Friday 13th and Monday 16th: the weekend does not count.
    await wang.steps("/absence 张小明", "病假", "其他日期", ">11月12日")
    assert "开始日期：2026年11月12日（至今缺课 3 个上学日）" in wang.text
    await wang.press("确认")
    [duty] = await duties(db)
    assert (duty.teacher_id, duty.trigger) == (ts.staff["王芳"].id, DutyTrigger.SICK_ABSENCE)


async def test_a_sick_absence_over_a_weekend_is_due_on_its_second_school_day(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    # Friday 13th and Monday 16th: two school days (the weekend adds none), and 两天以上
    # includes the second day.
    await wang.steps("/absence 张小明", "病假", ">11月13日")
    assert "至今缺课 2 个上学日" in wang.text
    await wang.press("确认")
    [duty] = await duties(db)
    assert duty.trigger is DutyTrigger.SICK_ABSENCE


async def test_a_running_absence_offers_to_record_the_return(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 李娜", "病假", "昨天", "确认")
    clock.advance(days=1)
    await wang.send("缺勤 李娜")
    assert "三(2)班 李娜自 2026年11月15日 起病假，还没有登记返校" in wang.text
    assert wang.labels == ["已返校", "取消"]
    await wang.steps("已返校", "今天")
    assert "确认登记：三(2)班 李娜于 2026年11月17日 返校" in wang.text
    assert "共缺课 1 个上学日" in wang.text
    await wang.press("确认")
    assert "已登记：三(2)班 李娜于 2026年11月17日 返校，共缺课 1 个上学日。" in wang.text
    [absence] = await absences(db)
    assert absence.back_on == date(2026, 11, 17)
    assert await duties(db) == []


async def _duty_opened_friday_morning(db: Database, clock: FakeClock) -> ChatUser:
    """张小明 off sick since Thursday; Friday 06:30 opens a duty for 王芳, announced at 07:00."""
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["王芳"])
    clock.now = local("2026-11-12 10:00")
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", "今天", "确认")
    # Friday 06:30: Thursday and (counted ahead) Friday → a duty, announced at 07:00.
    await run_at(db, ts.school, sick_absence_check, local("2026-11-13 06:30"))
    return wang


async def test_a_return_on_the_second_day_withdraws_the_duty_opened_that_morning(
    db: Database, clock: FakeClock
) -> None:
    wang = await _duty_opened_friday_morning(db, clock)
    assert len(await duties(db)) == 1
    [notice] = await outbox(db, kind="duty_new")
    assert notice.due_at == local("2026-11-13 07:00")
    # The child is back on Friday morning: one day missed, the duty is withdrawn unsent.
    clock.now = local("2026-11-13 06:50")
    await wang.steps("/absence 张小明", "已返校", "今天", "确认")
    assert "共缺课 1 个上学日" in wang.text
    assert "缺课不满 2 个上学日" in wang.text
    assert "已撤销为这次病假生成的立即家访任务" in wang.text
    assert await duties(db) == []
    assert await outbox(db, kind="duty_new") == []


async def test_a_withdrawn_duty_leaves_another_school_s_message_under_the_same_key(
    db: Database, clock: FakeClock
) -> None:
    """Outbox keys are unique within a school: another school's bot may hold `duty-new:N:…`."""
    wang = await _duty_opened_friday_morning(db, clock)
    [notice] = await outbox(db, kind="duty_new")
    other = await another_school_s_row(db, key=notice.key, kind="duty_new")
    clock.now = local("2026-11-13 06:50")
    await wang.steps("/absence 张小明", "已返校", "今天", "确认")
    assert "已撤销为这次病假生成的立即家访任务" in wang.text
    assert [row.school_id for row in await outbox(db, kind="duty_new")] == [other]


async def test_a_return_recorded_after_three_missed_days_still_opens_the_duty(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    clock.now = local("2026-11-12 10:00")
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", "今天", "确认")
    # No daily check ran (the bot was down); the child is back on Tuesday 17th.
    clock.now = local("2026-11-17 09:00")
    await wang.steps("/absence 张小明", "已返校", "今天", "确认")
    assert "共缺课 3 个上学日" in wang.text
    assert "已为您生成立即家访任务" in wang.text
    [duty] = await duties(db)
    assert duty.trigger is DutyTrigger.SICK_ABSENCE


async def test_a_start_date_in_the_future_is_refused_with_the_question_again(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", ">11月20日")
    assert "日期不能晚于今天（2026年11月16日）。" in wang.text
    assert wang.labels == ["今天", "昨天", "其他日期"]
    await wang.send(">不知道")
    assert "没能看懂这个日期" in wang.text
    assert await absences(db) == []


async def test_a_return_date_must_come_after_the_first_day_missed(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", "今天", "确认")
    await wang.steps("/absence 张小明", "已返校", "昨天")
    assert "返校日期要晚于开始缺勤的 2026年11月16日。" in wang.text
    [absence] = await absences(db)
    assert absence.back_on is None


async def test_editing_the_kind_from_the_confirmation_changes_the_outcome(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "病假", "今天", "修改", "缺勤类型", "无故缺席")
    assert "缺勤类型：无故缺席" in wang.text
    await wang.press("确认")
    [absence] = await absences(db)
    assert absence.kind is AbsenceKind.UNEXCUSED
    assert len(await duties(db)) == 1


async def test_cancel_records_nothing(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/absence 张小明", "无故缺席", "今天", "取消")
    assert "已取消，这次缺勤没有记录。" in wang.text
    assert await absences(db) == []
    assert await duties(db) == []


async def test_a_teacher_cannot_find_a_student_outside_their_scope(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.send("/absence 张小明")
    assert "在您的学生中没有找到姓名包含“张小明”的学生。" in sun.text
    assert "张小明" not in sun.labels


async def test_a_forged_student_button_outside_scope_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.send("/absence")
    forged = f"stu:{ts.students['张小明'].id}"
    await offer_button(db, sun, "张小明", forged)
    await sun.callback(forged)
    assert "不能选择这位学生" in sun.text
    assert "张小明" not in sun.text.replace("“张小明”", "")
    conversation = await conversation_of(db, sun)
    assert conversation is not None and conversation.state == State.STUDENT
    assert await absences(db) == []
