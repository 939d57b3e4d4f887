"""/flag through the real dispatcher: a trigger and a note open duties for the head teacher and
the flagging teacher (see tests/test_absence_flow.py for the test school)."""

from __future__ import annotations

from handlers.flag.flow import State
from models.db.engine import Database
from models.duties.tables import DutyTrigger
from tests.helpers.clock import FakeClock
from tests.helpers.duties import duties, flags, local
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox
from tests.helpers.visits import chat_as, conversation_of, offer_button


async def test_a_flag_by_a_subject_teacher_opens_duties_for_the_head_and_for_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["李强"])
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/flag", "三(1)班", "周杰", "家庭重大变故", ">父亲上周因工伤住院")
    assert "情况：家庭重大变故" in wang.text
    assert "说明：父亲上周因工伤住院" in wang.text
    assert "确认后将生成立即家访任务（24 小时内上门家访）：班主任李强、您。" in wang.text
    assert wang.labels == ["确认上报", "修改", "取消"]
    await wang.press("确认上报")
    assert "已上报：三(1)班 周杰，家庭重大变故。" in wang.text
    assert "已为李强生成立即家访任务（11月17日 10:00 前），并已通知。" in wang.text
    assert "已为您生成立即家访任务，请于 11月17日 10:00 前上门家访。" in wang.text
    [flag] = await flags(db)
    assert (flag.trigger, flag.note, flag.flagged_by) == (
        DutyTrigger.FAMILY_CHANGE,
        "父亲上周因工伤住院",
        ts.staff["王芳"].id,
    )
    found = await duties(db)
    assert sorted(d.teacher_id or 0 for d in found) == sorted(
        [ts.staff["李强"].id or 0, ts.staff["王芳"].id or 0]
    )
    assert {(d.source_key, d.reason, d.due_at) for d in found} == {
        (f"flag:{flag.id}", "父亲上周因工伤住院", local("2026-11-17 10:00"))
    }
    [notice] = await outbox(db, kind="duty_new")
    assert notice.chat_id == f"staff-{ts.staff['李强'].id}"
    assert (
        "【立即家访任务】三(1)班 周杰：家庭重大变故：父亲上周因工伤住院。" in notice.payload["text"]
    )
    assert await conversation_of(db, wang) is None


async def test_a_flag_by_the_head_teacher_opens_one_duty(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/flag 王磊", "获突出进步或奖励", ">获全市作文比赛一等奖", "确认上报")
    [duty] = await duties(db)
    assert (duty.teacher_id, duty.trigger) == (ts.staff["王芳"].id, DutyTrigger.AWARD)


async def test_a_new_duty_announced_in_quiet_hours_waits_for_the_morning(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["孙丽"])
    clock.now = local("2026-11-16 22:15")
    coach = await chat_as(db, clock, ts.staff["钱进"])
    await coach.steps("/flag 赵刚", "严重违规违纪", ">训练时打架", "确认上报")
    [notice] = await outbox(db, kind="duty_new")
    assert notice.due_at == local("2026-11-17 07:00")
    # The deadline runs from the report, not from the morning.
    assert {d.due_at for d in await duties(db)} == {local("2026-11-17 22:15")}


async def test_the_note_is_required_and_short(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/flag 王磊", "其他重要问题", ">" + "很" * 201)
    assert "最多 200 个字，您发来的有 201 个字" in wang.text
    await wang.send("   ")
    assert "请用文字说明情况。" in wang.text
    conversation = await conversation_of(db, wang)
    assert conversation is not None and conversation.state == State.NOTE


async def test_editing_the_note_from_the_confirmation_keeps_the_rest(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/flag 王磊", "家长重大事故", ">母亲车祸", "修改", "说明")
    assert "当前内容：母亲车祸" in wang.text
    await wang.send("母亲车祸住院，奶奶照看")
    assert "说明：母亲车祸住院，奶奶照看" in wang.text
    assert "情况：家长重大事故" in wang.text
    await wang.press("确认上报")
    [flag] = await flags(db)
    assert flag.note == "母亲车祸住院，奶奶照看"


async def test_a_forged_trigger_is_refused(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.send("/flag 王磊")
    # An incident is reported with /incident, not flagged.
    await offer_button(db, wang, "突发事件", "trg:incident")
    await wang.callback("trg:incident")
    assert "这个选项无效" in wang.text
    assert await flags(db) == []


async def test_a_teacher_cannot_flag_a_student_outside_their_scope(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.send("/flag")
    forged = f"stu:{ts.students['周杰'].id}"
    await offer_button(db, sun, "周杰", forged)
    await sun.callback(forged)
    assert "不能选择这位学生" in sun.text
    await sun.send("周杰")
    assert "没有找到姓名包含“周杰”的学生" in sun.text
    assert await flags(db) == []
    assert await duties(db) == []
