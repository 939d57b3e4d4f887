"""Reading the dates and times a teacher types for a notice (pure, no clock: `today` is given).

Understood: `明天 18:00`, `后天下午5点`, `11月20日 8:30`, `11月20号`, `2026-11-20 18:00`,
`2026/11/20`, `11-20`, `11.20`, `12月1日晚上7点半`, and a time alone (`18:00`: today).
A month and day without a year mean this year, or next year when that day is more than two
months past (`1月5日` typed in November is next January; `11月10日` typed on 16 November stays in
the past and is refused by the caller).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_RELATIVE = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|[-/.](\d{1,2})(?!\d))")
_CLOCK = re.compile(r"(\d{1,2})\s*[:：]\s*(\d{2})")
_HOUR = re.compile(r"(\d{1,2})\s*[点时](?:\s*(半)|\s*(\d{1,2})\s*分?)?")
_AFTERNOON = ("下午", "晚上", "傍晚", "中午")
#: A month and day further in the past than this is taken as next year's.
_ROLL_OVER = timedelta(days=61)


@dataclass(frozen=True)
class Typed:
    day: date
    #: None when only a day was typed (the caller picks a default time).
    at: time | None


def _date_part(text: str, today: date) -> tuple[date | None, str]:
    """The day in `text` and the rest of the text; (None, text) when no day is named."""
    for word, offset in _RELATIVE.items():
        if word in text:
            return today + timedelta(days=offset), text.replace(word, " ", 1)
    match = _FULL.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day), text[: match.start()] + " " + text[match.end() :]
        except ValueError:
            return None, text
    match = _MONTH_DAY.search(text)
    if match and (match.group(2) or not _CLOCK.match(text, match.start())):
        month = int(match.group(1))
        day_text = match.group(2) or match.group(3)
        try:
            found = date(today.year, month, int(day_text))
        except ValueError:
            return None, text
        if found < today - _ROLL_OVER:
            try:
                found = date(today.year + 1, month, int(day_text))
            except ValueError:
                return None, text
        return found, text[: match.start()] + " " + text[match.end() :]
    return None, text


def _time_part(text: str) -> tuple[time | None, bool]:
    """The time of day in `text`, and whether anything unreadable was left over."""
    afternoon = any(word in text for word in _AFTERNOON)
    rest = text
    for word in (*_AFTERNOON, "上午", "早上", "凌晨"):
        rest = rest.replace(word, " ")
    match = _CLOCK.search(rest) or _HOUR.search(rest)
    if match is None:
        return None, bool(rest.strip())
    hour = int(match.group(1))
    if match.re is _CLOCK:
        minute = int(match.group(2))
    else:
        minute = 30 if match.group(2) else int(match.group(3) or 0)
    if afternoon and hour < 12:
        hour += 12
    leftover = (rest[: match.start()] + rest[match.end() :]).strip()
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None, True
    return time(hour, minute), bool(leftover)


def parse_typed(text: str, *, today: date) -> Typed | None:
    """A typed day and optional time, or None when the text cannot be read as one."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 40:
        return None
    day, rest = _date_part(cleaned, today)
    at, leftover = _time_part(rest)
    if leftover:
        return None
    if day is None:
        return Typed(today, at) if at is not None else None
    return Typed(day, at)


def local_moment(typed: Typed, *, zone: ZoneInfo, default: time) -> datetime:
    """The typed day and time (or `default`) in the school's zone, as an aware datetime."""
    return datetime.combine(typed.day, typed.at or default, tzinfo=zone)
