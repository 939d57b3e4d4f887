"""Chasing receipts with a fixed clock: reminders halfway and at the deadline, the head teachers'
call lists after it, quiet hours, archiving (`scheduler.jobs.notices`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.types import Reply
from models.db.engine import Database
from models.notices.receipts import confirm_receipt
from models.notices.tables import Notice, NoticeStatus
from models.notices.tracking import ChaseStage, NoticeChase
from scheduler.jobs.notices import Stages, archive_notices, chase_receipts, due_stages
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import add_guardian, press_on
from tests.helpers.outbox import outbox
from tests.helpers.receipts import confirm, local, published_notice, run_job, text_of
from tests.helpers.visits import ChatUser, full_dispatcher

#: Published Monday 16 November 10:00, receipt due Wednesday 18 November 10:00.
PUBLISHED = local(2026, 11, 16, 10)
HALFWAY = local(2026, 11, 17, 10)
DEADLINE = local(2026, 11, 18, 10)


async def _school_with_bound_guardians(
    db: Database, clock: FakeClock, *names: str
) -> factories.TestSchool:
    ts = await seed_school(db)
    for name in names:
        await bind(db, clock, ts.guardians[name])
    return ts


def _guardian_of(ts: factories.TestSchool, key: str) -> str:
    """`notice-reminder:1:half:guardian:7:console` → the guardian's name."""
    guardian_id = int(key.split(":")[4])
    return next(name for name, g in ts.guardians.items() if g.id == guardian_id)


async def test_nobody_is_reminded_before_halfway(db: Database, clock: FakeClock) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅", "王磊家长")
    await published_notice(db, ts, PUBLISHED)
    assert await run_job(db, ts, chase_receipts, HALFWAY - timedelta(minutes=5)) == 0
    assert await outbox(db, prefix="notice-reminder:") == []


