"""Telling the author of named feedback what became of it (`handlers.feedback.author_updates.
tell_author`), as the staff side calls it after classifying, closing or reopening the ledger
item: 受理 once, 处理完毕 with the outcome and the note, 重新处理; nothing for anonymous feedback or
for items that are no feedback.

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班); 王芳 is
its head teacher; 赵敏 is 德育处. The clock: Monday 16 November 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.feedback.author_updates import UPDATE_KIND, tell_author
from models.db.engine import Database
from models.feedback.queries import NewFeedback, submit_feedback
from models.feedback.tables import FeedbackAbout, FeedbackKind
from models.ledger.handling import Classification, classify, close, reopen
from models.ledger.queries import record_item
from models.ledger.tables import (
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerSource,
)
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ZONE


async def _feedback_item(
    db: Database, ts: TestSchool, clock: FakeClock, *, anonymous: bool = False
) -> int:
    async with db.session() as session:
        _feedback, item = await submit_feedback(
            session,
            NewFeedback(
                school_id=ts.school.id or 0,
                kind=FeedbackKind.COMPLAINT,
                about=FeedbackAbout.CLASS,
                about_class_id=ts.classes["三(2)班"].id,
                text="作业太多，孩子每天写到十点",
                guardian_id=ts.guardians["刘梅"].id or 0,
                anonymous=anonymous,
            ),
            now=clock(),
        )
        assert item is not None
        return item.id or 0


async def _act(
    db: Database, ts: TestSchool, clock: FakeClock, item_id: int, event: LedgerEventKind
) -> int:
    """Do `event` to the item as staff would, then `tell_author`, in one transaction."""
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        by = ts.staff["赵敏"].id or 0
        if event is LedgerEventKind.CLASSIFIED:
            plan = Classification(
                kind=LedgerKind.SOLVE_NOW,
                owner_id=ts.staff["王芳"].id or 0,
                due_on=clock().astimezone(ZONE).date() + timedelta(days=3),
            )
            await classify(session, item, plan, by=by, now=clock(), zone=ZONE)
        elif event is LedgerEventKind.CLOSED:
            await close(
                session,
                item,
                "已与家长沟通，作业量已调整",
                outcome=LedgerOutcome.SOLVED,
                by=by,
                now=clock(),
            )
        else:
            await reopen(session, item, "家长反映仍未改善", by=by, now=clock())
        return await tell_author(session, item, event, now=clock())


async def _told(db: Database) -> list[str]:
    return [reply_of(r).text for r in await outbox(db, kind=UPDATE_KIND)]


async def test_the_author_is_told_when_the_feedback_is_taken_closed_and_reopened(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    item_id = await _feedback_item(db, ts, clock)
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLASSIFIED) == 1
    clock.advance(days=1)
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLOSED) == 1
    clock.advance(hours=1)
    assert await _act(db, ts, clock, item_id, LedgerEventKind.REOPENED) == 1
    assert await _told(db) == [
        "您反馈的意见已由学校受理，正在处理。",
        "您反馈的意见已处理完毕：已解决。已与家长沟通，作业量已调整",
        "您反馈的意见已重新处理。",
    ]
    rows = await outbox(db, kind=UPDATE_KIND)
    assert {r.chat_id for r in rows} == {f"guardian-{ts.guardians['刘梅'].id}"}


async def test_only_the_first_classification_is_told(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    item_id = await _feedback_item(db, ts, clock)
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLASSIFIED) == 1
    clock.advance(hours=1)
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLASSIFIED) == 0
    assert await _told(db) == ["您反馈的意见已由学校受理，正在处理。"]


async def test_a_second_close_after_a_reopen_tells_again_and_a_repeated_call_does_not(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    item_id = await _feedback_item(db, ts, clock)
    await _act(db, ts, clock, item_id, LedgerEventKind.CLOSED)
    await _act(db, ts, clock, item_id, LedgerEventKind.REOPENED)
    await _act(db, ts, clock, item_id, LedgerEventKind.CLOSED)
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        assert await tell_author(session, item, LedgerEventKind.CLOSED, now=clock()) == 0
    told = await _told(db)
    assert told.count("您反馈的意见已处理完毕：已解决。已与家长沟通，作业量已调整") == 2
    assert len(told) == 3


async def test_anonymous_feedback_tells_nobody(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    item_id = await _feedback_item(db, ts, clock, anonymous=True)
    for event in (
        LedgerEventKind.CLASSIFIED,
        LedgerEventKind.CLOSED,
        LedgerEventKind.REOPENED,
    ):
        assert await _act(db, ts, clock, item_id, event) == 0
    assert await outbox(db) == []


async def test_an_item_that_is_no_feedback_tells_nobody(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    async with db.session() as session:
        item = await record_item(
            session,
            school_id=ts.school.id or 0,
            source=LedgerSource.MANUAL,
            source_id=None,
            student_id=ts.students["张小明"].id,
            description="操场围栏破损",
            recorded_by=ts.staff["王芳"].id,
            now=clock(),
        )
        item_id = item.id or 0
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLASSIFIED) == 0
    assert await _act(db, ts, clock, item_id, LedgerEventKind.CLOSED) == 0
    assert await outbox(db) == []


async def test_a_message_in_quiet_hours_waits_for_the_morning(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    item_id = await _feedback_item(db, ts, clock)
    clock.advance(hours=12)  # 22:00 in Shanghai
    await _act(db, ts, clock, item_id, LedgerEventKind.CLOSED)
    [row] = await outbox(db, kind=UPDATE_KIND)
    assert row.due_at.astimezone(ZONE).isoformat() == "2026-11-17T07:00:00+08:00"
