"""The monthly summary of parents' feedback (DOMAIN.md "Feedback and complaints"): a pure
function of plain rows, one per feedback of the month (`summarise`), and the one query that
reads them (`month_rows`).

The summary holds counts only: no names, no students, no text. What the feedback was about is
counted by group — the school, each class by its name, teachers as one group 关于教师 (never a
teacher's name) — and every group with fewer than `SMALL_GROUP` items is folded into 其他, so
that no small group points at a few families.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.feedback.tables import Feedback, FeedbackAbout, FeedbackKind
from models.ledger.rules import median_hours, merge_small_groups
from models.ledger.tables import LedgerItem, LedgerOutcome, LedgerSource, LedgerStatus
from models.school.tables import SchoolClass
from models.text import N_

#: The groups of `FeedbackSummary.by_about` that are not class names (msgids).
ABOUT_SCHOOL = N_("关于学校")
ABOUT_TEACHERS = N_("关于教师")
OTHER = N_("其他")


@dataclass(frozen=True)
class FeedbackRow:
    """One feedback of the month and where its ledger item stands (no text, no author)."""

    kind: FeedbackKind
    about: FeedbackAbout
    #: The class it is about (`about` is CLASS), else "".
    class_name: str
    created_at: datetime
    #: Its ledger item (None for praise, which has none).
    status: LedgerStatus | None = None
    outcome: LedgerOutcome | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class FeedbackSummary:
    #: The month summarised (its first day).
    month: date
    by_kind: dict[FeedbackKind, int] = field(default_factory=dict)
    #: The feedback's ledger items, by where they stand now.
    by_status: dict[LedgerStatus, int] = field(default_factory=dict)
    #: The closed ones, by how they were settled.
    by_outcome: dict[LedgerOutcome, int] = field(default_factory=dict)
    complaints: int = 0
    #: Complaints someone has acted on (their item has a first response).
    complaints_followed_up: int = 0
    #: Medians over the month's items, in hours (None when there is none to measure).
    hours_to_first_response: float | None = None
    hours_to_close: float | None = None
    #: Counts by what the feedback was about: `ABOUT_SCHOOL`, class names, `ABOUT_TEACHERS`,
    #: and `OTHER` for every group under `SMALL_GROUP` (listed last).
    by_about: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    @property
    def items(self) -> int:
        return sum(self.by_status.values())

    @property
    def followed_up_percent(self) -> int | None:
        """Whole percent, rounded down (99.6 % is not shown as the target's 100 %)."""
        if not self.complaints:
            return None
        return 100 * self.complaints_followed_up // self.complaints


def _hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def _about(row: FeedbackRow) -> str:
    if row.about is FeedbackAbout.CLASS and row.class_name:
        return row.class_name
    if row.about is FeedbackAbout.TEACHER:
        return ABOUT_TEACHERS
    if row.about is FeedbackAbout.SCHOOL:
        return ABOUT_SCHOOL
    return OTHER


def summarise(month: date, rows: Iterable[FeedbackRow]) -> FeedbackSummary:
    """The summary of the month's feedback `rows`."""
    rows = list(rows)
    items = [row for row in rows if row.status is not None]
    complaints = [row for row in rows if row.kind is FeedbackKind.COMPLAINT]
    return FeedbackSummary(
        month=month.replace(day=1),
        by_kind=dict(Counter(row.kind for row in rows)),
        by_status=dict(Counter(row.status for row in items if row.status is not None)),
        by_outcome=dict(
            Counter(
                row.outcome
                for row in items
                if row.status is LedgerStatus.CLOSED and row.outcome is not None
            )
        ),
        complaints=len(complaints),
        complaints_followed_up=sum(1 for row in complaints if row.first_response_at is not None),
        hours_to_first_response=median_hours(
            _hours(row.created_at, row.first_response_at)
            for row in items
            if row.first_response_at is not None
        ),
        hours_to_close=median_hours(
            _hours(row.created_at, row.closed_at)
            for row in items
            if row.status is LedgerStatus.CLOSED and row.closed_at is not None
        ),
        by_about=merge_small_groups(Counter(_about(row) for row in rows), other=OTHER),
    )


# -- reading the month ---------------------------------------------------------------------------


def month_span(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month of `month`, from its first local midnight to the next month's."""
    first = month.replace(day=1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return datetime.combine(first, time(0), zone), datetime.combine(after, time(0), zone)


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    first = day.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


async def month_rows(
    session: AsyncSession, *, school_id: int, month: date, zone: ZoneInfo
) -> list[FeedbackRow]:
    """The school's feedback created in `month` (local time) with its ledger item: one
    statement. Never the text, the author or a teacher."""
    start, end = month_span(month, zone)
    query = (
        select(
            col(Feedback.kind),
            col(Feedback.about),
            col(SchoolClass.name),
            col(Feedback.created_at),
            col(LedgerItem.status),
            col(LedgerItem.outcome),
            col(LedgerItem.first_response_at),
            col(LedgerItem.closed_at),
        )
        .select_from(Feedback)
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Feedback.about_class_id))
        .outerjoin(
            LedgerItem,
            (col(LedgerItem.source) == LedgerSource.FEEDBACK.value)
            & (col(LedgerItem.source_id) == col(Feedback.id)),
        )
        .where(
            col(Feedback.school_id) == school_id,
            col(Feedback.created_at) >= start,
            col(Feedback.created_at) < end,
        )
        .order_by(col(Feedback.id))
    )
    result = await session.exec(query)  # type: ignore[call-overload]
    return [
        FeedbackRow(
            kind=FeedbackKind(kind),
            about=FeedbackAbout(about),
            class_name=str(class_name or ""),
            created_at=created_at,
            status=LedgerStatus(status) if status is not None else None,
            outcome=LedgerOutcome(outcome) if outcome is not None else None,
            first_response_at=first_response_at,
            closed_at=closed_at,
        )
        for kind, about, class_name, created_at, status, outcome, first_response_at, closed_at in (
            result.all()
        )
    ]
