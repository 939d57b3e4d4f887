"""After the report: 已知悉, the timeout job's call list, 已电话联系 and the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from handlers.dispatcher import Dispatcher
from handlers.types import Inbound, Reply
from models.db.engine import Database
from models.incidents.queries import open_incidents_not_reached
from models.roster.tables import Guardian, StudentGuardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from scheduler.jobs.incidents import INCIDENT_NOT_REACHED
from scheduler.timing import build_trigger, next_slot
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.incidents import (
    REPORT,
    events,
    incident_outbox,
    outbox_for,
    run_not_reached,
    the_incident,
)
from tests.helpers.scheduler import SHANGHAI, local
from tests.helpers.visits import ChatUser, full_dispatcher, person


@dataclass
class Scene:
    ts: factories.TestSchool
    dispatcher: Dispatcher
    head: ChatUser  # 王芳, head teacher of 三(2)班
    admin: ChatUser  # 赵敏, 德育处
    coach: ChatUser  # 钱进, the reporter
    mother: ChatUser  # 刘梅, 张小明's mother


async def scene(db: Database, clock: FakeClock, rules: SchoolRules = DEFAULT_RULES) -> Scene:
    """钱进 reports that 张小明 fell; 王芳 (head teacher), 赵敏 (德育处) and 刘梅 are bound."""
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock, rules)
    made = Scene(
        ts,
        dispatcher,
        head=await person(db, clock, dispatcher, ts.staff["王芳"]),
        admin=await person(db, clock, dispatcher, ts.staff["赵敏"]),
        coach=await person(db, clock, dispatcher, ts.staff["钱进"]),
        mother=await person(db, clock, dispatcher, ts.guardians["刘梅"]),
    )
    await made.coach.steps("/incident 张小明", *REPORT[3:], "确认上报")
    assert made.coach.text.startswith("已上报。")
    return made


def button_data(reply: Reply, label: str) -> str:
    [data] = [b.data for row in reply.buttons for b in row if b.label == label]
    return data


async def press_from_outbox(db: Database, user: ChatUser, kind: str, label: str) -> None:
    """Press `label` on the message of `kind` the outbox holds for `user`."""
    [message] = await outbox_for(db, user, kind)
    await user.callback(button_data(message, label))


# -- 已知悉 ------------------------------------------------------------------------------------


async def test_the_first_acknowledgement_is_recorded_and_edits_the_message(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    clock.advance(minutes=3)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    [edited] = s.mother.replies
    assert edited.edit and not edited.buttons
    assert "在校发生突发情况：意外伤害" in edited.text
    assert "✓ 您已于 10:03 确认知悉" in edited.text
    incident = await the_incident(db)
    assert (incident.acknowledged_at, incident.acknowledged_by) == (
        clock(),
        s.ts.guardians["刘梅"].id,
    )
    assert (await events(db))[-1] == ("acknowledged", f"guardian:{s.ts.guardians['刘梅'].id}", "")


async def test_the_head_teacher_and_the_reporter_are_told_the_family_acknowledged(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    notes = await incident_outbox(db, "incident_acknowledged")
    assert sorted(row.chat_id for row in notes) == sorted([s.head.user_id, s.coach.user_id])
    assert "【家长已知悉】三(2)班 张小明：家长刘梅已于 10:00" in notes[0].payload["text"]


async def test_a_second_press_changes_nothing_and_tells_nobody_again(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    clock.advance(minutes=5)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    assert "✓ 您已于 10:00 确认知悉" in s.mother.text
    assert [e[0] for e in await events(db)].count("acknowledged") == 1
    assert (
        len(await incident_outbox(db, "incident_acknowledged")) == 2
    )  # head teacher + reporter, once
    assert (await the_incident(db)).acknowledged_at == clock() - timedelta(minutes=5)


async def test_another_guardian_of_the_child_sees_it_was_already_acknowledged(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    async with db.session() as session:
        father = Guardian(school_id=s.ts.school.id or 0, name="张伟", phone="13600000000")
        session.add(father)
        await session.flush()
        link = StudentGuardian(
            student_id=s.ts.students["张小明"].id or 0, guardian_id=father.id or 0, position=2
        )
        session.add(link)
    dad = await person(db, clock, s.dispatcher, father)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    [message] = await outbox_for(db, s.mother, "incident_family")
    await dad.callback(button_data(message, "已知悉"))
    assert "✓ 已有家长于 10:00 确认知悉" in dad.text
    assert (await the_incident(db)).acknowledged_by == s.ts.guardians["刘梅"].id


async def test_a_forged_acknowledgement_from_another_family_is_refused_without_data(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    stranger = await person(db, clock, s.dispatcher, s.ts.guardians["李华家长"])
    [message] = await outbox_for(db, s.mother, "incident_family")
    await stranger.callback(button_data(message, "已知悉"))
    assert stranger.text == "这个按钮不适用于您。"
    assert not any(r.edit for r in stranger.replies)
    assert (await the_incident(db)).acknowledged_at is None
    assert "acknowledged" not in [e[0] for e in await events(db)]


async def test_staff_cannot_acknowledge_for_the_family(db: Database, clock: FakeClock) -> None:
    s = await scene(db, clock)
    incident = await the_incident(db)
    await s.head.callback(f"!inc-ack:{incident.id}")
    assert s.head.text == "这个按钮不适用于您。"
    assert (await the_incident(db)).acknowledged_at is None


async def test_a_redelivered_press_is_handled_once(db: Database, clock: FakeClock) -> None:
    s = await scene(db, clock)
    incident = await the_incident(db)
    press = Inbound(
        channel="console",
        user_id=s.mother.user_id,
        chat_id=s.mother.user_id,
        callback=f"!inc-ack:{incident.id}",
        update_key="u-1",
    )
    first = await s.dispatcher.handle(press)
    again = await s.dispatcher.handle(press)
    assert first.replies and not again.replies
    assert [e[0] for e in await events(db)].count("acknowledged") == 1


# -- the timeout job -----------------------------------------------------------------------------


async def test_no_acknowledgement_in_ten_minutes_sends_the_phone_numbers_once(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    later = clock() + timedelta(minutes=10)
    assert await run_not_reached(db, s.ts.school, later) == 2
    assert await run_not_reached(db, s.ts.school, later) == 0  # the same slot again
    assert await run_not_reached(db, s.ts.school, later + timedelta(minutes=1)) == 0
    rows = await incident_outbox(db, "incident_not_reached")
    assert sorted(r.chat_id for r in rows) == sorted([s.coach.user_id, s.head.user_id])
    text = rows[0].payload["text"]
    assert "【家长未联系上】三(2)班 张小明" in text
    assert "刘梅（母亲）：13700000000" in text
    assert "已电话联系" in [label for row in rows[0].payload["buttons"] for label, _ in row]
    incident = await the_incident(db)
    assert incident.not_reached_at == later
    assert [e[0] for e in await events(db)].count("not_reached") == 1


async def test_before_the_timeout_nothing_is_sent(db: Database, clock: FakeClock) -> None:
    s = await scene(db, clock)
    assert await run_not_reached(db, s.ts.school, clock() + timedelta(minutes=9)) == 0
    assert await incident_outbox(db, "incident_not_reached") == []


async def test_an_acknowledged_incident_sends_no_call_list(db: Database, clock: FakeClock) -> None:
    s = await scene(db, clock)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    assert await run_not_reached(db, s.ts.school, clock() + timedelta(minutes=10)) == 0
    assert await incident_outbox(db, "incident_not_reached") == []


async def test_the_timeout_is_configurable(db: Database, clock: FakeClock) -> None:
    rules = SchoolRules(ack_timeout_minutes=5)
    s = await scene(db, clock, rules)
    assert await run_not_reached(db, s.ts.school, clock() + timedelta(minutes=5), rules) == 2
    assert (
        "家长 5 分钟内没有确认知悉"
        in (await incident_outbox(db, "incident_not_reached"))[0].payload["text"]
    )


async def test_the_call_list_is_sent_in_quiet_hours_too(db: Database) -> None:
    night = FakeClock(datetime(2026, 11, 16, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    s = await scene(db, night)
    later = night() + timedelta(minutes=10)
    await run_not_reached(db, s.ts.school, later)
    rows = await incident_outbox(db, "incident_not_reached")
    assert rows and all(row.due_at == later for row in rows)


def test_the_call_list_job_fires_every_minute_of_the_schools_day_and_night() -> None:
    trigger = build_trigger(INCIDENT_NOT_REACHED, DEFAULT_RULES, SHANGHAI)
    fires: list[datetime] = []
    moment = local("2026-11-16 23:57:30")  # across midnight, in quiet hours
    for _ in range(4):
        following = next_slot(trigger, moment)
        assert following is not None
        fires.append(following)
        moment = following
    assert fires == [
        local("2026-11-16 23:58"),
        local("2026-11-16 23:59"),
        local("2026-11-17 00:00"),
        local("2026-11-17 00:01"),
    ]
    assert all(fire.tzinfo == SHANGHAI for fire in fires)
    assert {later - earlier for earlier, later in pairwise(fires)} == {timedelta(minutes=1)}


# -- 已电话联系 and "guardian not reached" ------------------------------------------------------


async def test_the_incident_shows_as_not_reached_until_someone_phones(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    school_id = s.ts.school.id or 0

    async def not_reached() -> list[str]:
        async with db.session() as session:
            views = await open_incidents_not_reached(session=session, school_id=school_id)
        return [v.student.name for v in views]

    assert await not_reached() == []
    clock.advance(minutes=10)
    await run_not_reached(db, s.ts.school, clock())
    assert await not_reached() == ["张小明"]
    clock.advance(minutes=2)
    await press_from_outbox(db, s.head, "incident_not_reached", "已电话联系")
    assert await not_reached() == []
    [edited] = s.head.replies
    assert edited.edit and "✓ 王芳已于 10:12 电话联系家长" in edited.text
    incident = await the_incident(db)
    assert (incident.phoned_at, incident.phoned_by) == (clock(), s.ts.staff["王芳"].id)


async def test_a_phone_call_is_recorded_once_and_the_other_recipient_is_told(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    clock.advance(minutes=10)
    await run_not_reached(db, s.ts.school, clock())
    await press_from_outbox(db, s.head, "incident_not_reached", "已电话联系")
    await press_from_outbox(db, s.coach, "incident_not_reached", "已电话联系")
    assert "✓ 王芳已于 10:10 电话联系家长" in s.coach.text
    assert [e[0] for e in await events(db)].count("phoned") == 1
    [note] = await incident_outbox(db, "incident_phoned")
    assert note.chat_id == s.coach.user_id
    assert "【已电话联系】三(2)班 张小明：王芳" in note.payload["text"]


async def test_a_teacher_who_was_not_alerted_cannot_record_a_call_or_read_the_history(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    other = await person(db, clock, s.dispatcher, s.ts.staff["李强"])  # head of 三(1)班
    incident = await the_incident(db)
    for data in (f"!inc-call:{incident.id}", f"!inc-log:{incident.id}"):
        await other.callback(data)
        assert other.text == "这个按钮不适用于您。"
    assert (await the_incident(db)).phoned_at is None


async def test_a_guardian_cannot_read_the_history(db: Database, clock: FakeClock) -> None:
    s = await scene(db, clock)
    incident = await the_incident(db)
    await s.mother.callback(f"!inc-log:{incident.id}")
    assert s.mother.text == "这个按钮不适用于您。"


# -- the history -----------------------------------------------------------------------------


async def test_the_history_lists_every_step_with_its_time_in_the_school_zone(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    clock.advance(minutes=10)
    await run_not_reached(db, s.ts.school, clock())
    clock.advance(minutes=4)
    await press_from_outbox(db, s.head, "incident_not_reached", "已电话联系")
    clock.advance(minutes=6)
    await press_from_outbox(db, s.mother, "incident_family", "已知悉")
    await press_from_outbox(db, s.admin, "incident_alert", "查看记录")
    assert s.admin.text.splitlines() == [
        "突发事件记录：三(2)班 张小明（意外伤害）",
        "11月16日 10:00  钱进上报（意外伤害）",
        "11月16日 10:00  已通知家长 1 位",
        "11月16日 10:00  已通知班主任和德育处 2 人",
        "11月16日 10:00  已为班主任王芳创建立即家访任务",
        "11月16日 10:10  家长 10 分钟内未确认，已提醒报告人和班主任电话联系",
        "11月16日 10:14  王芳已电话联系家长",
        "11月16日 10:20  家长刘梅已知悉",
        "状态：家长已知悉",
    ]


# -- typing the button's label (channels that show buttons as numbered text) -------------------


async def test_a_guardian_typing_the_acknowledge_word_acknowledges_the_latest_incident(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    await s.mother.send("已知悉")
    assert "✓ 您已于 10:00 确认知悉" in s.mother.text
    assert not any(r.edit for r in s.mother.replies)
    assert (await the_incident(db)).acknowledged_by == s.ts.guardians["刘梅"].id
    await s.mother.send("已知悉")
    assert s.mother.text == "现在没有需要您确认的突发事件通知。"


async def test_staff_typing_the_acknowledge_word_are_told_what_it_is_for(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    await s.head.send("已知悉")
    assert s.head.text == "“已知悉”用于家长确认学校发来的突发事件通知。"
    assert (await the_incident(db)).acknowledged_at is None


async def test_a_teacher_typing_the_phoned_word_records_the_call_they_were_asked_for(
    db: Database, clock: FakeClock
) -> None:
    s = await scene(db, clock)
    await s.head.send("已电话联系")
    assert s.head.text == "现在没有需要您电话联系家长的突发事件。"
    clock.advance(minutes=10)
    await run_not_reached(db, s.ts.school, clock())
    await s.admin.send("已电话联系")  # 德育处 was not asked to phone
    assert s.admin.text == "现在没有需要您电话联系家长的突发事件。"
    await s.head.send("已电话联系")
    assert "✓ 王芳已于 10:10 电话联系家长" in s.head.text
    assert (await the_incident(db)).phoned_by == s.ts.staff["王芳"].id
