"""Problems enter the ledger 问题台账 with their cause, in the same transaction, once each."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from handlers.types import Inbound
from models.db.engine import Database
from models.ledger.queries import record_item
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerSource,
    LedgerStatus,
)
from scheduler.jobs.duties import duty_overdue_alerts
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, open_duty, run_at
from tests.helpers.factories import seed_school
from tests.helpers.incidents import REPORT, the_incident
from tests.helpers.visits import FULL_VISIT, chat_as, full_dispatcher, person, visits


async def items(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        return list((await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all())


async def ledger_events(db: Database) -> list[LedgerEvent]:
    async with db.session() as session:
        query = select(LedgerEvent).order_by(col(LedgerEvent.id))
        return list((await session.exec(query)).all())


async def test_a_visit_with_a_problem_for_the_school_makes_one_item_and_its_created_event(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    teacher = await chat_as(db, clock, ts.staff["王芳"])
    await teacher.steps(*FULL_VISIT, "保存")
    [visit] = await visits(db)
    [item] = await items(db)
    assert (item.source, item.source_id, item.school_id, item.student_id) == (
        LedgerSource.VISIT,
        visit.id,
        ts.school.id,
        ts.students["张小明"].id,
    )
    assert (item.description, item.recorded_by, item.status) == (
        "孩子情绪低落，常一个人哭",
        ts.staff["王芳"].id,
        LedgerStatus.OPEN,
    )
    assert item.created_at == clock()
    [event] = await ledger_events(db)
    assert (event.item_id, event.kind, event.staff_id, event.at) == (
        item.id,
        LedgerEventKind.CREATED,
        ts.staff["王芳"].id,
        clock(),
    )


async def test_a_visit_without_a_problem_makes_no_item(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await chat_as(db, clock, ts.staff["王芳"])
    await teacher.steps(*FULL_VISIT[:-2], "无", "保存")
    assert len(await visits(db)) == 1
    assert await items(db) == []


async def test_a_redelivered_save_makes_one_item(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await chat_as(db, clock, ts.staff["王芳"])
    await teacher.steps(*FULL_VISIT)
    [save] = [b for b in teacher.buttons if b.label == "保存"]
    press = Inbound(
        channel=teacher.channel,
        user_id=teacher.user_id,
        chat_id=teacher.user_id,
        callback=save.data,
        update_key="u-save",
    )
    first = await teacher.dispatcher.handle(press)
    again = await teacher.dispatcher.handle(press)
    assert first.replies and not again.replies
    assert len(await visits(db)) == 1
    assert len(await items(db)) == 1
    assert len(await ledger_events(db)) == 1


async def test_a_save_that_fails_after_the_visit_leaves_no_item(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ts = await seed_school(db)
    teacher = await chat_as(db, clock, ts.staff["王芳"])
    await teacher.steps(*FULL_VISIT)

    async def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise RuntimeError("the month's figure could not be read")

    monkeypatch.setattr("handlers.visit.save.progress_line", broken)
    await teacher.press("保存")
    assert "已保存" not in teacher.text
    assert await visits(db) == []
    assert await items(db) == []
    assert await ledger_events(db) == []


async def test_an_item_is_rolled_back_with_its_cause(db: Database) -> None:
    ts = await seed_school(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await record_item(
                session,
                school_id=ts.school.id or 0,
                source=LedgerSource.MANUAL,
                source_id=None,
                student_id=ts.students["张小明"].id,
                description="家长反映孩子在校被同学排挤",
                recorded_by=ts.staff["赵敏"].id,
                now=local("2026-11-16 10:00"),
            )
            raise RuntimeError("the cause failed")
    assert await items(db) == []
    assert await ledger_events(db) == []


async def test_a_reported_incident_makes_one_item(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    await teacher.steps(*REPORT, "确认上报")
    incident = await the_incident(db)
    [item] = await items(db)
    assert (item.source, item.source_id, item.student_id, item.description) == (
        LedgerSource.INCIDENT,
        incident.id,
        ts.students["张小明"].id,
        incident.what,
    )
    [event] = await ledger_events(db)
    assert (event.item_id, event.kind) == (item.id, LedgerEventKind.CREATED)


async def test_an_overdue_duty_makes_one_item_however_often_the_job_runs(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    duty_id = await open_duty(
        db, ts, "孙丽", "赵刚", local("2026-11-13 10:00"), reason="无故缺席旷课两天"
    )
    await run_at(db, ts.school, duty_overdue_alerts, local("2026-11-16 08:00"))
    await run_at(db, ts.school, duty_overdue_alerts, local("2026-11-16 08:00"))
    await run_at(db, ts.school, duty_overdue_alerts, local("2026-11-17 08:00"))
    [item] = await items(db)
    assert (item.source, item.source_id, item.student_id, item.recorded_by) == (
        LedgerSource.DUTY_OVERDUE,
        duty_id,
        ts.students["赵刚"].id,
        None,
    )
    assert item.description == "无故缺席旷课两天"
    assert item.created_at == local("2026-11-16 08:00")
    [event] = await ledger_events(db)
    assert (event.item_id, event.kind, event.staff_id) == (item.id, LedgerEventKind.CREATED, None)


async def test_items_entered_by_hand_are_never_merged(db: Database) -> None:
    ts = await seed_school(db)
    for _ in range(2):
        async with db.session() as session:
            await record_item(
                session,
                school_id=ts.school.id or 0,
                source=LedgerSource.MANUAL,
                source_id=None,
                student_id=None,
                description="校门口接送秩序混乱",
                recorded_by=ts.staff["赵敏"].id,
                now=local("2026-11-16 10:00"),
            )
    assert len(await items(db)) == 2
    assert len(await ledger_events(db)) == 2
