"""The ledger's daily reminders to item owners, run at fixed moments.

Items are classified on Monday 16 November 2026 at 10:00 (the `clock` fixture); 王芳 and 李强
have bound console accounts. The default rules remind one day before the due date.
"""

from __future__ import annotations

from datetime import date, datetime

from models.db.engine import Database
from models.ledger.handling import Classification, add_note, classify, close
from models.ledger.queries import record_item
from models.ledger.tables import LedgerItem, LedgerKind, LedgerOutcome, LedgerSource
from models.school.rules import SchoolRules
from scheduler.jobs.ledger import (
    LEDGER_REMINDERS,
    DueItem,
    Reminder,
    ledger_reminders,
    one_message,
    reminders_for,
    sent_entries,
    short_description,
)
from scheduler.registry import all_jobs
from tests.helpers.clock import FakeClock
from tests.helpers.duties import ZONE, local, run_at
from tests.helpers.factories import TestSchool, bind
from tests.helpers.outbox import another_school_s_row, outbox, reply_of
from tests.helpers.statements import counting_selects

NOV_16 = date(2026, 11, 16)


def nov(day: int, hour: int = 8) -> datetime:
    return local(f"2026-11-{day:02d} {hour:02d}:00")


async def new_item(
    db: Database,
    ts: TestSchool,
    clock: FakeClock,
    *,
    student: str | None = "张小明",
    description: str = "作业经常不能按时完成",
) -> int:
    async with db.session() as session:
        item = await record_item(
            session,
            school_id=ts.school.id or 0,
            source=LedgerSource.MANUAL,
            source_id=None,
            student_id=ts.students[student].id if student else None,
            description=description,
            recorded_by=ts.staff["赵敏"].id,
            now=clock(),
        )
        return item.id or 0


async def classified(
    db: Database,
    ts: TestSchool,
    clock: FakeClock,
    *,
    owner: str = "王芳",
    due_on: date,
    kind: LedgerKind = LedgerKind.SOLVE_NOW,
    every: int | None = None,
    **item: object,
) -> int:
    item_id = await new_item(db, ts, clock, **item)  # type: ignore[arg-type]
    async with db.session() as session:
        stored = await session.get(LedgerItem, item_id)
        assert stored is not None
        await classify(
            session,
            stored,
            Classification(
                kind=kind, owner_id=ts.staff[owner].id or 0, due_on=due_on, follow_every_days=every
            ),
            by=ts.staff["赵敏"].id or 0,
            now=clock(),
            zone=ZONE,
        )
    return item_id


async def school_with_owners(db: Database, school: TestSchool, clock: FakeClock) -> TestSchool:
    for name in ("王芳", "李强"):
        await bind(db, clock, school.staff[name])
    return school


async def sent_texts(db: Database) -> list[str]:
    return [reply_of(row).text for row in await outbox(db, kind="ledger_reminder")]


# -- when ------------------------------------------------------------------------------------------