async def test_guardians_who_have_not_confirmed_are_reminded_halfway_to_the_deadline(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅", "李娜家长", "王磊家长")
    notice = await published_notice(db, ts, PUBLISHED)
    await confirm(db, notice, ts.guardians["李娜家长"], PUBLISHED + timedelta(hours=1))
    assert await run_job(db, ts, chase_receipts, HALFWAY) == 2
    rows = await outbox(db, prefix="notice-reminder:")
    assert sorted(_guardian_of(ts, r.key) for r in rows) == ["刘梅", "王磊家长"]
    assert all(r.key.startswith(f"notice-reminder:{notice.id}:half:guardian:") for r in rows)
    assert all(r.key.endswith(":console") and r.due_at == HALFWAY for r in rows)
    reminder = Reply.from_dict(rows[0].payload)
    assert reminder.text.startswith("【提醒】您还没有确认收到下面这份通知")
    assert "《秋季研学活动通知》" in reminder.text
    assert [b.label for row in reminder.buttons for b in row] == ["确认收到", "有疑问"]


async def test_the_halfway_reminder_is_queued_once_however_often_the_job_runs(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    await published_notice(db, ts, PUBLISHED)
    assert await run_job(db, ts, chase_receipts, HALFWAY) == 1
    for minutes in (0, 5, 60, 600):
        assert await run_job(db, ts, chase_receipts, HALFWAY + timedelta(minutes=minutes)) == 0
    assert len(await outbox(db, prefix="notice-reminder:")) == 1


async def test_guardians_still_missing_are_reminded_again_at_the_deadline(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅", "王磊家长")
    notice = await published_notice(db, ts, PUBLISHED)
    await run_job(db, ts, chase_receipts, HALFWAY)
    await confirm(db, notice, ts.guardians["王磊家长"], HALFWAY + timedelta(hours=1))
    assert await run_job(db, ts, chase_receipts, DEADLINE - timedelta(minutes=5)) == 0
    await run_job(db, ts, chase_receipts, DEADLINE)
    rows = await outbox(db, prefix=f"notice-reminder:{notice.id}:deadline:")
    assert [_guardian_of(ts, r.key) for r in rows] == ["刘梅"]
    assert "回执已到截止时间" in text_of(rows[0])
    await run_job(db, ts, chase_receipts, DEADLINE + timedelta(hours=3))
    assert len(await outbox(db, prefix="notice-reminder:")) == 3  # 2 halfway + 1 at the deadline


async def test_a_family_confirmed_by_the_other_guardian_is_not_reminded(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    father = await add_guardian(db, ts, "王磊", "王建国", "13600000009", "父亲")
    await bind(db, clock, ts.guardians["王磊家长"])
    await bind(db, clock, father)
    notice = await published_notice(db, ts, PUBLISHED)
    await confirm(db, notice, father, PUBLISHED + timedelta(hours=2))
    await run_job(db, ts, chase_receipts, HALFWAY)
    assert await outbox(db, prefix="notice-reminder:") == []


async def test_a_mother_of_two_gets_one_reminder_naming_only_the_child_not_confirmed(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    second = await add_guardian(db, ts, "张小红", "张大力", "13600000008", "父亲")
    await bind(db, clock, second)
    notice = await published_notice(db, ts, PUBLISHED, classes=("三(2)班", "四(1)班"))
    await confirm(db, notice, second, PUBLISHED + timedelta(hours=1))  # 张小红's father
    await run_job(db, ts, chase_receipts, HALFWAY)
    rows = [
        r for r in await outbox(db, prefix="notice-reminder:") if _guardian_of(ts, r.key) == "刘梅"
    ]
    assert len(rows) == 1
    assert "张小明（三(2)班）的家长" in text_of(rows[0])
    assert "张小红" not in text_of(rows[0])


async def test_a_guardian_who_bound_after_publication_gets_the_notice_with_the_reminder(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    notice = await published_notice(db, ts, PUBLISHED)
    await bind(db, clock, ts.guardians["陈静家长"])
    await run_job(db, ts, chase_receipts, HALFWAY)
    [row] = await outbox(db, prefix="notice-reminder:")
    assert _guardian_of(ts, row.key) == "陈静家长"
    assert "11月20日（周五）全天赴科技馆研学" in text_of(row)
    assert notice.body in text_of(row)


async def test_pressing_confirm_on_a_reminder_records_the_receipt(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    mother = ChatUser(dispatcher, await bind(db, clock, ts.guardians["刘梅"]))
    notice = await published_notice(db, ts, PUBLISHED)
    await run_job(db, ts, chase_receipts, HALFWAY)
    [row] = await outbox(db, prefix="notice-reminder:")
    clock.now = HALFWAY + timedelta(minutes=3)
    await press_on(mother, Reply.from_dict(row.payload), "确认收到")
    assert "已确认收到" in mother.text
    await run_job(db, ts, chase_receipts, DEADLINE)
    assert await outbox(db, prefix=f"notice-reminder:{notice.id}:deadline:") == []


async def test_a_halfway_moment_in_quiet_hours_waits_for_the_morning_and_skips_those_who_confirmed(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅", "王磊家长")
    # Published 10:00, due next day 08:00: halfway is 21:00, in quiet hours (21:00–07:00).
    notice = await published_notice(db, ts, PUBLISHED, deadline=local(2026, 11, 17, 8))
    for moment in (
        local(2026, 11, 16, 21),
        local(2026, 11, 16, 23, 30),
        local(2026, 11, 17, 6, 55),
    ):
        assert await run_job(db, ts, chase_receipts, moment) == 0
    await confirm(db, notice, ts.guardians["王磊家长"], local(2026, 11, 16, 22))
    assert await run_job(db, ts, chase_receipts, local(2026, 11, 17, 7)) == 1
    [row] = await outbox(db, prefix="notice-reminder:")
    assert _guardian_of(ts, row.key) == "刘梅"
    assert row.due_at == local(2026, 11, 17, 7)


async def test_a_deadline_in_quiet_hours_is_chased_in_the_morning(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    await bind(db, clock, ts.staff["王芳"])
    # Published 10:00, due next day 22:00: halfway is 04:00 (quiet), the deadline too.
    notice = await published_notice(db, ts, PUBLISHED, deadline=local(2026, 11, 17, 22))
    assert await run_job(db, ts, chase_receipts, local(2026, 11, 17, 4)) == 0
    assert await run_job(db, ts, chase_receipts, local(2026, 11, 17, 7)) == 1  # halfway
    for moment in (local(2026, 11, 17, 22), local(2026, 11, 17, 23, 55), local(2026, 11, 18, 6)):
        assert await run_job(db, ts, chase_receipts, moment) == 0
    await run_job(db, ts, chase_receipts, local(2026, 11, 18, 7))
    [reminder] = await outbox(db, prefix=f"notice-reminder:{notice.id}:deadline:")
    [calls] = await outbox(db, prefix=f"notice-calls:{notice.id}:")
    assert reminder.due_at == calls.due_at == local(2026, 11, 18, 7)


async def test_a_halfway_reminder_whose_time_came_only_after_the_deadline_is_skipped(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    notice = await published_notice(db, ts, PUBLISHED)
    await run_job(db, ts, chase_receipts, DEADLINE + timedelta(hours=2))  # the bot was down
    assert await outbox(db, prefix=f"notice-reminder:{notice.id}:half:") == []
    assert len(await outbox(db, prefix=f"notice-reminder:{notice.id}:deadline:")) == 1
    async with db.session() as session:
        half = await session.get(NoticeChase, (notice.id, ChaseStage.HALF))
    assert half is not None and half.queued == 0 and "skipped" in half.note


@pytest.mark.parametrize(
    ("now", "done", "expected"),
    [
        (HALFWAY - timedelta(seconds=1), set(), []),
        (HALFWAY, set(), [(ChaseStage.HALF, True)]),
        (HALFWAY, {ChaseStage.HALF}, []),
        (
            DEADLINE,
            {ChaseStage.HALF},
            [(ChaseStage.DEADLINE, True), (ChaseStage.CALLS, True)],
        ),
        (
            DEADLINE,
            set(),
            [(ChaseStage.HALF, False), (ChaseStage.DEADLINE, True), (ChaseStage.CALLS, True)],
        ),
        (DEADLINE + timedelta(days=3), set(ChaseStage), []),
    ],
)
def test_which_stages_are_due(
    now: object, done: set[ChaseStage], expected: list[tuple[ChaseStage, bool]]
) -> None:
    assert due_stages(Stages(half=HALFWAY, deadline=DEADLINE), now, done) == expected  # type: ignore[arg-type]


async def test_a_notice_without_a_receipt_is_never_chased(db: Database, clock: FakeClock) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    await published_notice(db, ts, PUBLISHED, receipt_required=False)
    await run_job(db, ts, chase_receipts, HALFWAY)
    await run_job(db, ts, chase_receipts, DEADLINE)
    assert await outbox(db, prefix="notice-reminder:") == []
    assert await outbox(db, prefix="notice-calls:") == []


# -- the call list ------------------------------------------------------------------------------


async def test_after_the_deadline_the_head_teacher_gets_the_families_to_phone_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅", "李娜家长", "王磊家长")
    await bind(db, clock, ts.staff["王芳"])
    notice = await published_notice(db, ts, PUBLISHED)
    await confirm(db, notice, ts.guardians["李娜家长"], HALFWAY)
    await run_job(db, ts, chase_receipts, DEADLINE - timedelta(minutes=5))
    assert await outbox(db, prefix="notice-calls:") == []
    await run_job(db, ts, chase_receipts, DEADLINE)
    [row] = await outbox(db, prefix="notice-calls:")
    assert row.key == (
        f"notice-calls:{notice.id}:class:{ts.classes['三(2)班'].id}"
        f":staff:{ts.staff['王芳'].id}:console"
    )
    text = text_of(row)
    assert "〔2026〕第001号《秋季研学活动通知》 的回执已于 11月18日（周三） 10:00 截止。" in text
    assert "三(2)班 还有 5 名学生的家长没有确认收到，请电话联系：" in text
    assert "1. 张小明\n   母亲 刘梅 13700000000（发送中）" in text
    assert "李娜" not in text
    assert "刘洋家长 " + ts.guardians["刘洋家长"].phone + "（未绑定，未收到）" in text
    assert [b.label for row in Reply.from_dict(row.payload).buttons for b in row] == ["查看回执"]
    for hours in (1, 24, 48):
        await run_job(db, ts, chase_receipts, DEADLINE + timedelta(hours=hours))
    assert len(await outbox(db, prefix="notice-calls:")) == 1


async def test_each_class_gets_its_own_list_and_a_class_all_confirmed_gets_none(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "李华家长")
    for teacher in ("王芳", "李强", "孙丽"):
        await bind(db, clock, ts.staff[teacher])
    notice = await published_notice(db, ts, PUBLISHED, classes=("三(1)班", "三(2)班", "四(1)班"))
    async with db.session() as session:
        # Every 三(1)班 family but 李华's confirmed on paper: recorded as confirmed.
        for name in ("周杰", "吴迪", "郑爽", "冯雪", "陈晨"):
            await confirm_for(session, notice, ts.guardians[f"{name}家长"].id or 0)
    await confirm(db, notice, ts.guardians["李华家长"], HALFWAY)
    await run_job(db, ts, chase_receipts, DEADLINE)
    rows = await outbox(db, prefix="notice-calls:")
    classes = {int(r.key.split(":")[3]) for r in rows}
    assert classes == {ts.classes["三(2)班"].id, ts.classes["四(1)班"].id}
    by_teacher = {r.chat_id: text_of(r) for r in rows}
    assert "四(1)班 还有 6 名学生" in by_teacher[f"staff-{ts.staff['孙丽'].id}"]


async def confirm_for(session: AsyncSession, notice: Notice, guardian_id: int) -> None:
    await confirm_receipt(
        session=session,
        notice_id=notice.id or 0,
        guardian_id=guardian_id,
        channel="console",
        now=HALFWAY,
    )


async def test_a_class_without_a_head_teacher_sends_its_list_to_the_moral_education_office(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    async with db.session() as session:
        klass = ts.classes["三(2)班"]
        klass.head_teacher_id = None
        session.add(klass)
    await published_notice(db, ts, PUBLISHED)
    await run_job(db, ts, chase_receipts, DEADLINE)
    [row] = await outbox(db, prefix="notice-calls:")
    assert row.chat_id == f"staff-{ts.staff['赵敏'].id}"


# -- archiving --------------------------------------------------------------------------------------


async def test_a_notice_is_archived_the_day_after_its_display_window_and_chased_no_more(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    notice = await published_notice(
        db, ts, PUBLISHED, deadline=local(2026, 11, 20, 18), display_until=date(2026, 11, 17)
    )
    await run_job(db, ts, archive_notices, local(2026, 11, 17, 23, 5))
    async with db.session() as session:
        assert (await session.get(Notice, notice.id)).status is NoticeStatus.PUBLISHED  # type: ignore[union-attr]
    await run_job(db, ts, archive_notices, local(2026, 11, 18, 0, 5))
    async with db.session() as session:
        archived = await session.get(Notice, notice.id)
    assert archived is not None and archived.status is NoticeStatus.ARCHIVED
    assert archived.archived_at == local(2026, 11, 18, 0, 5)
    for day in (18, 19, 20, 21):
        await run_job(db, ts, chase_receipts, local(2026, 11, day, 19))
    assert await outbox(db, prefix="notice-reminder:") == []
    assert await outbox(db, prefix="notice-calls:") == []


async def test_a_notice_whose_window_ended_is_not_chased_even_before_the_archive_job_ran(
    db: Database, clock: FakeClock
) -> None:
    ts = await _school_with_bound_guardians(db, clock, "刘梅")
    await published_notice(
        db, ts, PUBLISHED, deadline=local(2026, 11, 20, 18), display_until=date(2026, 11, 17)
    )
    await run_job(db, ts, chase_receipts, local(2026, 11, 20, 18))
    assert await outbox(db, prefix="notice-reminder:") == []
    async with db.session() as session:
        assert (await session.exec(select(NoticeChase))).all() == []
