"""`export ledger --from DATE --to DATE [--status open|active|closed] -o FILE.xlsx`: the problem
ledger 问题台账 for 德育处, as an .xlsx workbook.

Sheet 台账 has one row per item recorded in the date range (school's local dates, inclusive), with
its source, class, student, description, classification, owner, due date, status and how it was
closed; sheet 处理记录 has one row per event of those items (who did what, when, with the note).
Two streamed queries (and one of staff names) whatever the ledger's size, labels in Chinese, real Excel dates and times,
and the export is audited like the others.

Parents' feedback: the description of a feedback item is the parent's own text; nothing else about
its author is read — guardians are never joined, so an anonymous parent cannot be told apart from
a named one here (and an anonymous one has nothing stored to find).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.exports.visits import check_range
from bot.exports.xlsx import (
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.settings import Settings
from models.db.engine import Database
from models.ledger.handling import decode_classified, split_outcome
from models.ledger.tables import (
    EVENT_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerSource,
    LedgerStatus,
)
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass

ITEMS_SHEET = "台账"
EVENTS_SHEET = "处理记录"
#: (header, column width) in sheet order.
ITEM_COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 8),
    ("登记时间", 18),
    ("来源", 12),
    ("班级", 10),
    ("学生", 10),
    ("问题描述", 40),
    ("分类", 10),
    ("负责人", 10),
    ("截止日期", 12),
    ("状态", 8),
    ("办结时间", 18),
    ("办结结果", 14),
)
EVENT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 8),
    ("时间", 18),
    ("经办人", 10),
    ("事项", 10),
    ("内容", 50),
)
#: The status filter as the command line writes it.
STATUS_CHOICES = tuple(s.value for s in LedgerStatus)
FETCH_SIZE = 2000

_Owner = aliased(Staff)


def _items(
    school_id: int, start: datetime, end: datetime, status: LedgerStatus | None
) -> Select[*tuple[Any, ...]]:
    """The items recorded in [start, end), oldest first: no guardian is ever joined."""
    query = (
        select(
            col(LedgerItem.id),
            col(LedgerItem.created_at),
            col(LedgerItem.source),
            col(SchoolClass.name),
            col(Student.name),
            col(LedgerItem.description),
            col(LedgerItem.kind),
            col(_Owner.name),
            col(LedgerItem.due_on),
            col(LedgerItem.status),
            col(LedgerItem.closed_at),
            col(LedgerItem.outcome),
        )
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(LedgerItem.class_id))
        .outerjoin(Student, col(Student.id) == col(LedgerItem.student_id))
        .outerjoin(_Owner, col(_Owner.id) == col(LedgerItem.owner_id))
        .where(
            col(LedgerItem.school_id) == school_id,
            col(LedgerItem.created_at) >= start,
            col(LedgerItem.created_at) < end,
        )
    )
    if status is not None:
        query = query.where(col(LedgerItem.status) == status.value)
    return query.order_by(col(LedgerItem.created_at), col(LedgerItem.id))


def _events(items: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The events of `items`, item by item, in the order they happened."""
    ids = items.with_only_columns(col(LedgerItem.id)).order_by(None)
    return (
        select(
            col(LedgerEvent.item_id),
            col(LedgerEvent.at),
            col(Staff.name),
            col(LedgerEvent.kind),
            col(LedgerEvent.note),
        )
        .outerjoin(Staff, col(Staff.id) == col(LedgerEvent.staff_id))
        .where(col(LedgerEvent.item_id).in_(ids))
        .order_by(col(LedgerEvent.item_id), col(LedgerEvent.at), col(LedgerEvent.id))
    )


def item_cells(row: Any, zone: ZoneInfo) -> list[Any]:
    (
        item_id,
        created_at,
        source,
        class_name,
        student_name,
        description,
        kind,
        owner,
        due_on,
        status,
        closed_at,
        outcome,
    ) = row
    return [
        item_id,
        excel_time(created_at, zone),
        SOURCE_LABELS[LedgerSource(source)],
        class_name,
        student_name,
        description,
        KIND_LABELS[LedgerKind(kind)] if kind else None,
        owner,
        due_on,
        STATUS_LABELS[LedgerStatus(status)],
        excel_time(closed_at, zone),
        OUTCOME_LABELS[LedgerOutcome(outcome)] if outcome else None,
    ]