async def test_an_owner_is_reminded_the_day_before_on_the_day_and_once_the_day_after(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    item_id = await classified(db, ts, clock, due_on=date(2026, 11, 19))

    said = []
    for day in range(17, 23):
        before = len(await sent_texts(db))
        await run_at(db, ts.school, ledger_reminders, nov(day))
        texts = await sent_texts(db)
        said.append([line for text in texts[before:] for line in text.splitlines()][2:3])

    assert said == [
        [],
        ["  截止 11月19日 · 即将到期"],
        ["  截止 11月19日 · 今天到期"],
        ["  截止 11月19日 · 已逾期"],
        [],
        [],
    ]
    rows = await outbox(db, kind="ledger_reminder")
    assert [row.key for row in rows] == [
        f"ledger-reminder:2026-11-18:{item_id}s:staff:{ts.staff['王芳'].id}:console",
        f"ledger-reminder:2026-11-19:{item_id}d:staff:{ts.staff['王芳'].id}:console",
        f"ledger-reminder:2026-11-20:{item_id}o:staff:{ts.staff['王芳'].id}:console",
    ]


async def test_the_message_lists_the_item_with_class_student_a_short_description_and_a_button(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    long_text = (
        "孩子最近三周经常迟到，家长说早上要送弟弟去幼儿园，" + "希望学校能够理解并帮助协调" * 3
    )
    item_id = await classified(db, ts, clock, due_on=date(2026, 11, 16), description=long_text)

    assert await run_at(db, ts.school, ledger_reminders, nov(16, 11)) == 1

    [row] = await outbox(db, kind="ledger_reminder")
    reply = reply_of(row)
    assert reply.text == (
        "【问题台账提醒】以下台账需要您处理：\n"
        f"· 台账 #{item_id}（三(2)班 张小明）：{long_text[:30]}…\n"
        "  截止 11月16日 · 今天到期\n"
        "点下方按钮打开台账，记录进展或办结。"
    )
    assert [(b.label, b.data) for b in reply.flat_buttons()] == [
        (f"台账 #{item_id}", f"!lgo:{item_id}")
    ]
    assert short_description(long_text) == long_text[:30] + "…"
    assert long_text[:30] + "…" in reply.text


async def test_one_message_per_owner_lists_all_their_items_each_with_its_button(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    first = await classified(db, ts, clock, due_on=date(2026, 11, 18))
    second = await classified(db, ts, clock, due_on=date(2026, 11, 17), student=None)
    other = await classified(db, ts, clock, owner="李强", due_on=date(2026, 11, 18))

    assert await run_at(db, ts.school, ledger_reminders, nov(17)) == 2

    rows = {row.chat_id: reply_of(row) for row in await outbox(db, kind="ledger_reminder")}
    wang = rows[f"staff-{ts.staff['王芳'].id}"]
    assert wang.choices() == [f"!lgo:{second}", f"!lgo:{first}"]
    assert "今天到期" in wang.text and "即将到期" in wang.text
    assert f"· 台账 #{second}：作业经常不能按时完成" in wang.text  # no class, no student
    assert rows[f"staff-{ts.staff['李强'].id}"].choices() == [f"!lgo:{other}"]


async def test_a_tracked_item_asks_for_a_progress_note_until_one_is_written(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    item_id = await classified(
        db, ts, clock, due_on=date(2026, 12, 31), kind=LedgerKind.TRACK, every=7
    )

    assert await run_at(db, ts.school, ledger_reminders, nov(22)) == 0
    assert await run_at(db, ts.school, ledger_reminders, nov(23)) == 1
    assert await run_at(db, ts.school, ledger_reminders, nov(24)) == 1  # still none written
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        await add_note(
            session, item, "已家访，情况好转", by=ts.staff["王芳"].id or 0, now=nov(24, 9)
        )
    assert await run_at(db, ts.school, ledger_reminders, nov(25)) == 0
    assert await run_at(db, ts.school, ledger_reminders, nov(30)) == 0
    assert await run_at(db, ts.school, ledger_reminders, local("2026-12-01 08:00")) == 1

    texts = await sent_texts(db)
    assert all("  截止 12月31日 · 请记录进展" in text for text in texts)


async def test_closed_unowned_and_unclassified_items_are_not_reminded(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    await new_item(db, ts, clock)  # never classified: no owner
    closed = await classified(db, ts, clock, due_on=date(2026, 11, 17))
    async with db.session() as session:
        item = await session.get(LedgerItem, closed)
        assert item is not None
        await close(
            session,
            item,
            "已解决",
            outcome=LedgerOutcome.SOLVED,
            by=ts.staff["赵敏"].id or 0,
            now=clock(),
        )

    assert await run_at(db, ts.school, ledger_reminders, nov(17)) == 0


# -- once ------------------------------------------------------------------------------------------


async def test_a_second_run_the_same_day_sends_only_what_became_due_since(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    soon = await classified(db, ts, clock, due_on=date(2026, 11, 17))
    assert await run_at(db, ts.school, ledger_reminders, nov(16, 11)) == 1
    assert await run_at(db, ts.school, ledger_reminders, nov(16, 12)) == 0

    clock.advance(hours=3)  # 13:00: an item due today is classified
    today = await classified(db, ts, clock, due_on=NOV_16)
    assert await run_at(db, ts.school, ledger_reminders, nov(16, 14)) == 1
    assert await run_at(db, ts.school, ledger_reminders, nov(16, 15)) == 0

    later = reply_of((await outbox(db, kind="ledger_reminder"))[-1])
    assert later.choices() == [f"!lgo:{today}"]
    assert f"#{soon}" not in later.text


async def test_another_school_s_reminder_under_the_same_key_does_not_count_as_sent(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    """Outbox keys are unique within a school: another school's bot may have queued this key."""
    ts = await school_with_owners(db, school, clock)
    item_id = await classified(db, ts, clock, due_on=date(2026, 11, 17))
    key = f"ledger-reminder:2026-11-16:{item_id}s:staff:1:console"
    await another_school_s_row(db, key=key, kind="ledger_reminder")
    assert await run_at(db, ts.school, ledger_reminders, nov(16, 11)) == 1


async def test_reminders_wait_for_the_end_of_quiet_hours(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    await classified(db, ts, clock, due_on=date(2026, 11, 17))

    assert await run_at(db, ts.school, ledger_reminders, nov(16, 22)) == 1

    [row] = await outbox(db, kind="ledger_reminder")
    assert row.due_at == nov(17, 7)


async def test_an_owner_without_an_account_is_skipped_and_others_still_get_theirs(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    await classified(db, ts, clock, owner="孙丽", due_on=date(2026, 11, 17))
    await classified(db, ts, clock, owner="李强", due_on=date(2026, 11, 17))

    assert await run_at(db, ts.school, ledger_reminders, nov(17)) == 1


async def test_the_job_reads_two_statements_however_many_owners_and_items(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    ts = await school_with_owners(db, school, clock)
    await classified(db, ts, clock, due_on=date(2026, 11, 17))
    with counting_selects(db) as one:
        assert await run_at(db, ts.school, ledger_reminders, nov(17)) == 1
    for _ in range(3):
        await classified(db, ts, clock, owner="李强", due_on=date(2026, 11, 18))
        await classified(db, ts, clock, due_on=date(2026, 12, 31), kind=LedgerKind.TRACK, every=3)
    with counting_selects(db) as many:
        assert await run_at(db, ts.school, ledger_reminders, nov(19)) == 2
    # The items, the day's keys already queued, the owners' accounts.
    assert len(one) == len(many) == 3


# -- the rules -------------------------------------------------------------------------------------


def _item(
    due_on: date | None, kind: LedgerKind = LedgerKind.SOLVE_NOW, every: int | None = None
) -> LedgerItem:
    return LedgerItem(
        school_id=1,
        source=LedgerSource.MANUAL,
        description="x",
        created_at=nov(1),
        kind=kind,
        due_on=due_on,
        follow_every_days=every,
    )


def test_the_reminder_rules_as_a_table_of_cases() -> None:
    due = date(2026, 11, 20)
    cases: list[tuple[LedgerItem, date, date | None, int, tuple[Reminder, ...]]] = [
        (_item(due), date(2026, 11, 18), None, 1, ()),
        (_item(due), date(2026, 11, 19), None, 1, (Reminder.SOON,)),
        (_item(due), date(2026, 11, 17), None, 3, (Reminder.SOON,)),
        (_item(due), date(2026, 11, 20), None, 1, (Reminder.DUE,)),
        (_item(due), date(2026, 11, 20), None, 0, (Reminder.DUE,)),  # no separate 即将到期
        (_item(due), date(2026, 11, 21), None, 1, (Reminder.OVERDUE,)),
        (_item(due), date(2026, 11, 22), None, 1, ()),
        (_item(None), date(2026, 11, 20), None, 1, ()),
        (
            _item(due, LedgerKind.TRACK, 7),
            date(2026, 11, 20),
            date(2026, 11, 13),
            1,
            (Reminder.DUE, Reminder.PROGRESS),
        ),
        (
            _item(due, LedgerKind.TRACK, 7),
            date(2026, 11, 19),
            date(2026, 11, 13),
            1,
            (Reminder.SOON,),
        ),
        (
            _item(due, LedgerKind.TRACK, 3),
            date(2026, 11, 25),
            date(2026, 11, 13),
            1,
            (Reminder.PROGRESS,),
        ),
        (_item(due, LedgerKind.SOLVE_NOW, 3), date(2026, 11, 25), date(2026, 11, 13), 1, ()),
    ]
    for item, today, last, before, expected in cases:
        rules = SchoolRules(ledger_remind_days_before=before)
        assert reminders_for(item, today=today, zone_date=last, rules=rules) == expected, (
            item.due_on,
            today,
            last,
            before,
        )


def test_the_keys_already_queued_name_their_items_and_reminders() -> None:
    prefix = "ledger-reminder:2026-11-18:"
    keys = [
        f"{prefix}12s.15dp:staff:3:console",
        f"{prefix}12s.15dp:staff:3:telegram",
        f"{prefix}7o:staff:4:wecom",
        "ledger-reminder:2026-11-17:99d:staff:3:console",
        f"{prefix}garbage:staff:3:console",
    ]
    assert sent_entries(keys, prefix) == {
        (12, Reminder.SOON),
        (15, Reminder.DUE),
        (15, Reminder.PROGRESS),
        (7, Reminder.OVERDUE),
    }


def test_the_job_is_registered_daily_at_the_schools_reminder_time() -> None:
    assert LEDGER_REMINDERS in all_jobs()
    rules = SchoolRules.model_validate({"ledger_reminder_time": "07:45"})
    assert LEDGER_REMINDERS.schedule(rules) == {"hour": 7, "minute": 45}
    assert LEDGER_REMINDERS.schedule(SchoolRules()) == {"hour": 8, "minute": 0}


def test_a_long_list_is_cut_to_what_one_key_can_name_and_the_rest_wait() -> None:
    items = [
        DueItem(10_000_000 + n, 1, NOV_16, "x", "", "", (Reminder.DUE, Reminder.PROGRESS))
        for n in range(25)
    ]
    shown, key = one_message("ledger-reminder:2026-11-16:", items)
    assert 1 <= len(shown) <= 10
    assert len(key) + len(":staff:999999:" + "x" * 16) <= 200
    assert sent_entries([key + ":staff:1:console"], "ledger-reminder:2026-11-16:") == {
        (d.item_id, r) for d in shown for r in d.reminders
    }
