"""A parent meeting end to end through the real Telegram `Application` over the fake Bot API: 王芳
plans her class's 家长会, 赵敏 (德育处) approves its notice, the families get it with 确认参加 /
不能参加, the mother comes and another family cannot; after the meeting 王芳 records who came
(starting from the replies), uploads the minutes as a photo and closes the meeting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, select

from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from models.meetings.tables import Meeting, MeetingAttendance, MeetingStatus
from models.notices.tables import Notice, NoticeStatus
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.notices import receipts
from tests.test_incident_telegram import photo_update

HEAD = TgUser(6301, "芳")
OFFICE = TgUser(6302, "敏")
MOTHER = TgUser(6303, "梅")
LINA = TgUser(6304, "娜")


@pytest.fixture
async def school(db: Database, clock: FakeClock) -> TestSchool:
    ts = await seed_school(db)
    for user, who in (
        (HEAD, ts.staff["王芳"]),
        (OFFICE, ts.staff["赵敏"]),
        (MOTHER, ts.guardians["刘梅"]),
        (LINA, ts.guardians["李娜家长"]),
    ):
        await bind(db, clock, who, channel="telegram", external_id=str(user.id))
    return ts


@pytest.fixture
async def tg(db: Database, clock: FakeClock, school: TestSchool) -> AsyncIterator[TelegramHarness]:
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


async def test_a_class_meeting_is_planned_approved_answered_held_and_closed_with_photo_minutes(
    tg: TelegramHarness, db: Database, clock: FakeClock, school: TestSchool
) -> None:
    texts = await tg.say(HEAD, "/meeting")
    assert any("安排三(2)班家长会" in t and "会议的日期和时间" in t for t in texts)
    await tg.steps(HEAD, ">12月18日 15:30", ">三楼会议室", ">期中成绩分析；各科老师与家长交流")
    texts = await tg.press_label(HEAD, "提交")
    assert any("会议通知已提交德育处审批" in t for t in texts)
    await tg.settle()
    assert tg.api.sent_texts(MOTHER.id) == []  # nothing before approval
    [request] = tg.api.sent_texts(OFFICE.id)
    assert "三(2)班家长会：12月18日 15:30 · 三楼会议室" in request

    texts = await tg.press_label(OFFICE, "批准")
    assert any("✓ 您已批准" in t for t in texts)
    await tg.settle()
    async with db.session() as session:
        [meeting] = (await session.exec(select(Meeting))).all()
        notice = await session.get(Notice, meeting.notice_id)
    assert notice is not None and notice.status is NoticeStatus.PUBLISHED and notice.number
    told = "\n".join(tg.api.sent_texts(HEAD.id))
    assert "您的通知已由赵敏批准" in told and f"{notice.number}《三(2)班家长会" in told
    for parent in (MOTHER, LINA):
        [invitation] = tg.api.sent_texts(parent.id)
        assert "【会议通知】" in invitation and "三楼会议室" in invitation
        assert "请于 12月17日（周四） 18:00 前" in invitation
        rows = tg.api.last_keyboard(parent.id)["reply_markup"]["inline_keyboard"]
        assert [b["text"] for row in rows for b in row] == ["确认参加", "不能参加"]

    texts = await tg.press_label(MOTHER, "确认参加")
    assert any(t.endswith("✓ 已回复：确认参加（11月16日 10:00）") for t in texts)
    texts = await tg.press_label(LINA, "不能参加")
    assert any("✓ 已回复：不能参加" in t for t in texts)
    answered = {r.student_id: r.answer for r in await receipts(db) if r.confirmed_at}
    assert answered == {
        school.students["张小明"].id: "attend",
        school.students["李娜"].id: "decline",
    }

    clock.advance(days=33)  # 19 December: the meeting was yesterday
    texts = await tg.say(HEAD, "/meeting")
    assert any("回复：确认参加 1 · 不能参加 1 · 未回复 4" in t for t in texts)
    texts = await tg.press_label(HEAD, "记录出席")
    assert any("现在出席 1/6 家" in t for t in texts)
    await tg.press_label(HEAD, "⬜ 王磊")
    texts = await tg.press_label(HEAD, "保存出席情况")
    assert any("出席 2/6 家" in t for t in texts)
    texts = await tg.press_label(HEAD, "上传纪要")
    assert any("上传会议纪要" in t for t in texts)
    before = len(tg.api.calls)
    await tg.feed(photo_update(HEAD, 701, "家长会签到表和纪要"))
    assert any("已保存会议纪要" in t for t in tg.texts_since(before))
    texts = await tg.press_label(HEAD, "结束会议")
    assert any("会议已结束" in t and "出席 2/6 家" in t for t in texts)
    assert not any("没有上传会议纪要" in t for t in texts)

    async with db.session() as session:
        held = await session.get(Meeting, meeting.id)
        rows = (
            await session.exec(
                select(MeetingAttendance).order_by(col(MeetingAttendance.student_id))
            )
        ).all()
    assert held is not None and held.status is MeetingStatus.HELD
    assert (held.minutes_kind, held.minutes_channel, held.minutes_file_ref) == (
        "photo",
        "telegram",
        "large-701",
    )
    assert held.minutes_text == "家长会签到表和纪要"
    assert {r.student_id for r in rows if r.attended} == {
        school.students["张小明"].id,
        school.students["王磊"].id,
    }
    assert len(rows) == 6
    # The families got the notice once and nothing more (no reminder: both answered before it).
    assert len(tg.api.sent_texts(MOTHER.id)) == 1
