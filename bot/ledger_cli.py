"""`ledger show ID`, `ledger close ID` and `ledger reopen ID`: the problem ledger from the command
line, for an office that works at a desk. The same rules as the chat: closing needs an outcome
and a resolution note, reopening a reason, and only the item's owner, 德育处 or the principal (named
by 工号 with `--by`) may do either. A refusal is one line and status 2, with nothing changed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.command_line import school_or_say
from bot.settings import Settings
from handlers.feedback.author_updates import tell_author
from handlers.i18n import translator
from handlers.ledger.render import card, history_text
from models.audit.tables import audit
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused
from models.feedback.queries import author_of, feedback_of_item
from models.ledger.access import may_work_on
from models.ledger.handling import LedgerRefused, close, reopen
from models.ledger.tables import OUTCOME_LABELS, LedgerEventKind, LedgerOutcome
from models.ledger.views import history_of, item_row, owner_names
from models.roster.tables import Staff
from models.school.tables import School

OUTCOMES = {outcome.value: outcome for outcome in LedgerOutcome}


async def _staff(db: Database, school: School, staff_no: str) -> Staff:
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school.id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
    if staff is None or not staff.active:
        raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
    return staff


Act = Callable[[Database, School], Awaitable[None]]


async def _run(settings: Settings, school_name: str | None, act: Act) -> int:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        await act(db, school)
    finally:
        await db.dispose()
    return 0


async def _show(db: Database, school: School, item_id: int) -> None:
    t, zone = translator("zh"), ZoneInfo(school.timezone)
    async with db.session() as session:
        row = await item_row(session, school_id=school.id or 0, item_id=item_id)
        if row is None:
            raise CommandRefused(f"没有编号为 {item_id} 的台账。")
        feedback = await feedback_of_item(session, row.item)
        author = await author_of(session, feedback) if feedback is not None else None
        lines = await history_of(session, item_id)
        names = await owner_names(session, lines)
        await audit(
            session=session,
            actor="cli",
            action="ledger.show",
            subject=f"ledger:{item_id}",
            student_id=row.item.student_id,
        )
    today = datetime.now(zone).date()
    print(card(t, row, today=today, zone=zone, feedback=feedback, author=author))
    print(history_text(t, item_id, lines, zone, names))


async def run_ledger_show(settings: Settings, *, item_id: int, school_name: str | None) -> int:
    return await _run(settings, school_name, lambda db, school: _show(db, school, item_id))


async def _change(
    db: Database,
    school: School,
    *,
    item_id: int,
    staff_no: str,
    text: str,
    outcome: LedgerOutcome | None,
) -> None:
    staff = await _staff(db, school, staff_no)
    now = datetime.now(UTC)
    async with db.session() as session:
        row = await item_row(session, school_id=school.id or 0, item_id=item_id)
        if row is None:
            raise CommandRefused(f"没有编号为 {item_id} 的台账。")
        if not may_work_on(staff, row.item):
            raise CommandRefused(
                f"{staff.name}不是台账 #{item_id} 的负责人，也不是德育处或校长，不能办结或重新打开它。"
            )
        t = translator("zh")
        try:
            if outcome is not None:
                await close(session, row.item, text, outcome=outcome, by=staff.id or 0, now=now)
            else:
                await reopen(session, row.item, text, by=staff.id or 0, now=now)
        except LedgerRefused as refused:
            raise CommandRefused(t._(refused.message)) from refused
        event = LedgerEventKind.CLOSED if outcome is not None else LedgerEventKind.REOPENED
        await tell_author(session, row.item, event, now=now, zone=ZoneInfo(school.timezone))
    if outcome is not None:
        print(f"台账 #{item_id} 已办结（{OUTCOME_LABELS[outcome]}），办结人：{staff.name}。")
    else:
        print(f"台账 #{item_id} 已重新打开，经办人：{staff.name}。")


async def run_ledger_close(
    settings: Settings,
    *,
    item_id: int,
    staff_no: str,
    outcome: str,
    note: str,
    school_name: str | None,
) -> int:
    chosen = OUTCOMES.get(outcome)
    if chosen is None:
        raise CommandRefused(f"办结结果“{outcome}”无效：请用 {' / '.join(OUTCOMES)} 之一。")
    if not note.strip():
        raise CommandRefused("办结必须写明处理结果（--note），不能为空。")
    return await _run(
        settings,
        school_name,
        lambda db, school: _change(
            db, school, item_id=item_id, staff_no=staff_no, text=note, outcome=chosen
        ),
    )


async def run_ledger_reopen(
    settings: Settings, *, item_id: int, staff_no: str, reason: str, school_name: str | None
) -> int:
    if not reason.strip():
        raise CommandRefused("重新打开需要写明原因（--reason），不能为空。")
    return await _run(
        settings,
        school_name,
        lambda db, school: _change(
            db, school, item_id=item_id, staff_no=staff_no, text=reason, outcome=None
        ),
    )
