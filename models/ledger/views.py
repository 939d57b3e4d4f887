"""Reading the ledger: one item, a person's open items, the school's counts, an item's history,
and the digest's line. Each read is a fixed number of statements whatever the ledger's size, and
every one is filtered by `models.ledger.access.visible_to`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, nulls_last
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ledger.access import visible_to
from models.ledger.handling import decode_classified
from models.ledger.tables import LedgerEvent, LedgerItem, LedgerSource, LedgerStatus
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass

_Owner = aliased(Staff)


@dataclass(frozen=True)
class ItemRow:
    item: LedgerItem
    student_name: str
    class_name: str
    owner_name: str


def _rows() -> Any:
    return (
        select(LedgerItem, Student.name, SchoolClass.name, _Owner.name)
        .outerjoin(Student, col(Student.id) == col(LedgerItem.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(LedgerItem.class_id))
        .outerjoin(_Owner, col(_Owner.id) == col(LedgerItem.owner_id))
    )


def _row(found: Sequence[object]) -> ItemRow:
    item, student, klass, owner = found
    assert isinstance(item, LedgerItem)
    return ItemRow(item, str(student or ""), str(klass or ""), str(owner or ""))


async def item_for(session: AsyncSession, staff: Staff, item_id: int) -> ItemRow | None:
    """The item if `staff` may see it (a forged or foreign id gives None)."""
    query = _rows().where(col(LedgerItem.id) == item_id, visible_to(staff))
    found = (await session.exec(query)).first()
    return _row(found) if found is not None else None


async def item_row(session: AsyncSession, *, school_id: int, item_id: int) -> ItemRow | None:
    """Any item of the school, for the operator's command line (no person's scope applies)."""
    query = _rows().where(col(LedgerItem.id) == item_id, col(LedgerItem.school_id) == school_id)
    found = (await session.exec(query)).first()
    return _row(found) if found is not None else None


#: The order of a to-do list: overdue and soonest due first, undated last, oldest first.
_DUE_FIRST = (nulls_last(col(LedgerItem.due_on).asc()), col(LedgerItem.created_at).asc())


async def open_items_of(
    session: AsyncSession, staff: Staff, *, limit: int = 10, mine_only: bool = False
) -> tuple[list[ItemRow], int]:
    """The open items `staff` sees (or, `mine_only`, owns), due first; and how many there are."""
    where = [visible_to(staff), col(LedgerItem.status) != LedgerStatus.CLOSED.value]
    if mine_only:
        where.append(col(LedgerItem.owner_id) == staff.id)
    rows = await session.exec(_rows().where(*where).order_by(*_DUE_FIRST).limit(limit))
    total = await session.exec(select(func.count()).select_from(LedgerItem).where(*where))
    return [_row(r) for r in rows.all()], int(total.one())


@dataclass(frozen=True)
class ClassCounts:
    class_name: str
    unclassified: int
    active: int
    overdue: int
    closed: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


async def counts_by_class(
    session: AsyncSession, staff: Staff, *, today: date, since: datetime | None = None
) -> list[ClassCounts]:
    """Items by class and status (school-wide items under the class name ""), overdue first:
    one GROUP BY."""
    status, due = col(LedgerItem.status), col(LedgerItem.due_on)
    overdue = and_(status == LedgerStatus.ACTIVE.value, due < today)
    query = (
        sa_select(
            col(SchoolClass.name),
            col(SchoolClass.grade),
            col(SchoolClass.number),
            _count(status == LedgerStatus.OPEN.value),
            _count(status == LedgerStatus.ACTIVE.value),
            _count(overdue),
            _count(status == LedgerStatus.CLOSED.value),
        )
        .select_from(LedgerItem)
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(LedgerItem.class_id))
        .where(visible_to(staff))
        .group_by(
            col(SchoolClass.id),
            col(SchoolClass.name),
            col(SchoolClass.grade),
            col(SchoolClass.number),
        )
    )
    if since is not None:
        query = query.where(col(LedgerItem.created_at) >= since)
    result = await session.exec(query)  # type: ignore[call-overload]
    rows = result.all()
    counts = [
        ClassCounts(str(name or ""), int(o or 0), int(a or 0), int(late or 0), int(c or 0))
        for name, _grade, _number, o, a, late, c in sorted(
            rows, key=lambda r: (-(r[5] or 0), r[1] is None, r[1] or 0, r[2] or 0)
        )
    ]
    return counts


async def needing_attention(
    session: AsyncSession, staff: Staff, *, today: date, limit: int = 10
) -> tuple[list[ItemRow], int]:
    """For 德育处: overdue items first, then the unclassified, oldest first; and how many."""
    status, due = col(LedgerItem.status), col(LedgerItem.due_on)
    overdue = and_(status == LedgerStatus.ACTIVE.value, due < today)
    wanted = (overdue | (status == LedgerStatus.OPEN.value)) & visible_to(staff)
    order = (case((overdue, 0), else_=1), *_DUE_FIRST)
    rows = await session.exec(_rows().where(wanted).order_by(*order).limit(limit))
    total = await session.exec(select(func.count()).select_from(LedgerItem).where(wanted))
    return [_row(r) for r in rows.all()], int(total.one())


@dataclass(frozen=True)
class HistoryLine:
    event: LedgerEvent
    staff_name: str


async def history_of(session: AsyncSession, item_id: int) -> list[HistoryLine]:
    """The item's whole history, oldest first (check `item_for` before showing it)."""
    query = (
        select(LedgerEvent, Staff.name)
        .outerjoin(Staff, col(Staff.id) == col(LedgerEvent.staff_id))
        .where(col(LedgerEvent.item_id) == item_id)
        .order_by(col(LedgerEvent.at), col(LedgerEvent.id))
    )
    return [HistoryLine(event, str(name or "")) for event, name in (await session.exec(query))]


