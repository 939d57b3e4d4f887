"""The ledger's pure rules: due dates, intervals, what is late, and the small-group merge of the
monthly summary. No database here; tested with tables of cases (tests/test_ledger_rules.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from statistics import median

from models.school.calendar import SchoolCalendar
from models.text import N_

#: The intervals offered for a tracked item's progress notes, in days.
FOLLOW_EVERY_CHOICES: tuple[int, ...] = (3, 7, 14, 30)
#: A due date further ahead than this is taken for a mistyped year.
LONGEST_DUE_DAYS = 366
#: The longest note (progress, resolution, reason) kept.
NOTE_LIMIT = 500
#: The longest description of an item entered by hand.
DESCRIPTION_LIMIT = 500
#: In the monthly summary, a group with fewer items than this is counted under 其他.
SMALL_GROUP = 5


def due_date_problem(due_on: date, today: date) -> str | None:
    """Why `due_on` cannot be a due date (a msgid), or None when it can."""
    if due_on < today:
        return N_("截止日期不能早于今天。")
    if due_on > today + timedelta(days=LONGEST_DUE_DAYS):
        return N_("截止日期超过一年，请检查年份。")
    return None


def is_overdue(due_on: date | None, today: date) -> bool:
    """An item still open after its due date."""
    return due_on is not None and due_on < today


def progress_due_on(last_progress: date, every_days: int) -> date:
    """When a tracked item's next progress note is due."""
    return last_progress + timedelta(days=every_days)


def school_days_after(start: date, count: int, calendar: SchoolCalendar) -> date:
    """The day on which `count` whole school days have passed since `start` (not counting it):
    an item recorded on Friday with 2 school days to be classified is late from Wednesday. With no
    school day ahead on record (a summer before next year's calendar), it stops a year on."""
    day, passed = start, 0
    last = start + timedelta(days=LONGEST_DUE_DAYS)
    while passed < count and day < last:
        day += timedelta(days=1)
        passed += calendar.is_school_day(day)
    return day + timedelta(days=1)


def merge_small_groups(
    counts: Mapping[str, int], *, other: str, minimum: int = SMALL_GROUP
) -> dict[str, int]:
    """Counts by group with every group under `minimum` folded into `other` (so that no small
    group points at a few families); `other` itself is kept whatever its size, listed last."""
    merged: dict[str, int] = {}
    rest = counts.get(other, 0)
    for group, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if group == other:
            continue
        if count >= minimum:
            merged[group] = count
        else:
            rest += count
    if rest:
        merged[other] = rest
    return merged


def median_hours(spans: Iterable[float]) -> float | None:
    """The median of durations in hours, or None when there are none."""
    values = list(spans)
    return median(values) if values else None
