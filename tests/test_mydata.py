"""/mydata through the real dispatcher: a guardian sees exactly what a guardian may see of their
children — the roster row, the guardians with masked phones, visits' dates and forms, notices
and receipts, their own feedback — and nothing else (tags, visit notes, incidents, care cases);
the read is audited per child; 申请更正 becomes one ledger item for 德育处."""

from __future__ import annotations

from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.ledger.tables import LedgerItem, LedgerSource
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.privacy import SECRET, write_records
from tests.helpers.receipts import published_notice
from tests.helpers.visits import ChatUser, full_dispatcher, person


async def _mother(db: Database, clock: FakeClock) -> tuple[TestSchool, ChatUser]:
    ts = await seed_school(db)
    await write_records(db, ts, clock())
    await published_notice(db, ts, clock(), classes=("三(2)班",), title="秋季研学活动通知")
    mother = await person(db, clock, full_dispatcher(db, clock), ts.guardians["刘梅"])
    return ts, mother


async def _ledger(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        return list((await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all())


async def test_mydata_shows_the_roster_visits_notices_and_own_feedback(
    db: Database, clock: FakeClock
) -> None:
    _ts, mother = await _mother(db, clock)
    await mother.send("/mydata")
    text = mother.text
    for expected in (
        "【张小明】三(2)班，学号 S007",
        "【张小红】四(1)班，学号 S013",
        "刘梅（母亲，137****0000）",
        "家访记录 1 次：2026年11月13日 上门家访",
        "· 《秋季研学活动通知》〔2026〕第001号：未确认",
        "家访记录：暂无",  # 张小红
        "您提交的意见 1 条：",
        "建议",
        "希望增加课后服务",
    ):
        assert expected in text, expected
    assert mother.labels == ["申请更正（张小明）", "申请更正（张小红）"]


async def test_mydata_never_shows_tags_notes_incidents_or_care_cases(
    db: Database, clock: FakeClock
) -> None:
    _ts, mother = await _mother(db, clock)
    await mother.send("我的数据")
    text = mother.text
    assert "学校保存的您孩子的信息" in text
    assert SECRET not in text  # visit notes, problems, incidents, care cases, flags, ledger
    for hidden in ("单亲", "留守", "13700000000", "关爱", "突发", "重点"):
        assert hidden not in text, hidden


async def test_each_childs_data_read_is_audited(db: Database, clock: FakeClock) -> None:
    ts, mother = await _mother(db, clock)
    await mother.send("/mydata")
    async with db.session() as session:
        entries = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "mydata.read"))
        ).all()
    assert sorted((e.student_id, e.actor) for e in entries) == sorted(
        (ts.students[name].id, f"guardian:{ts.guardians['刘梅'].id}")
        for name in ("张小明", "张小红")
    )


async def test_a_correction_request_becomes_one_ledger_item(db: Database, clock: FakeClock) -> None:
    ts, mother = await _mother(db, clock)
    before = len(await _ledger(db))
    await mother.send("/mydata")
    await mother.press("申请更正（张小明）")
    assert "请写下张小明的哪项信息有误" in mother.text
    await mother.send("爸爸的手机号已经换成 13911112222")
    assert "已收到您的更正申请" in mother.text
    items = await _ledger(db)
    assert len(items) == before + 1
    item = items[-1]
    assert (item.source, item.student_id, item.recorded_by, item.class_id) == (
        LedgerSource.CORRECTION,
        ts.students["张小明"].id,
        None,
        ts.classes["三(2)班"].id,
    )
    assert "爸爸的手机号已经换成 13911112222" in item.description


async def test_an_empty_correction_is_asked_again_and_cancel_records_nothing(
    db: Database, clock: FakeClock
) -> None:
    _ts, mother = await _mother(db, clock)
    before = len(await _ledger(db))
    await mother.send("/mydata")
    await mother.press("申请更正（张小红）")
    await mother.send("   ")
    assert "请用文字写下哪项信息有误" in mother.text
    await mother.send("/cancel")
    assert len(await _ledger(db)) == before


async def test_a_forged_correction_for_another_child_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts, mother = await _mother(db, clock)
    await mother.callback(f"!mycorr:{ts.students['李华'].id}")
    assert mother.text == "这个按钮已失效。"


async def test_staff_cannot_use_mydata(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.send("/mydata")
    assert teacher.text == "这项功能只对家长开放。"
