"""When jobs run: the latest slot before a moment, the next one, and schedules in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger

from models.db.urls import sync_url
from scheduler.timing import describe_schedule, latest_slot, next_slot
from tests.helpers.scheduler import SHANGHAI, local

SIX_HOURS = timedelta(hours=6)


def cron(**fields: Any) -> CronTrigger:
    return CronTrigger(**fields, timezone=SHANGHAI)


@pytest.mark.parametrize(
    ("fields", "now", "within", "expected"),
    [
        # The daily 07:30 digest, bot back at 09:00: today's slot.
        ({"hour": 7, "minute": 30}, "2026-11-16 09:00", SIX_HOURS, "2026-11-16 07:30"),
        # Exactly on the slot: the slot itself.
        ({"hour": 7, "minute": 30}, "2026-11-16 07:30", SIX_HOURS, "2026-11-16 07:30"),
        # A second before it: yesterday's is beyond the grace.
        ({"hour": 7, "minute": 30}, "2026-11-16 07:29:59", SIX_HOURS, None),
        # Back at 14:00, six and a half hours late: too late.
        ({"hour": 7, "minute": 30}, "2026-11-16 14:00", SIX_HOURS, None),
        # With a two-day grace, the latest of several missed slots.
        ({"hour": 7, "minute": 30}, "2026-11-16 07:00", timedelta(days=2), "2026-11-15 07:30"),
        # Every ten minutes: the latest one only.
        ({"minute": "*/10"}, "2026-11-16 09:47", SIX_HOURS, "2026-11-16 09:40"),
        # Every minute.
        ({"minute": "*"}, "2026-11-16 09:47:30", SIX_HOURS, "2026-11-16 09:47"),
        # Monday 08:00 nudge, bot back on Tuesday: beyond the grace.
        (
            {"day_of_week": "mon", "hour": 8, "minute": 0},
            "2026-11-17 09:00",
            SIX_HOURS,
            None,
        ),
        (
            {"day_of_week": "mon", "hour": 8, "minute": 0},
            "2026-11-16 13:59",
            SIX_HOURS,
            "2026-11-16 08:00",
        ),
    ],
)
def test_the_latest_slot_is_the_last_fire_time_within_the_grace(
    fields: dict[str, Any], now: str, within: timedelta, expected: str | None
) -> None:
    found = latest_slot(cron(**fields), local(now), within=within)
    assert found == (local(expected) if expected else None)


def test_the_latest_slot_is_in_the_schools_zone() -> None:
    found = latest_slot(cron(hour=7, minute=30), local("2026-11-16 09:00"), within=SIX_HOURS)
    assert found is not None and found.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("fields", "now", "expected"),
    [
        ({"hour": 7, "minute": 30}, "2026-11-16 07:30", "2026-11-17 07:30"),
        ({"hour": 7, "minute": 30}, "2026-11-16 07:29", "2026-11-16 07:30"),
        ({"day_of_week": "mon", "hour": 8, "minute": 0}, "2026-11-16 09:00", "2026-11-23 08:00"),
    ],
)
def test_the_next_slot_is_strictly_after_now(
    fields: dict[str, Any], now: str, expected: str
) -> None:
    assert next_slot(cron(**fields), local(now)) == local(expected)


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ({"hour": 7, "minute": 30}, "每天 07:30"),
        ({"day_of_week": "mon", "hour": 8, "minute": 0}, "每周一 08:00"),
        ({"day_of_week": "mon-fri", "hour": 8, "minute": 0}, "每周一至周五 08:00"),
        ({"day_of_week": "mon,thu", "hour": "9", "minute": "0"}, "每周一、四 09:00"),
        ({"hour": "8,12,16,20", "minute": 0}, "每天 08:00、12:00、16:00、20:00"),
        ({"day": "last", "hour": 9, "minute": 0}, "每月最后一天 09:00"),
        ({"day": 1, "hour": 9, "minute": 0}, "每月 1 日 09:00"),
        ({"minute": "*/10"}, "每 10 分钟"),
        ({"minute": "*"}, "每分钟"),
        ({"minute": 0}, "每小时整点"),
        ({"hour": "*", "minute": 15}, "每小时第 15 分"),
        ({"hour": "8-20", "minute": 0}, "cron: hour=8-20 minute=0"),
        ({"day_of_week": "mon-fri", "minute": "*/5"}, "每周一至周五，每 5 分钟"),
        ({"month": "1,7", "day": 15, "hour": 8}, "cron: month=1,7 day=15 hour=8"),
    ],
)
def test_a_schedule_is_put_in_words(schedule: dict[str, Any], words: str) -> None:
    assert describe_schedule(schedule) == words


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///jiafang.db", "sqlite:///jiafang.db"),
        ("sqlite+aiosqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_the_job_store_uses_a_synchronous_driver_on_the_same_database(
    url: str, expected: str
) -> None:
    assert sync_url(url) == expected
