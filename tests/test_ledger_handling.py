"""Classifying, following up, closing and reopening ledger items, and who sees which (the model
layer; the chat flows are tested in tests/test_ledger_chat.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from models.db.engine import Database
from models.duties.tables import Duty
from models.ledger.handling import (
    Classification,
    ItemChanged,
    LedgerRefused,
    add_note,
    classify,
    close,
    reopen,
)
from models.ledger.queries import record_item
from models.ledger.tables import (
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerSource,
    LedgerStatus,
)
from models.ledger.views import (
    counts_by_class,
    digest_counts,
    history_of,
    item_for,
    needing_attention,
    open_items_of,
)
from tests.helpers.clock import FakeClock
from tests.helpers.duties import ZONE
from tests.helpers.factories import TestSchool

TODAY = date(2026, 11, 16)


async def _item(db: Database, ts: TestSchool, clock: FakeClock, student: str | None) -> int:
    async with db.session() as session:
        item = await record_item(
            session,
            school_id=ts.school.id or 0,
            source=LedgerSource.MANUAL,
            source_id=None,
            student_id=ts.students[student].id if student else None,
            description="操场围栏破损",
            recorded_by=ts.staff["王芳"].id,
            now=clock(),
        )
        return item.id or 0


async def _load(db: Database, item_id: int) -> LedgerItem:
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        return item


def _plan(
    ts: TestSchool, kind: LedgerKind = LedgerKind.SOLVE_NOW, **more: object
) -> Classification:
    values: dict[str, object] = {
        "kind": kind,
        "owner_id": ts.staff["王芳"].id,
        "due_on": TODAY + timedelta(days=3),
    }
    values.update(more)
    return Classification(**values)  # type: ignore[arg-type]


async def test_an_item_gets_its_class_from_its_student(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    item = await _load(db, await _item(db, school, clock, "张小明"))
    assert item.class_id == school.classes["三(2)班"].id
    assert (await _load(db, await _item(db, school, clock, None))).class_id is None


async def test_classify_note_close_and_reopen_keep_the_whole_history(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    item_id = await _item(db, school, clock, "张小明")
    admin = school.staff["赵敏"].id or 0
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        await classify(
            session,
            item,
            _plan(school, LedgerKind.TRACK, follow_every_days=7),
            by=admin,
            now=clock(),
            zone=ZONE,
        )
        await add_note(session, item, "已与家长沟通", by=school.staff["王芳"].id or 0, now=clock())
        with pytest.raises(LedgerRefused):
            await close(session, item, "  ", outcome=LedgerOutcome.SOLVED, by=admin, now=clock())
        await close(session, item, "已修好", outcome=LedgerOutcome.SOLVED, by=admin, now=clock())
        await reopen(session, item, "又坏了", by=admin, now=clock())
        lines = await history_of(session, item_id)
    assert [line.event.kind for line in lines] == [
        LedgerEventKind.CREATED,
        LedgerEventKind.CLASSIFIED,
        LedgerEventKind.PROGRESS,
        LedgerEventKind.CLOSED,
        LedgerEventKind.REOPENED,
    ]
    assert lines[3].event.note == "[solved] 已修好"
    stored = await _load(db, item_id)
    assert (stored.status, stored.owner_id, stored.outcome, stored.closed_at) == (
        LedgerStatus.ACTIVE,
        school.staff["王芳"].id,
        None,
        None,
    )
    assert stored.first_response_at == clock()


@pytest.mark.parametrize(
    ("plan_changes", "message"),
    [
        ({"due_on": TODAY - timedelta(days=1)}, "截止日期不能早于今天。"),
        ({"due_on": TODAY + timedelta(days=400)}, "截止日期超过一年，请检查年份。"),
        ({"kind": LedgerKind.TRACK}, "请选择跟进间隔。"),
        ({"kind": LedgerKind.ESCALATE, "escalated_to": " "}, "请写明上报给谁。"),
        ({"kind": LedgerKind.EXPLAIN}, "这条台账没有对应的学生家庭，无法安排当面解释。"),
    ],
)
async def test_a_classification_the_rules_refuse_writes_nothing(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    plan_changes: dict[str, Any],
    message: str,
) -> None:
    item_id = await _item(db, school, clock, "张小明")
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        with pytest.raises(LedgerRefused) as refused:
            await classify(
                session, item, _plan(school, **plan_changes), by=1, now=clock(), zone=ZONE
            )
        assert refused.value.message == message
        assert len(await history_of(session, item_id)) == 1
    assert (await _load(db, item_id)).status is LedgerStatus.OPEN


async def test_explaining_face_to_face_opens_a_visit_duty_due_on_the_day(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    item_id = await _item(db, school, clock, "张小明")
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        plan = _plan(school, LedgerKind.EXPLAIN, visit_student_id=school.students["张小明"].id)
        await classify(session, item, plan, by=1, now=clock(), zone=ZONE)
        [duty] = (await session.exec(select(Duty))).all()
    assert (duty.teacher_id, duty.student_id, duty.source_key) == (
        school.staff["王芳"].id,
        school.students["张小明"].id,
        f"ledger:{item_id}",
    )
    assert duty.due_at.astimezone(ZONE).date() == TODAY + timedelta(days=3)


async def test_a_change_from_a_state_that_has_moved_on_writes_nothing(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    item_id = await _item(db, school, clock, None)
    stale = await _load(db, item_id)
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        await close(session, item, "已处理", outcome=LedgerOutcome.SOLVED, by=1, now=clock())
    async with db.session() as session:
        with pytest.raises(ItemChanged):
            await close(session, stale, "再次", outcome=LedgerOutcome.SOLVED, by=1, now=clock())
    async with db.session() as session:
        assert len(await history_of(session, item_id)) == 2


async def test_a_teacher_sees_the_items_of_students_in_scope_and_their_own(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    mine = await _item(db, school, clock, "张小明")  # 三(2)班: 王芳's class
    other = await _item(db, school, clock, "张小红")  # 四(1)班
    async with db.session() as session:
        item = await session.get(LedgerItem, other)
        assert item is not None
        plan = _plan(school, owner_id=school.staff["孙丽"].id)
        await classify(session, item, plan, by=1, now=clock(), zone=ZONE)
    async with db.session() as session:
        li_qiang = school.staff["李强"]
        assert await item_for(session, li_qiang, mine) is None
        assert await item_for(session, li_qiang, other) is None
        sun_li = school.staff["孙丽"]
        assert (await item_for(session, sun_li, other)) is not None  # in scope and owner
        rows, total = await open_items_of(session, sun_li)
        assert [r.item.id for r in rows] == [other] and total == 1
        admin_rows, admin_total = await open_items_of(session, school.staff["赵敏"])
        assert admin_total == 2
        assert {r.item.id for r in admin_rows} == {mine, other}


async def test_counts_and_the_digest_line(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    first = await _item(db, school, clock, "张小明")
    await _item(db, school, clock, "李娜")
    late = await _item(db, school, clock, "张小红")
    async with db.session() as session:
        item = await session.get(LedgerItem, late)
        assert item is not None
        await classify(session, item, _plan(school), by=1, now=clock(), zone=ZONE)
    later = clock() + timedelta(days=5)
    admin = school.staff["赵敏"]
    async with db.session() as session:
        counts = await counts_by_class(session, admin, today=TODAY + timedelta(days=5))
        assert [(c.class_name, c.unclassified, c.active, c.overdue) for c in counts] == [
            ("四(1)班", 0, 1, 1),
            ("三(2)班", 2, 0, 0),
        ]
        rows, total = await needing_attention(session, admin, today=TODAY + timedelta(days=5))
        assert total == 3 and rows[0].item.id == late and rows[1].item.id == first
        line = await digest_counts(
            session,
            school_id=school.school.id or 0,
            new_since=later - timedelta(days=1),
            today=TODAY + timedelta(days=5),
            unclassified_before=later - timedelta(days=2),
            unassigned_before=later,
            complaint_ids=select(col(LedgerItem.id)).where(col(LedgerItem.id) < 0),
        )
    assert (line.new, line.overdue, line.unclassified_late, line.complaints_unassigned) == (
        0,
        1,
        2,
        0,
    )
