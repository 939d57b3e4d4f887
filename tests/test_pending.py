"""/pending (待办): the teacher's open immediate-visit duties, soonest due first."""

from __future__ import annotations

from models.db.engine import Database
from models.duties.tables import DutyTrigger
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, open_duty
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import ChatUser, chat_as, visit_dispatcher


async def test_pending_lists_open_duties_soonest_first_with_overdue_marked(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await open_duty(
        db, ts, "王芳", "李娜", local("2026-11-16 08:00"), DutyTrigger.UNEXCUSED_ABSENCE
    )
    await open_duty(
        db, ts, "王芳", "王磊", local("2026-11-15 08:00"), DutyTrigger.FAMILY_CHANGE, "父母离异"
    )
    await open_duty(db, ts, "王芳", "周杰", local("2026-11-16 09:00"), DutyTrigger.SICK_ABSENCE)
    await open_duty(db, ts, "李强", "李华", local("2026-11-16 07:00"), DutyTrigger.DISCIPLINE)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.send("待办")
    assert wang.text.splitlines() == [
        "待完成的立即家访（3 项，按到期时间排列）：",
        "1. 三(2)班 王磊：家庭重大变故：父母离异，11月16日 08:00 前（已逾期）",
        "2. 三(2)班 李娜：无故缺席旷课，11月17日 08:00 前",
        "3. 三(1)班 周杰：因病缺课两天以上，11月17日 09:00 前",
        "上门家访后用 /visit 记录（选择“上门家访”），任务即完成。",
    ]


async def test_pending_says_so_when_nothing_is_open(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.send("/pending")
    assert wang.text == "没有待完成的立即家访。"


async def test_a_done_duty_leaves_the_list(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 09:00"), DutyTrigger.AWARD)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.steps("/visit 赵刚", "上门家访", "立即", "今天", "奶奶")
    await sun.steps("跳过", "跳过", "跳过", "跳过", "跳过", "无", "保存")
    await sun.send("/pending")
    assert sun.text == "没有待完成的立即家访。"


async def test_pending_is_in_english_for_an_english_speaking_teacher(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await open_duty(
        db, ts, "王芳", "李娜", local("2026-11-16 08:00"), DutyTrigger.UNEXCUSED_ABSENCE
    )
    user_id = await bind(db, clock, ts.staff["王芳"], language="en")
    wang = ChatUser(visit_dispatcher(db, clock), user_id)
    await wang.send("/pending")
    assert "三(2)班 李娜" in wang.text
    assert "无故缺席旷课" not in wang.text


async def test_guardians_are_not_offered_pending(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user_id = await bind(db, clock, ts.guardians["刘梅"])
    parent = ChatUser(visit_dispatcher(db, clock), user_id)
    await parent.send("/pending")
    assert parent.text == "这项功能只对本校教师开放。"
