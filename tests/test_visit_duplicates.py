"""No double counting: a visit like one on record (same student, date and form) is saved only
when the teacher confirms it as another visit, and the progress line after a save is the figure
/quota shows, or absent for staff without a quota. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.visits.tables import VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.quota import add_subject_teacher
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher, person, visits

ONE_MESSAGE = "今天上门家访了三(2)班张小明，见了奶奶，孩子情绪稳定"


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id)))
        return [a for a in rows.all() if a.startswith("visit.")]


async def log_once(user: ChatUser) -> None:
    await user.steps(f">{ONE_MESSAGE}", "重点", "保存")


async def test_the_same_visit_again_warns_and_is_not_saved_unless_confirmed(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await log_once(user)
    assert user.text.endswith("本月上门家访 1/10。")
    await user.steps(f">{ONE_MESSAGE}", "重点", "保存")
    assert "今天已记录过张小明的上门家访，仍要再记一条吗？" in user.text
    assert user.labels == ["仍要保存", "不保存"]
    await user.press("不保存")
    assert "没有保存" in user.text
    assert len(await visits(db)) == 1
    await user.send("/quota")
    assert "本月上门家访 1/10" in user.text
    assert "本月联系家长 1/8 人次" in user.text


async def test_a_confirmed_second_visit_is_saved_counted_and_audited_as_such(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await log_once(user)
    await user.steps(f">{ONE_MESSAGE}", "重点", "保存", "仍要保存")
    assert user.text.startswith("已保存。")
    assert user.text.endswith("本月上门家访 2/10。")
    assert len(await visits(db)) == 2
    assert await audit_actions(db) == ["visit.create", "visit.create_repeat"]


async def test_another_form_or_another_day_is_no_repeat(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await log_once(user)
    await user.steps(">今天电话联系了张小明奶奶", "重点", "保存")
    assert user.text.startswith("已保存。")
    await user.steps(">昨天上门家访张小明，见了奶奶", "重点", "保存")
    assert user.text.startswith("已保存。")
    assert [v.form for v in await visits(db)] == [VisitForm.HOME, VisitForm.PHONE, VisitForm.HOME]


async def test_a_visit_another_teacher_recorded_is_named_with_the_teacher(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_subject_teacher(db, ts)  # 周婷 teaches 三(2)班
    dispatcher = full_dispatcher(db, clock)
    wang = await person(db, clock, dispatcher, ts.staff["王芳"])
    await log_once(wang)
    from models.roster.tables import Staff

    async with db.session() as session:
        zhou = (await session.exec(select(Staff).where(Staff.name == "周婷"))).one()
    teacher = await person(db, clock, dispatcher, zhou)
    await teacher.steps(f">{ONE_MESSAGE}", "重点", "保存")
    assert "今天已记录过张小明的上门家访，仍要再记一条吗？" in teacher.text
    assert "已有的记录由王芳填写。" in teacher.text
    await teacher.press("仍要保存")
    assert teacher.text.startswith("已保存。")
    assert teacher.text.endswith("本月上门家访 1/3。")


async def test_the_step_by_step_flow_warns_too(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await log_once(user)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    await user.steps("跳过", "跳过", "跳过", "跳过", "跳过", "无", "保存")
    assert "今天已记录过张小明的上门家访" in user.text
    await user.send("返回")
    assert "请核对这次家访记录" in user.text
    await user.steps("修改", "家访日期", "昨天", "保存")
    assert user.text.startswith("已保存。")
    assert len(await visits(db)) == 2


async def test_the_warning_is_asked_again_after_a_restart(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await log_once(user)
    await user.steps(f">{ONE_MESSAGE}", "重点", "保存")
    user.dispatcher = full_dispatcher(db, clock)  # a restart
    await user.send("仍要保存")
    assert user.text.startswith("已保存。")
    assert len(await visits(db)) == 2


# -- the progress line is /quota's figure, or none ----------------------------------------------


async def test_an_admin_without_a_quota_gets_no_progress_line(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    admin = await chat_as(db, clock, ts.staff["赵敏"])  # 德育处: no class, no group
    await admin.steps(">昨天电访李华妈妈 说孩子感冒", "常规", "保存")
    assert admin.text == "已保存。"
    await admin.send("/quota")
    assert "本月" not in admin.text.split("进度最落后的班级")[0]
    assert "/8" not in admin.text


async def test_a_coach_sees_the_contacts_figure_that_quota_shows(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    coach = await chat_as(db, clock, ts.staff["钱进"])  # 篮球队: parent contacts only
    await coach.send("/visit")
    await coach.steps(coach.labels[0])
    await coach.steps(coach.labels[0], "电访", "常规", "今天", "母亲")
    await coach.steps("跳过", "跳过", "跳过", "跳过", "跳过", "无", "保存")
    line = coach.text.removeprefix("已保存。")
    assert line == "本月联系家长 1/8 人次。"
    await coach.send("/quota")
    assert "本月联系家长 1/8 人次" in coach.text


async def test_a_subject_teachers_line_is_their_quota(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await add_subject_teacher(db, ts)
    from models.roster.tables import Staff

    async with db.session() as session:
        zhou = (await session.exec(select(Staff).where(Staff.name == "周婷"))).one()
    teacher = await chat_as(db, clock, zhou)
    await teacher.steps(">今天上门家访张小明，见了奶奶", "重点", "保存")
    assert teacher.text.endswith("本月上门家访 1/3。")
    await teacher.send("/quota")
    assert "本月上门家访 1/3" in teacher.text
