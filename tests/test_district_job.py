"""The district digest every school-day morning (`district_digest`): the bureau's 区域管理员 is
queued the digest and its chart once a day, whatever runs the slot again; a roster without one,
a day without school, quiet hours and an English account each have their rule.

Two schools with figures counted by hand (`tests/helpers/district.py`) and the bureau's own
entry 区教育局 (`add_bureau`), whose bot runs the job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from models.db.engine import Database
from models.outbox.media import Media
from models.outbox.tables import OutboxMessage
from models.roster.tables import Staff
from models.school.tables import School
from scheduler.base import JobContext
from scheduler.jobs.district import DISTRICT_DIGEST, send_district_digest
from scheduler.registry import all_jobs
from scheduler.run import RunConfig, RunStatus, run_job
from tests.helpers.clock import FakeClock
from tests.helpers.district import (
    BUREAU,
    DISTRICT_ADMIN,
    FIRST,
    NOW,
    PEOPLE,
    REST_OF_A_LARGE_DISTRICT,
    SECOND,
    add_bureau,
    as_a_large_district,
    build_district,
)
from tests.helpers.factories import bind

ZONE = ZoneInfo("Asia/Shanghai")
#: Monday 16 November 2026, 07:30 in Shanghai: the digest's slot.
SLOT = NOW
CONFIG = RunConfig(zone=ZONE, school_name=BUREAU, owner="test:1")


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "district_digest")
        return list((await session.exec(query.order_by(col(OutboxMessage.id)))).all())


async def _school(db: Database, name: str) -> School:
    async with db.session() as session:
        return (await session.exec(select(School).where(School.name == name))).one()


async def _run_body(db: Database, school: str, now: datetime) -> int:
    """The job's body at `now`, in one transaction, as the scheduler runs it."""
    found = await _school(db, school)
    async with db.session() as session:
        jc = JobContext(session=session, now=now, school=found, zone=ZONE, rules=CONFIG.rules)
        return await send_district_digest(jc)


async def _bureau_with_admin(db: Database, clock: FakeClock, language: str = "zh") -> Staff:
    bureau = await add_bureau(db)
    await build_district(db)
    await bind(db, clock, bureau[DISTRICT_ADMIN], language=language)
    return bureau[DISTRICT_ADMIN]


def test_the_job_is_registered_at_the_digest_time() -> None:
    assert DISTRICT_DIGEST in all_jobs()
    assert DISTRICT_DIGEST.schedule(CONFIG.rules) == {"hour": 7, "minute": 30}


async def test_the_district_admin_is_queued_one_digest_and_a_second_run_queues_nothing(
    db: Database, clock: FakeClock
) -> None:
    admin = await _bureau_with_admin(db, clock)

    first = await run_job(db, CONFIG, DISTRICT_DIGEST, slot=SLOT, now=SLOT)
    again = await run_job(db, CONFIG, DISTRICT_DIGEST, slot=SLOT, now=SLOT + timedelta(minutes=5))

    assert (first.status, first.queued) == (RunStatus.DONE, 1)
    assert again.status is RunStatus.SKIPPED
    [row] = await _rows(db)
    assert row.key == f"district-digest:2026-11-16:staff:{admin.id}:console"
    assert row.due_at == SLOT
    text = row.payload["text"]
    assert text.startswith("区域家访合规日报 · 11月16日\n全区 2 所学校")
    assert f"1. {FIRST}：" in text and f"2. {SECOND}：" in text and BUREAU not in text
    assert [name for name in PEOPLE if name in text] == []
    async with db.session() as session:
        key = row.payload["image"]["media_key"]
        chart = (await session.exec(select(Media).where(Media.key == key))).one()
    assert key.startswith("district-chart:2026-11-16:zh:") and chart.data.startswith(b"\x89PNG")


async def test_a_large_district_s_push_lists_the_schools_most_in_need_then_one_line(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_large_district(monkeypatch)
    await _bureau_with_admin(db, clock)
    assert await _run_body(db, BUREAU, SLOT) == 1
    [row] = await _rows(db)
    text = row.payload["text"]
    assert f"【最需要关注的 1 所学校】\n1. {FIRST}：" in text
    assert REST_OF_A_LARGE_DISTRICT in text and SECOND not in text


async def test_running_the_body_again_the_same_morning_adds_no_row(
    db: Database, clock: FakeClock
) -> None:
    await _bureau_with_admin(db, clock)
    assert await _run_body(db, BUREAU, SLOT) == 1
    assert await _run_body(db, BUREAU, SLOT + timedelta(hours=1)) == 0
    assert len(await _rows(db)) == 1


async def test_nothing_is_sent_where_nobody_has_the_district_role(
    db: Database, clock: FakeClock
) -> None:
    bureau = await add_bureau(db)
    await build_district(db)
    async with db.session() as session:
        admin = await session.get(Staff, bureau[DISTRICT_ADMIN].id)
        assert admin is not None
        admin.active = False  # moved on: the bureau's roster has no 区域管理员 left
        session.add(admin)
        await session.commit()
    for school in (BUREAU, FIRST, SECOND):
        assert await _run_body(db, school, SLOT) == 0
    assert await _rows(db) == []


async def test_no_digest_on_a_saturday_or_a_statutory_holiday(
    db: Database, clock: FakeClock
) -> None:
    await _bureau_with_admin(db, clock)
    saturday = datetime(2026, 11, 21, 7, 30, tzinfo=ZONE)
    national_day = datetime(2026, 10, 1, 7, 30, tzinfo=ZONE)
    assert await _run_body(db, BUREAU, saturday) == 0
    assert await _run_body(db, BUREAU, national_day) == 0
    assert await _rows(db) == []


async def test_a_run_in_quiet_hours_is_sent_when_they_end(db: Database, clock: FakeClock) -> None:
    await _bureau_with_admin(db, clock)
    early = datetime(2026, 11, 16, 6, 15, tzinfo=ZONE)
    assert await _run_body(db, BUREAU, early) == 1
    [row] = await _rows(db)
    assert row.due_at == datetime(2026, 11, 16, 7, 0, tzinfo=ZONE).astimezone(UTC)


async def test_an_english_account_reads_it_in_english(db: Database, clock: FakeClock) -> None:
    await _bureau_with_admin(db, clock, language="en")
    assert await _run_body(db, BUREAU, SLOT) == 1
    [row] = await _rows(db)
    assert "District home-visit compliance" in row.payload["text"]