def classification_text(note: str, staff_names: Mapping[int, str]) -> str:
    """A `classified` event's note (`Classification.encode`) in words: `跟踪解决，负责人 王芳，
    截止 2026-11-30，每7天记录一次进展`."""
    plan = decode_classified(note)
    if plan is None:
        return note
    words = [KIND_LABELS[plan.kind]]
    if plan.owner_id in staff_names:
        words.append(f"负责人 {staff_names[plan.owner_id]}")
    words.append(f"截止 {plan.due_on.isoformat()}")
    if plan.follow_every_days:
        words.append(f"每{plan.follow_every_days}天记录一次进展")
    if plan.escalated_to:
        words.append(f"上报至{plan.escalated_to}")
    return "，".join(words)


def event_content(kind: LedgerEventKind, note: str, staff_names: Mapping[int, str]) -> str:
    if kind is LedgerEventKind.CLOSED:
        outcome, text = split_outcome(note)
        return f"{OUTCOME_LABELS[outcome]}：{text}" if outcome is not None else text
    if kind is LedgerEventKind.CLASSIFIED:
        return classification_text(note, staff_names)
    return note


def event_cells(row: Any, zone: ZoneInfo, staff_names: Mapping[int, str]) -> list[Any]:
    item_id, at, staff_name, kind, note = row
    event = LedgerEventKind(kind)
    return [
        item_id,
        excel_time(at, zone),
        staff_name,
        EVENT_LABELS[event],
        event_content(event, note, staff_names) or None,
    ]


def _blank(values: list[Any]) -> list[Any]:
    return [None if value == "" else value for value in values]


def local_span(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the first day's local midnight to the midnight after the last day."""
    return (
        datetime.combine(date_from, time(0), zone),
        datetime.combine(date_to + timedelta(days=1), time(0), zone),
    )


async def export_ledger(
    db: Database,
    *,
    date_from: date,
    date_to: date,
    status: LedgerStatus | None,
    path: Path,
    school_name: str | None = None,
) -> int:
    """Write the items recorded `date_from`..`date_to` and their history to `path`; returns the
    number of items."""
    check_range(date_from, date_to)
    path = output_path(path)
    count = 0
    async with db.session() as session:
        school = await export_school(session, school_name)
        zone = ZoneInfo(school.timezone)
        items = _items(school.id or 0, *local_span(date_from, date_to, zone), status)
        workbook = Workbook(write_only=True)
        sheet = table_sheet(workbook, ITEMS_SHEET, ITEM_COLUMNS)
        async for row in await session.stream(items.execution_options(yield_per=FETCH_SIZE)):
            sheet.append(_blank(item_cells(row, zone)))
            count += 1
        history = table_sheet(workbook, EVENTS_SHEET, EVENT_COLUMNS)
        staff = await session.exec(
            sqlmodel_select(Staff.id, Staff.name).where(Staff.school_id == school.id)
        )
        names = {int(staff_id or 0): name for staff_id, name in staff.all()}
        events = _events(items).execution_options(yield_per=FETCH_SIZE)
        async for row in await session.stream(events):
            history.append(_blank(event_cells(row, zone, names)))
    scope = STATUS_LABELS[status] if status is not None else "全部"
    await save_audited(
        db,
        workbook,
        path,
        action="export.ledger",
        subject=f"school:{school.id}",
        detail=f"{date_from.isoformat()}~{date_to.isoformat()} {scope} {count} items",
    )
    return count


async def run_export_ledger(
    settings: Settings,
    *,
    date_from: date,
    date_to: date,
    status: str | None,
    output: Path,
) -> int:
    """`python -m bot export ledger …`: export and say what was written."""
    check_range(date_from, date_to)
    wanted = LedgerStatus(status) if status else None
    span = f"{date_from.isoformat()} 至 {date_to.isoformat()}"
    label = STATUS_LABELS[wanted] if wanted is not None else ""

    def said(count: int) -> str:
        if count == 0:
            which = f"状态为{label}的" if label else ""
            return f"{span} 期间没有登记{which}台账；已写出只有表头的文件 {output}。"
        scope = f"，{label}" if label else ""
        return f"已导出 {count} 条台账及其处理记录（{span} 登记{scope}）到 {output}。"

    return await run_export(
        settings,
        lambda db: export_ledger(
            db,
            date_from=date_from,
            date_to=date_to,
            status=wanted,
            path=output,
            school_name=settings.school_name,
        ),
        said,
    )
