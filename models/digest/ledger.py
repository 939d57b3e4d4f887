"""The digest's problem-ledger line: items new since the previous digest, active items past their
due date, items still unclassified after `ledger_classify_school_days` school days, and parents'
complaints with no owner after `complaint_assign_school_days` school days.

The school-day thresholds are turned into cut-off moments first (`late_cutoff`), so the counts
are one statement (`models.ledger.views.digest_counts`) whatever the ledger's size; the calendar
costs two more (its terms and marked days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.feedback.tables import Feedback, FeedbackKind
from models.ledger.views import DigestCounts, digest_counts
from models.school.calendar import SchoolCalendar
from models.school.calendar_store import stored_calendar
from models.school.rules import DEFAULT_RULES, SchoolRules

#: "New" means created since the previous digest, a day before.
NEW_SINCE = timedelta(hours=24)
#: How far back the cut-off is looked for; a longer stretch without school days (no calendar
#: for the coming school year) makes everything older than this late.
LOOKBACK_DAYS = 400
#: The statements `ledger_line` runs: the calendar's terms and days, and the counts.
STATEMENTS = 3


@dataclass(frozen=True)
class LedgerLine:
    counts: DigestCounts
    #: The rules' school days, to name them in the line.
    classify_school_days: int
    assign_school_days: int

    @property
    def empty(self) -> bool:
        return self.counts.empty


EMPTY_LINE = LedgerLine(DigestCounts(0, 0, 0, 0), 2, 1)


def late_cutoff(
    today: date, school_days: int, calendar: SchoolCalendar, zone: ZoneInfo
) -> datetime:
    """The moment before which an item recorded is late on `today`: `school_days` whole school
    days have passed since the day it was recorded, not counting that day.

    This is `models.ledger.rules.school_days_after(recorded, school_days) <= today`, solved for
    the recorded day: walking back from yesterday, the day `first` on which the `school_days`-th
    school day is reached leaves `first - 1` as the latest late day, so items recorded before
    `first` (local midnight) are late. Walking back needs no school day ahead of `today`, so a
    calendar that ends before it (the summer break with next year not yet imported) is fine.
    """
    day, counted = today, 0
    for _ in range(LOOKBACK_DAYS):
        day -= timedelta(days=1)
        counted += calendar.is_school_day(day)
        if counted >= school_days:
            return datetime.combine(day, time(0), zone)
    return datetime.combine(day, time(0), zone)


def complaint_ids(school_id: int) -> object:
    """A SELECT of the school's complaints' ids."""
    return select(col(Feedback.id)).where(
        col(Feedback.school_id) == school_id,
        col(Feedback.kind) == FeedbackKind.COMPLAINT.value,
    )


async def ledger_line(
    session: AsyncSession,
    *,
    school_id: int,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules = DEFAULT_RULES,
) -> LedgerLine:
    """The ledger's counts for the digest of `now`, in `STATEMENTS` statements."""
    today = now.astimezone(zone).date()
    calendar = (await stored_calendar(session=session, school_id=school_id)).rules
    counts = await digest_counts(
        session,
        school_id=school_id,
        new_since=now - NEW_SINCE,
        today=today,
        unclassified_before=late_cutoff(today, rules.ledger_classify_school_days, calendar, zone),
        unassigned_before=late_cutoff(today, rules.complaint_assign_school_days, calendar, zone),
        complaint_ids=complaint_ids(school_id),
    )
    return LedgerLine(counts, rules.ledger_classify_school_days, rules.complaint_assign_school_days)