async def owner_names(session: AsyncSession, lines: list[HistoryLine]) -> dict[int, str]:
    """The names of the owners the history's classifications name (one query, none if none)."""
    plans = (decode_classified(line.event.note) for line in lines)
    ids = {plan.owner_id for plan in plans if plan is not None}
    if not ids:
        return {}
    query = select(col(Staff.id), col(Staff.name)).where(col(Staff.id).in_(ids))
    return {int(staff_id or 0): name for staff_id, name in await session.exec(query)}


@dataclass(frozen=True)
class DigestCounts:
    """The digest's ledger line."""

    new: int
    overdue: int
    #: Still unclassified after the rule's school days.
    unclassified_late: int
    #: Complaints with no owner after the rule's school day.
    complaints_unassigned: int

    @property
    def empty(self) -> bool:
        return not (
            self.new or self.overdue or self.unclassified_late or self.complaints_unassigned
        )


async def digest_counts(
    session: AsyncSession,
    *,
    school_id: int,
    new_since: datetime,
    today: date,
    unclassified_before: datetime,
    unassigned_before: datetime,
    complaint_ids: object,
) -> DigestCounts:
    """One statement: items new since `new_since`, active past due, unclassified since before
    `unclassified_before`, and complaints (`complaint_ids`: a SELECT of feedback ids) unowned
    since before `unassigned_before`."""
    status, created = col(LedgerItem.status), col(LedgerItem.created_at)
    unowned_complaint = and_(
        col(LedgerItem.source) == LedgerSource.FEEDBACK.value,
        col(LedgerItem.source_id).in_(complaint_ids),  # type: ignore[arg-type]
        col(LedgerItem.owner_id).is_(None),
        status != LedgerStatus.CLOSED.value,
        created < unassigned_before,
    )
    query = sa_select(
        _count(created >= new_since),
        _count(and_(status == LedgerStatus.ACTIVE.value, col(LedgerItem.due_on) < today)),
        _count(and_(status == LedgerStatus.OPEN.value, created < unclassified_before)),
        _count(unowned_complaint),
    ).where(col(LedgerItem.school_id) == school_id)
    result = await session.exec(query)  # type: ignore[call-overload]
    new, overdue, late, unowned = result.one()
    return DigestCounts(int(new or 0), int(overdue or 0), int(late or 0), int(unowned or 0))
