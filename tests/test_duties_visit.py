"""Immediate-visit duties and the visit flow: 立即 proposed first, a 上门 visit fulfils the duty.

孙丽 heads 四(1)班 (赵刚 is an orphan, so 重点 is otherwise proposed first); 钱进 coaches 赵刚's
team. The clock: Monday 16 November 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from models.db.engine import Database
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.duties import duties, local, open_duty
from tests.helpers.factories import seed_school
from tests.helpers.visits import ChatUser, chat_as, visits

#: The rest of a full /visit after the date: who was met, five sections skipped, no problem.
REST = ("奶奶", "跳过", "跳过", "跳过", "跳过", "跳过", "无")


async def sun_with_duty(db: Database, clock: FakeClock) -> tuple[factories.TestSchool, ChatUser]:
    ts = await seed_school(db)
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 09:00"), source_key="absence:1")
    return ts, await chat_as(db, clock, ts.staff["孙丽"])


async def test_the_visit_flow_proposes_immediate_first_and_says_why(
    db: Database, clock: FakeClock
) -> None:
    _, sun = await sun_with_duty(db, clock)
    await sun.steps("/visit 赵刚", "上门家访")
    assert "该生有一项待完成的立即家访（无故缺席旷课，11月17日 09:00 前），建议选择立即家访。" in (
        sun.text
    )
    assert "只有上门家访" not in sun.text
    assert sun.labels == ["立即", "重点", "常规"]


async def test_without_a_duty_the_category_order_is_unchanged(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.steps("/visit 赵刚", "上门家访")
    assert sun.labels == ["重点", "常规", "立即"]
    assert "立即家访（" not in sun.text


async def test_a_home_visit_after_the_trigger_fulfils_the_duty(
    db: Database, clock: FakeClock
) -> None:
    _, sun = await sun_with_duty(db, clock)
    await sun.steps("/visit 赵刚", "上门家访", "立即", "今天", *REST, "保存")
    assert sun.text.startswith("已保存。已完成立即家访任务。")
    [visit] = await visits(db)
    [duty] = await duties(db)
    assert (duty.done_at, duty.visit_id) == (clock(), visit.id)


async def test_a_phone_call_does_not_fulfil_the_duty_and_the_teacher_is_told(
    db: Database, clock: FakeClock
) -> None:
    _, sun = await sun_with_duty(db, clock)
    await sun.steps("/visit 赵刚", "电访")
    assert "注意：只有上门家访才能完成这项任务。" in sun.text
    await sun.steps("立即", "今天", *REST, "保存")
    assert "该生的立即家访任务还未完成：需要记录一次上门家访。" in sun.text
    [duty] = await duties(db)
    assert (duty.done_at, duty.visit_id) == (None, None)


async def test_a_visit_by_another_teacher_does_not_fulfil_this_teachers_duty(
    db: Database, clock: FakeClock
) -> None:
    ts, sun = await sun_with_duty(db, clock)
    await open_duty(db, ts, "钱进", "赵刚", local("2026-11-16 09:00"), source_key="absence:1")
    await sun.steps("/visit 赵刚", "上门家访", "立即", "今天", *REST, "保存")
    done = {d.teacher_id: d.done_at for d in await duties(db)}
    assert done == {ts.staff["孙丽"].id: clock(), ts.staff["钱进"].id: None}


async def test_a_home_visit_dated_before_the_trigger_day_does_not_fulfil_it(
    db: Database, clock: FakeClock
) -> None:
    _, sun = await sun_with_duty(db, clock)
    await sun.steps("/visit 赵刚", "上门家访", "立即", "昨天", *REST, "保存")
    assert "已完成立即家访任务" not in sun.text
    [duty] = await duties(db)
    assert duty.done_at is None


async def test_a_visit_on_the_trigger_day_before_its_hour_counts(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    # Reported at 18:00; the teacher went in the afternoon and logs it that evening.
    await open_duty(db, ts, "孙丽", "赵刚", local("2026-11-16 18:00"), source_key="absence:1")
    clock.now = local("2026-11-16 19:30")
    sun = await chat_as(db, clock, ts.staff["孙丽"])
    await sun.steps("/visit 赵刚", "上门家访", "立即", "今天", *REST, "保存")
    assert "已完成立即家访任务" in sun.text


async def test_the_one_message_log_proposes_immediate_and_fulfils_the_duty(
    db: Database, clock: FakeClock
) -> None:
    _, sun = await sun_with_duty(db, clock)
    await sun.send("今天上门家访了赵刚，见了奶奶，孩子情绪稳定")
    assert sun.labels == ["立即", "重点", "常规"]
    assert "建议选择立即家访" in sun.text
    await sun.steps("立即", "保存")
    assert sun.text.startswith("已保存。已完成立即家访任务。")
    [duty] = await duties(db)
    assert duty.done_at is not None
