"""`/survey` as 德育处 uses it: choose a form, the classes, the share and the deadline, see the
families drawn per class, draw again or send; one invitation per family drawn, in waking hours,
with 开始填写; refusals (a share below the school's minimum, a deadline in the past, people the
matrix does not let in); and a 发送 delivered twice sending nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest
from sqlmodel import col, select

from handlers.dispatcher import Dispatcher
from handlers.types import Inbound
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.surveys.tables import Survey, SurveyRecipient, SurveyStatus
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher, person

PARENT_FORM = "家长问卷（情况调查和征求意见表）"
#: Guardians left without a bound account.
UNBOUND = ("李华家长", "周杰家长")


async def _surveys(db: Database) -> list[Survey]:
    async with db.session() as session:
        return list((await session.exec(select(Survey).order_by(col(Survey.id)))).all())


async def _recipients(db: Database, survey_id: int) -> list[SurveyRecipient]:
    async with db.session() as session:
        query = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey_id)
        return list((await session.exec(query.order_by(col(SurveyRecipient.id)))).all())


async def _bind_families(db: Database, clock: FakeClock, school: TestSchool) -> None:
    for name, guardian in school.guardians.items():
        if name not in UNBOUND:
            await bind(db, clock, guardian)


async def _admin(db: Database, clock: FakeClock, school: TestSchool) -> tuple[Dispatcher, ChatUser]:
    dispatcher = full_dispatcher(db, clock)
    return dispatcher, await chat_as(db, clock, school.staff["赵敏"], dispatcher)


async def _to_draw(admin: ChatUser, share: str = "100%") -> None:
    await admin.steps("/survey", PARENT_FORM, "全校", share, "1周")


async def test_the_whole_school_at_every_family_is_drawn_shown_per_class_and_sent(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _bind_families(db, clock, school)
    _dispatcher, admin = await _admin(db, clock, school)
    await admin.send("/survey")
    assert "请选择要发出的问卷：" in admin.text
    assert PARENT_FORM in admin.labels
    await admin.steps(PARENT_FORM, "全校")
    assert admin.labels == ["30%", "50%", "100%"]
    await admin.steps("100%", "1周")
    assert "三(1)班 6/6" in admin.text
    assert "三(2)班 6/6" in admin.text
    assert "四(1)班 6/6" in admin.text
    assert "共抽到 17 户家庭" in admin.text
    assert admin.labels == ["发送", "重新抽样", "取消"]
    [survey] = await _surveys(db)
    assert survey.status is SurveyStatus.DRAWN and survey.share == 100
    await admin.press("发送")
    assert "已发送 15 户，2 户未绑定账号" in admin.text
    [survey] = await _surveys(db)
    assert survey.status is SurveyStatus.SENT and survey.sent_at == clock()
    assert all(r.asked_at == clock() for r in await _recipients(db, survey.id or 0))
    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert [e.subject for e in entries if e.action == "survey.send"] == [f"survey:{survey.id}"]


async def test_grades_are_toggled_and_only_their_classes_are_drawn(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    _dispatcher, admin = await _admin(db, clock, school)
    await admin.steps("/survey", PARENT_FORM, "按年级", "三年级", "四年级", "✓ 四年级", "完成")
    await admin.steps("50%", "2周")
    assert "三(1)班 3/6" in admin.text and "三(2)班 3/6" in admin.text
    assert "四(1)班" not in admin.text
    [survey] = await _surveys(db)
    assert {r.class_id for r in await _recipients(db, survey.id or 0)} <= {
        school.classes["三(1)班"].id,
        school.classes["三(2)班"].id,
    }


async def test_a_share_below_the_schools_minimum_is_refused(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    _dispatcher, admin = await _admin(db, clock, school)
    await admin.steps("/survey", PARENT_FORM, "全校", ">20")
    assert "抽样比例不能低于 30%。" in admin.text
    assert "每个班抽取多少比例的家庭？" in admin.text
    await admin.send("40%")
    assert "家长在什么时候之前填写？" in admin.text
    assert await _surveys(db) == []


async def test_a_deadline_in_the_past_or_too_far_ahead_is_refused(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    _dispatcher, admin = await _admin(db, clock, school)
    await admin.steps("/survey", PARENT_FORM, "全校", "30%", ">11月10日")
    assert "截止时间不能早于现在" in admin.text
    await admin.send("2027-12-01")
    assert "超过 183 天" in admin.text
    assert await _surveys(db) == []
    await admin.send("11月30日")
    assert "抽样结果" in admin.text
    [survey] = await _surveys(db)
    assert survey.deadline == datetime(2026, 11, 30, 15, 59, tzinfo=UTC)


async def test_redrawing_replaces_the_families_with_another_seeds_draw(
    db: Database, school: TestSchool, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = count(11)
    monkeypatch.setattr("handlers.surveys.flow.new_seed", lambda: next(seeds))
    _dispatcher, admin = await _admin(db, clock, school)
    await _to_draw(admin, "30%")
    [survey] = await _surveys(db)
    first = {r.household for r in await _recipients(db, survey.id or 0)}
    await admin.press("重新抽样")
    assert "已重新抽样" in admin.text and "三(1)班 2/6" in admin.text
    [again] = await _surveys(db)
    assert again.id == survey.id and again.seed == 12 and survey.seed == 11
    second = await _recipients(db, survey.id or 0)
    assert len(second) == len(first)
    assert {r.household for r in second} != first
    async with db.session() as session:
        assert len((await session.exec(select(SurveyRecipient))).all()) == len(second)


async def test_cancelling_the_draw_keeps_nothing(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    _dispatcher, admin = await _admin(db, clock, school)
    await _to_draw(admin)
    await admin.press("取消")
    assert "没有保存" in admin.text
    assert await _surveys(db) == []
    async with db.session() as session:
        assert (await session.exec(select(SurveyRecipient))).all() == []


async def test_sending_queues_one_invitation_per_family_in_waking_hours_with_the_start_button(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 16, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai: quiet hours
    await _bind_families(db, clock, school)
    _dispatcher, admin = await _admin(db, clock, school)
    await _to_draw(admin, "50%")
    await admin.press("发送")
    [survey] = await _surveys(db)
    drawn = await _recipients(db, survey.id or 0)
    invited = await outbox(db, kind="survey_invite")
    unbound = {school.guardians[n].id for n in UNBOUND}
    assert len(invited) == len([r for r in drawn if r.guardian_id not in unbound])
    assert len({row.key for row in invited}) == len(invited)
    assert f"已发送 {len(invited)} 户" in admin.text
    for row in invited:
        assert row.due_at == datetime(2026, 11, 16, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
        assert row.key.startswith(f"survey:{survey.id}:invite:guardian:")
        reply = reply_of(row)
        assert PARENT_FORM in reply.text and "匿名" in reply.text
        assert "11月23日（周一） 23:59" in reply.text
        assert [[b.label, b.data] for row_ in reply.buttons for b in row_] == [
            ["开始填写", f"!svs:{survey.id}"]
        ]


async def test_a_send_delivered_twice_sends_nothing_twice(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _bind_families(db, clock, school)
    dispatcher, admin = await _admin(db, clock, school)
    await _to_draw(admin)
    data = next(b.data for b in admin.buttons if b.label == "发送")
    press = Inbound(
        channel="console",
        user_id=admin.user_id,
        chat_id=admin.user_id,
        callback=data,
        update_key="u-1",
    )
    await dispatcher.handle(press)
    sent = await outbox(db, kind="survey_invite")
    assert len(sent) == 15
    await dispatcher.handle(press)
    await admin.callback(data)
    assert len(await outbox(db, kind="survey_invite")) == 15
    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert len([e for e in entries if e.action == "survey.send"]) == 1


async def test_a_head_teacher_and_a_guardian_cannot_use_survey(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, school.staff["王芳"])
    await teacher.send("/survey")
    assert teacher.text == "问卷调查由德育处和校长发起。"
    mother = await person(db, clock, dispatcher, school.guardians["刘梅"])
    await mother.send("/survey")
    assert "请选择要发出的问卷" not in mother.text
    await mother.callback("!svr:1")
    assert mother.text == "这个按钮不适用于您。"
    assert await _surveys(db) == []


async def test_the_list_shows_sent_surveys_and_their_results_by_class_without_small_groups(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _bind_families(db, clock, school)
    _dispatcher, admin = await _admin(db, clock, school)
    await _to_draw(admin)
    await admin.press("发送")
    [survey] = await _surveys(db)
    await admin.send("/survey")
    assert f"#{survey.id} {PARENT_FORM} · 已发出 · 已提交 0/17" in admin.text
    await admin.send("/cancel")
    await admin.send("/survey results")
    await admin.press(f"结果 #{survey.id}")
    assert "其他 0/17" in admin.text
    assert "匿名问卷回收不足 5 份，暂不显示各题分布。" in admin.text
