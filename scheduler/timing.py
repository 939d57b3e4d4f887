"""When jobs run: each job's APScheduler `CronTrigger` in the school's zone, the latest slot at or
before a moment, and the schedule in words for `jobs list`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from models.school.rules import SchoolRules
from scheduler.base import Job

#: Windows tried, smallest first, when looking back for the latest slot (a job that runs every
#: minute is found in the first; a daily one in the last).
_LOOKBACK = (timedelta(minutes=2), timedelta(hours=2), timedelta(days=2))

_WEEKDAYS = {
    "mon": "一",
    "tue": "二",
    "wed": "三",
    "thu": "四",
    "fri": "五",
    "sat": "六",
    "sun": "日",
    "0": "一",
    "1": "二",
    "2": "三",
    "3": "四",
    "4": "五",
    "5": "六",
    "6": "日",
}


def build_trigger(job: Job, rules: SchoolRules, zone: ZoneInfo) -> CronTrigger:
    """The job's trigger for this school's rules, in the school's zone."""
    return CronTrigger(**job.schedule(rules), timezone=zone)


def latest_slot(trigger: CronTrigger, now: datetime, *, within: timedelta) -> datetime | None:
    """The latest time the trigger fires at or before `now`, if it is at most `within` old."""
    for window in (*(w for w in _LOOKBACK if w < within), within):
        fire: datetime | None = trigger.get_next_fire_time(None, now - window)
        if fire is None or fire > now:
            continue
        while True:
            # With the previous fire time as `now`, CronTrigger answers the one strictly after.
            following: datetime | None = trigger.get_next_fire_time(fire, fire)
            if following is None or following > now:
                return fire
            fire = following
    return None


def next_slot(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first time the trigger fires strictly after `now`."""
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    if fire is not None and fire <= now:
        fire = trigger.get_next_fire_time(fire, fire)
    return fire


def _simple_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _weekdays(value: Any) -> str | None:
    text = str(value).lower()
    if text in _WEEKDAYS:
        return f"每周{_WEEKDAYS[text]}"
    first, dash, last = text.partition("-")
    if dash and first in _WEEKDAYS and last in _WEEKDAYS:
        return f"每周{_WEEKDAYS[first]}至周{_WEEKDAYS[last]}"
    parts = text.split(",")
    if len(parts) > 1 and all(p in _WEEKDAYS for p in parts):
        return "每周" + "、".join(_WEEKDAYS[p] for p in parts)
    return None


def _days(schedule: dict[str, Any]) -> str | None:
    """The day part in words, or None when it is too unusual to put simply."""
    if set(schedule) - {"day", "day_of_week", "hour", "minute", "second"}:
        return None
    day, weekday = schedule.get("day"), schedule.get("day_of_week")
    if day is not None and weekday is not None:
        return None
    if weekday is not None:
        return _weekdays(weekday)
    if day is None or str(day) == "*":
        return "每天"
    if str(day) == "last":
        return "每月最后一天"
    number = _simple_int(day)
    return f"每月 {number} 日" if number is not None else None


def _times(schedule: dict[str, Any]) -> str | None:
    """The time-of-day part in words, or None when it is too unusual to put simply."""
    if _simple_int(schedule.get("second", 0)) != 0:
        return None
    hour, minute = schedule.get("hour"), schedule.get("minute")
    if hour is None and isinstance(minute, str) and minute.startswith("*/"):
        step = minute[2:]
        return f"每 {step} 分钟" if step.isdigit() else None
    if hour is None and minute is not None and str(minute) in ("*", "*/1"):
        return "每分钟"
    minute_value = _simple_int(minute if minute is not None else 0)
    if minute_value is None:
        return None
    if hour is None or str(hour) == "*":
        return "每小时整点" if minute_value == 0 else f"每小时第 {minute_value} 分"
    hours = [_simple_int(h) for h in str(hour).split(",")]
    if any(h is None for h in hours):
        return None
    return "、".join(f"{h:02d}:{minute_value:02d}" for h in hours if h is not None)


def describe_schedule(schedule: dict[str, Any]) -> str:
    """E.g. "每周一 08:00", "每天 07:30", "每 10 分钟"; else the cron fields as they are."""
    days, times = _days(schedule), _times(schedule)
    if days is not None and times is not None:
        if times.startswith("每"):
            return times if days == "每天" else f"{days}，{times}"
        return f"{days} {times}"
    return "cron: " + " ".join(f"{key}={value}" for key, value in schedule.items())
