"""/incident through the real Dispatcher: the conversation, and what 确认上报 does at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from handlers.incident.draft import IncidentDraft
from handlers.incident.states import State, next_state
from handlers.types import Inbound
from models.db.engine import Database
from models.duties.tables import Duty, DutyTrigger
from models.incidents.tables import IncidentKind
from models.outbox.tables import OutboxMessage
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.incidents import REPORT, events, incident_outbox, outbox_for, the_incident
from tests.helpers.visits import ChatUser, conversation_of, full_dispatcher, person


def reply_text(rows: list[OutboxMessage]) -> str:
    return "\n".join(str(row.payload["text"]) for row in rows)


# -- the conversation --------------------------------------------------------------------------


async def test_a_teacher_reports_an_incident_step_by_step(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT)
    assert "请核对突发事件报告" in teacher.text
    assert "学生：三(2)班 张小明" in teacher.text
    assert "现在情况：已送医院" in teacher.text
    assert teacher.labels == ["确认上报", "修改", "取消"]
    await teacher.press("确认上报")
    assert teacher.text.startswith("已上报。")
    assert teacher.labels == ["查看记录"]
    incident = await the_incident(db)
    assert (incident.student_id, incident.reporter_id, incident.kind) == (
        ts.students["张小明"].id,
        ts.staff["王芳"].id,
        IncidentKind.INJURY,
    )
    assert (incident.what, incident.where_now) == ("课间在操场摔倒，右膝擦伤流血", "已送医院")
    assert incident.reported_at == clock()
    assert await conversation_of(db, teacher) is None


async def test_the_chinese_keyword_and_a_name_start_at_the_kind(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.send("突发 张小明")
    assert "学生：三(2)班 张小明" in teacher.text
    assert teacher.labels == ["突发疾病", "意外伤害", "其他"]


async def test_a_coach_may_report_for_any_student_of_the_school(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)  # 钱进 coaches two 四(1)班 students; 李华 is in 三(1)班
    coach = await person(db, clock, full_dispatcher(db, clock), ts.staff["钱进"])
    await coach.send("/incident")
    assert coach.labels == ["篮球队", "三(1)班", "三(2)班", "四(1)班"]
    await coach.steps(
        "三(1)班", "李华", "突发疾病", ">体育课上突然头晕", "在医务室观察", "确认上报"
    )
    assert coach.text.startswith("已上报。")
    assert (await the_incident(db)).student_id == ts.students["李华"].id


async def test_a_guardian_cannot_report_an_incident(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    parent = await person(db, clock, full_dispatcher(db, clock), ts.guardians["刘梅"])
    await parent.send("/incident")
    assert parent.text == "这项功能只对本校教师开放。"


async def test_cancel_at_the_confirmation_reports_nothing(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT, "取消")
    assert teacher.text == "已取消，这次突发事件没有上报。"
    assert await incident_outbox(db) == []
    assert await events(db) == []


async def test_editing_one_answer_asks_only_that_again(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT, "修改", "现在情况")
    assert "孩子现在在哪里" in teacher.text
    await teacher.send("家长已接回家")
    assert "现在情况：家长已接回家" in teacher.text
    assert "类别：意外伤害" in teacher.text
    await teacher.steps("修改", "类别", "其他")
    assert "类别：其他" in teacher.text


@pytest.mark.parametrize(
    ("state_steps", "sent", "note"),
    [
        (REPORT[:3], ">受伤了", "请点下面的按钮来选择。"),  # text where a kind is expected
        (REPORT[:4], ">  ", "请用文字说明发生了什么。"),
        (REPORT[:4], ">" + "摔" * 2001, "最多 2000 个字"),
        (REPORT[:5], ">" + "医" * 501, "最多 500 个字"),
        (REPORT, ">随便", "请点下面的按钮来选择。"),  # text at the confirmation
    ],
)
async def test_bad_input_gets_a_clear_note_and_the_same_question(
    db: Database, clock: FakeClock, state_steps: tuple[str, ...], sent: str, note: str
) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    teacher.channel = "telegram"  # the console would read digits as buttons; text is text here
    await bind(db, clock, ts.staff["王芳"], channel="telegram", external_id=teacher.user_id)
    await teacher.steps(*state_steps)
    before = await conversation_of(db, teacher)
    assert before is not None
    await teacher.steps(sent)
    assert note in teacher.text
    after = await conversation_of(db, teacher)
    assert after is not None and after.state == before.state


async def test_a_forged_kind_button_is_refused(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT[:3])
    await teacher.callback("kind:fire")
    assert "这个按钮已过期" in teacher.text  # never offered: the dispatcher refuses it


async def test_a_photo_with_a_caption_is_kept_with_the_report(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await teacher.steps(*REPORT[:4])
    base = Inbound(channel="console", user_id=teacher.user_id, chat_id=teacher.user_id)
    response = await dispatcher.handle(replace(base, photo="photo-file-1"))
    assert "请再用文字简要说明发生了什么" in response.replies[0].text
    response = await dispatcher.handle(replace(base, photo="photo-file-2", text="膝盖擦伤"))
    teacher.replies = response.replies
    await teacher.steps("已送医院")
    assert "照片：已附 1 张" in teacher.text
    await teacher.press("确认上报")
    incident = await the_incident(db)
    assert (incident.what, incident.photo_ref, incident.photo_channel) == (
        "膝盖擦伤",
        "photo-file-2",
        "console",
    )


async def test_a_student_who_left_the_roster_is_asked_again_at_the_confirmation(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT)
    async with db.session() as session:
        student = await session.get(Student, ts.students["张小明"].id)
        assert student is not None
        student.active = False
        session.add(student)
    await teacher.press("确认上报")
    assert "这位学生已不在本校名册中" in teacher.text
    assert await incident_outbox(db) == []


# -- what 确认上报 does -------------------------------------------------------------------------


async def _reported(
    db: Database, clock: FakeClock, *, bind_family: bool = True
) -> dict[str, ChatUser]:
    """王芳 reports 张小明's fall; the family (刘梅), 孙丽 and 赵敏 (德育处) are bound."""
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    people = {
        name: await person(db, clock, dispatcher, ts.staff[name]) for name in ("王芳", "赵敏")
    }
    if bind_family:
        people["刘梅"] = await person(db, clock, dispatcher, ts.guardians["刘梅"])
    await people["王芳"].steps(*REPORT, "确认上报")
    return people


