"""`python -m bot audit export --by 工号 --from … --to … -o FILE.xlsx`: the audit log of a date
range as one sheet, for the principal only (the matrix's `AUDIT_EXPORT`).

Who did it is named as the school reads it: a staff member's name and 工号, 家长 for any guardian
(never a guardian's name or phone), 命令行 for the command line. Actions get their Chinese label
(`models.audit.labels`), students their class and name (已删除学生 once erased). Rows are streamed
from the database into openpyxl's write-only mode, so a long log exports with flat memory; the
export is itself an entry of the log (`export.audit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Select, select
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.command_line import school_or_say
from bot.exports.visits import check_range
from bot.exports.xlsx import output_path, save_workbook, table_sheet
from bot.settings import Settings
from models.audit.labels import action_label, subject_label
from models.audit.tables import AuditEntry, audit
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused
from models.permissions.matrix import Action, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Staff, Student
from models.school.tables import School, SchoolClass

COLUMNS: tuple[tuple[str, int], ...] = (
    ("时间", 20),
    ("操作人", 16),
    ("操作", 24),
    ("对象", 16),
    ("学生", 16),
    ("说明", 40),
)
HEADERS = tuple(header for header, _width in COLUMNS)
#: Rows fetched from the database per round trip while streaming.
FETCH_SIZE = 2000
GUARDIAN = "家长"
COMMAND_LINE = "命令行"
SCHEDULED = "定时任务"
ERASED = "已删除学生"


@dataclass(frozen=True)
class Exported:
    rows: int
    by: str


async def exporter(db: Database, school: School, staff_no: str) -> Staff:
    """The staff member named by `--by`, refused unless the matrix lets them export the log."""
    async with db.session() as session:
        query = sqlmodel_select(Staff).where(
            col(Staff.school_id) == school.id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no.strip()}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), Action.AUDIT_EXPORT):
        raise CommandRefused(
            f"{staff.name}（工号 {staff.staff_no}）不是校长：审计日志只有校长可以导出。"
        )
    return staff


def actor_label(actor: str, staff: Mapping[int, tuple[str, str]]) -> str:
    """`staff:7` → `王芳（T01）`; any guardian → 家长; `cli` → 命令行; `job` → 定时任务; else as
    written."""
    kind, _sep, ref = actor.partition(":")
    if kind == "guardian":
        return GUARDIAN
    if actor == "cli":
        return COMMAND_LINE
    if actor == "job":
        return SCHEDULED
    if kind == "staff" and ref.isdigit() and int(ref) in staff:
        name, staff_no = staff[int(ref)]
        return f"{name}（{staff_no}）"
    return actor


def student_label(
    student_id: int | None, class_name: str | None, name: str | None, erased: datetime | None
) -> str:
    """`三(2)班 张小明`; 已删除学生 once erased (or gone); "" when no student is concerned."""
    if student_id is None:
        return ""
    if name is None or erased is not None:
        return ERASED
    return f"{class_name or ''} {name}".strip()


def _query(start: datetime, end: datetime) -> Select[*tuple[Any, ...]]:
    return (
        select(
            col(AuditEntry.at),
            col(AuditEntry.actor),
            col(AuditEntry.action),
            col(AuditEntry.subject),
            col(AuditEntry.detail),
            col(AuditEntry.student_id),
            col(SchoolClass.name),
            col(Student.name),
            col(Student.erased_at),
        )
        .outerjoin(Student, col(Student.id) == col(AuditEntry.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(col(AuditEntry.at) >= start, col(AuditEntry.at) < end)
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
        .execution_options(yield_per=FETCH_SIZE)
    )


def sheet_row(row: Any, zone: ZoneInfo, staff: Mapping[int, tuple[str, str]]) -> list[Any]:
    at, actor, action, subject, detail, student_id, class_name, name, erased = row
    return [
        at.astimezone(zone).replace(tzinfo=None, microsecond=0),
        actor_label(actor, staff),
        action_label(action),
        subject_label(subject) or None,
        student_label(student_id, class_name, name, erased) or None,
        detail or None,
    ]


async def export_audit(
    db: Database,
    school: School,
    *,
    staff_no: str,
    date_from: date,
    date_to: date,
    path: Path,
) -> Exported:
    """Write the log of `date_from`..`date_to` (the school's days, inclusive) to `path`."""
    check_range(date_from, date_to)
    path = output_path(path)
    by = await exporter(db, school, staff_no)
    zone = ZoneInfo(school.timezone)
    start = datetime.combine(date_from, time(0), tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=zone)
    count = 0
    async with db.session() as session:
        names = await session.exec(
            sqlmodel_select(col(Staff.id), col(Staff.name), col(Staff.staff_no)).where(
                col(Staff.school_id) == school.id
            )
        )
        staff = {int(i or 0): (n, no) for i, n, no in names}
        workbook = Workbook(write_only=True)
        sheet = table_sheet(workbook, "审计日志", COLUMNS)
        async for row in await session.stream(_query(start, end)):
            sheet.append(sheet_row(row, zone, staff))
            count += 1
    await save_workbook(workbook, path)
    async with db.session() as session:
        await audit(
            session=session,
            actor=f"staff:{by.id}",
            action="export.audit",
            subject=f"school:{school.id}",
            detail=f"{date_from.isoformat()}~{date_to.isoformat()} {count} rows (command line)",
        )
    return Exported(count, f"{by.name}（{by.staff_no}）")


async def run_audit_export(
    settings: Settings,
    *,
    staff_no: str,
    date_from: date,
    date_to: date,
    output: Path,
    school_name: str | None = None,
) -> int:
    """`python -m bot audit export …`: export and say what was written; the exit status."""
    check_range(date_from, date_to)
    output_path(output)
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        done = await export_audit(
            db, school, staff_no=staff_no, date_from=date_from, date_to=date_to, path=output
        )
    finally:
        await db.dispose()
    span = f"{date_from.isoformat()} 至 {date_to.isoformat()}"
    print(f"已导出审计日志 {done.rows} 条（{span}，导出人：{done.by}）到 {output}。")
    return 0
