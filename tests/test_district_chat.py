"""/district (区域合规) in a chat: the bureau's 区域管理员 gets every school's figures and their
chart, counts only; every other role is refused in one line, and the 区域管理员 can do nothing
else (no visit, no child's record).

Two schools with figures counted by hand (`tests/helpers/district.py`), and the bureau's own
entry 区教育局 (a 区域管理员 and a clerk, no student), which is no school of the report."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.dispatcher import Dispatcher
from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from models.roster.tables import Staff
from models.visits.tables import Visit
from tests.helpers.clock import FakeClock
from tests.helpers.district import (
    BUREAU,
    BUREAU_CLERK,
    DISTRICT_ADMIN,
    FIRST,
    NOW,
    PEOPLE,
    REST_OF_A_LARGE_DISTRICT,
    SECOND,
    ZONE,
    add_bureau,
    as_a_large_district,
    build_district,
)
from tests.helpers.factories import bind
from tests.helpers.visits import ChatUser

REFUSAL = "区域合规日报只提供给区域管理员（区教育局）。"


def _dispatcher(db: Database, clock: FakeClock, school: str) -> Dispatcher:
    return Dispatcher(
        db, all_flows(), zone=ZONE, clock=clock, actions=all_actions(), school_name=school
    )


async def _district(db: Database, clock: FakeClock) -> dict[str, Staff]:
    clock.now = NOW
    bureau = await add_bureau(db)
    await build_district(db)
    return bureau


async def _chat(db: Database, clock: FakeClock, person: Staff, school: str) -> ChatUser:
    return ChatUser(_dispatcher(db, clock, school), await bind(db, clock, person))


async def _staff(db: Database, name: str) -> Staff:
    async with db.session() as session:
        return (await session.exec(select(Staff).where(Staff.name == name))).one()


async def test_the_district_admin_gets_each_schools_figures_and_the_chart(
    db: Database, clock: FakeClock
) -> None:
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    await admin.send("/district")
    [reply] = admin.replies
    lines = reply.text.splitlines()
    assert lines[0] == "区域家访合规日报 · 11月16日"
    assert lines[1] == "全区 2 所学校 · 在校学生 6 人 · 教职工 5 人"
    assert (
        f"1. {FIRST}：突发事件未联系上家长 1 起 · 立即家访逾期 2 项 · 台账逾期 1 条；"
        "指标 85% · 按进度 1/2 人 · 入户 75% · 回执 75%"
    ) in lines
    assert f"2. {SECOND}：指标 50% · 按进度 1/2 人 · 入户 50% · 回执 —（未导入本学年校历）" in lines
    assert not any(line.startswith("3. ") for line in lines)
    assert BUREAU not in reply.text
    assert [name for name in (*PEOPLE, DISTRICT_ADMIN, BUREAU_CLERK) if name in reply.text] == []
    assert reply.image is not None and reply.image.content_type == "image/png"
    assert reply.image.data is not None and reply.image.data.startswith(b"\x89PNG")


async def test_a_large_district_s_admin_reads_the_schools_most_in_need_then_one_line(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_large_district(monkeypatch)
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    await admin.send("/district")
    lines = admin.replies[0].text.splitlines()
    assert lines[1] == "全区 2 所学校 · 在校学生 6 人 · 教职工 5 人"
    heading = lines.index("【最需要关注的 1 所学校】")
    assert lines[heading + 1].startswith(f"1. {FIRST}：突发事件未联系上家长 1 起")
    assert lines[heading + 2] == REST_OF_A_LARGE_DISTRICT
    assert SECOND not in admin.replies[0].text


async def test_the_chinese_keyword_gives_the_same_digest(db: Database, clock: FakeClock) -> None:
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    await admin.send("区域合规")
    assert admin.text.startswith("区域家访合规日报 · 11月16日")


async def test_every_other_role_is_refused_in_one_line(db: Database, clock: FakeClock) -> None:
    bureau = await _district(db, clock)
    others = [
        (bureau[BUREAU_CLERK], BUREAU),
        (await _staff(db, "甲德育"), FIRST),
        (await _staff(db, "甲班主任"), FIRST),
        (await _staff(db, "乙教练"), SECOND),
    ]
    for person, school in others:
        someone = await _chat(db, clock, person, school)
        for command in ("/district", "区域合规"):
            await someone.send(command)
            assert [r.text for r in someone.replies] == [REFUSAL], (person.name, command)
            assert someone.replies[0].image is None


async def test_help_offers_district_to_the_district_admin_and_nothing_of_the_children(
    db: Database, clock: FakeClock
) -> None:
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    await admin.send("/help")
    assert "/district — 区域合规：各校家访合规日报和对比图（仅统计数字）" in admin.text
    for command in ("/visit", "/incident", "/pending", "/quota", "/calendar", "/ledger"):
        assert f"{command} —" not in admin.text, command
    assert "直接发一句话记录家访" not in admin.text
    head = await _chat(db, clock, await _staff(db, "甲班主任"), FIRST)
    await head.send("/help")
    assert "/district" not in head.text and "/visit —" in head.text


async def test_the_district_admin_cannot_log_a_visit_or_read_a_childs_record(
    db: Database, clock: FakeClock
) -> None:
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    async with db.session() as session:
        before = len((await session.exec(select(Visit))).all())
    await admin.send("今天上门家访了三(1)班学生甲一，见了妈妈")
    assert admin.text.startswith("您可以发送：")
    await admin.send("/visit")
    assert admin.text == "记录家访只对班主任、任课教师、教练、德育处和校长开放。"
    await admin.send("/incident")
    assert "学生甲一" not in admin.text
    async with db.session() as session:
        assert len((await session.exec(select(Visit))).all()) == before


async def test_binding_greets_the_district_admin_with_what_they_may_do(
    db: Database, clock: FakeClock
) -> None:
    bureau = await _district(db, clock)
    admin = await _chat(db, clock, bureau[DISTRICT_ADMIN], BUREAU)
    await admin.send("/start")
    assert admin.text == (
        "李科长，您好！您已绑定为区教育局的区域管理员。"
        "发送 /district（或“区域合规”）查看各校家访合规日报和对比图，只有统计数字；"
        "每个上课日早上 07:30 也会发给您。"
    )