async def test_the_family_gets_a_short_factual_message_with_an_acknowledge_button(
    db: Database, clock: FakeClock
) -> None:
    people = await _reported(db, clock)
    [message] = await outbox_for(db, people["刘梅"], "incident_family")
    assert "张小明（三(2)班）于 11月16日 10:00 在校发生突发情况：意外伤害" in message.text
    assert "请尽快与班主任王芳老师联系" in message.text
    assert "摔倒" not in message.text and "医院" not in message.text  # no detail beyond the kind
    assert [b.label for row in message.buttons for b in row] == ["已知悉"]


async def test_the_head_teacher_and_every_admin_get_the_alert_but_not_the_reporter(
    db: Database, clock: FakeClock
) -> None:
    people = await _reported(db, clock)
    alerts = await incident_outbox(db, "incident_alert")
    assert [row.chat_id for row in alerts] == [people["赵敏"].user_id]  # 王芳 is the head teacher
    alert = alerts[0].payload["text"]
    assert "【突发事件】三(2)班 张小明" in alert
    assert "经过：课间在操场摔倒，右膝擦伤流血" in alert
    assert "现在情况：已送医院" in alert and "报告人：王芳" in alert
    assert "已通知家长 1 位" in alert


async def test_a_report_by_another_teacher_alerts_the_head_teacher_too(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    head = await person(db, clock, dispatcher, ts.staff["王芳"])
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await coach.steps("/incident 张小明", "突发疾病", ">午饭后呕吐", "家长来接", "确认上报")
    [alert] = await outbox_for(db, head, "incident_alert")
    assert "报告人：钱进" in alert.text
    assert "班主任需在 11月17日 10:00 前上门家访" in alert.text
    assert await outbox_for(db, coach, "incident_alert") == []


async def test_an_immediate_visit_duty_is_opened_for_the_head_teacher(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await _reported_by(db, clock, ts.staff["钱进"])
    incident = await the_incident(db)
    async with db.session() as session:
        [duty] = (await session.exec(select(Duty))).all()
    assert (duty.teacher_id, duty.student_id, duty.trigger, duty.source_key) == (
        ts.staff["王芳"].id,
        ts.students["张小明"].id,
        DutyTrigger.INCIDENT,
        f"incident:{incident.id}",
    )
    assert duty.due_at == clock() + timedelta(hours=24)


async def _reported_by(db: Database, clock: FakeClock, staff: Staff) -> ChatUser:
    user = await person(db, clock, full_dispatcher(db, clock), staff)
    await user.steps("/incident 张小明", "突发疾病", ">午饭后呕吐", "家长来接", "确认上报")
    return user


async def test_events_are_recorded_in_order_family_then_staff_then_duty(
    db: Database, clock: FakeClock
) -> None:
    await _reported(db, clock)
    incident = await the_incident(db)
    assert [e[0] for e in await events(db)] == [
        "reported",
        "guardians_notified",
        "staff_alerted",
        "duty_created",
    ]
    kinds = [row.kind for row in await incident_outbox(db)]
    assert kinds == ["incident_family", "incident_alert"]
    assert incident.acknowledged_at is None


async def test_a_guardian_without_a_bound_account_is_recorded_and_their_phone_shown(
    db: Database, clock: FakeClock
) -> None:
    people = await _reported(db, clock, bind_family=False)
    recorded = await events(db)
    assert recorded[1] == ("guardians_notified", "system", "0")
    assert recorded[2][0] == "guardian_not_notified"
    assert "以下家长未绑定本机器人" in people["王芳"].text
    assert "刘梅（母亲）：13700000000" in people["王芳"].text
    assert await incident_outbox(db, "incident_family") == []


async def test_the_reporter_is_told_to_phone_staff_who_could_not_be_alerted(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)  # only the reporter is bound
    coach = await _reported_by(db, clock, ts.staff["钱进"])
    assert "班主任王芳老师还没有绑定本机器人，请立即电话告知。" in coach.text
    assert "德育处还没有人绑定本机器人，请立即电话报告德育处。" in coach.text
    assert ("staff_alerted", "system", "0") in await events(db)


async def test_a_class_without_a_head_teacher_gets_no_duty_and_the_reporter_is_told(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        klass = await session.get(SchoolClass, ts.classes["三(2)班"].id)
        assert klass is not None
        klass.head_teacher_id = None
        session.add(klass)
    await bind(db, clock, ts.guardians["刘梅"])
    coach = await _reported_by(db, clock, ts.staff["钱进"])
    assert "该班没有班主任，未能创建立即家访任务" in coach.text
    assert "请尽快与学校联系" in reply_text(await incident_outbox(db, "incident_family"))
    assert [e[0] for e in await events(db)][-1] == "no_head_teacher"
    async with db.session() as session:
        assert (await session.exec(select(Duty))).all() == []


async def test_incident_messages_are_not_held_for_quiet_hours(db: Database) -> None:
    night = FakeClock(datetime(2026, 11, 16, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    await _reported(db, night)
    rows = await incident_outbox(db)
    assert rows and all(row.due_at == night() for row in rows)


# -- the flow's shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, State.STUDENT),
        ({"student_id": 1}, State.KIND),
        ({"student_id": 1, "kind": IncidentKind.OTHER}, State.WHAT),
        ({"student_id": 1, "kind": IncidentKind.OTHER, "what": "x"}, State.WHERE_NOW),
        (
            {"student_id": 1, "kind": IncidentKind.OTHER, "what": "x", "where_now": ""},
            State.CONFIRM,
        ),
    ],
)
def test_the_next_question_is_the_first_thing_the_draft_lacks(
    fields: dict[str, object], expected: State
) -> None:
    assert next_state(IncidentDraft.model_validate(fields)) is expected
