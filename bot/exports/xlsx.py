"""What the .xlsx exports (`bot.exports.visits`, `bot.exports.receipts`) share: the database
migrated and opened for the command, where the file may go, which school, sheets with a bold
header row and set widths, times as Excel reads them, saving without a half-written file on
errors, and the audit entry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from models.audit.tables import audit, tags_read
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import JiafangError
from models.roster.queries import current_school
from models.school.tables import School

#: The channels as the sheets name them.
CHANNEL_LABELS = {
    "telegram": "Telegram",
    "wecom": "企业微信",
    "console": "控制台",
    "demo": "示范数据",
}


T = TypeVar("T")


class ExportError(JiafangError):
    """The export cannot run as asked (bad range, unknown class, unwritable file)."""


async def run_export(
    settings: Settings, export: Callable[[Database], Awaitable[T]], said: Callable[[T], str]
) -> int:
    """`python -m bot export …`: `export` on the configured database (migrated first, closed
    after), then `said(what it returned)` printed; the exit status."""
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        count = await export(db)
    finally:
        await db.dispose()
    print(said(count))
    return 0


def output_path(path: Path | str) -> Path:
    """The file to write, refused at once when its folder does not exist or its name does not
    end in .xlsx (the export is a workbook: a .csv name would hide what the file holds)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ExportError(
            f"导出的是 Excel 工作簿，文件名请以 .xlsx 结尾（收到的是“{path.name}”），例如 -o 家访记录.xlsx。"
        )
    if not path.parent.is_dir():
        raise ExportError(f"无法写入 {path}：目录 {path.parent} 不存在。")
    return path


async def export_school(session: AsyncSession, name: str | None) -> School:
    """The school to export (the only one, or the one named), or a clear error."""
    school = await current_school(session=session, name=name)
    if school is None or school.id is None:
        raise ExportError("数据库里还没有学校。请先导入名册，或运行 python -m bot demo。")
    return school


def bold_row(sheet: WriteOnlyWorksheet, values: Sequence[Any]) -> None:
    bold = Font(bold=True)
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    """Column widths, from column A on."""
    # Created at runtime by `Worksheet._setup`; the type stubs do not know it.
    dimensions = sheet.column_dimensions  # type: ignore[attr-defined]
    for index, width in enumerate(widths, start=1):
        dimensions[get_column_letter(index)].width = width


def table_sheet(
    workbook: Workbook, title: str, columns: Sequence[tuple[str, int]]
) -> WriteOnlyWorksheet:
    """A sheet with the (header, width) columns: bold headers, kept in view when scrolling."""
    sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    set_widths(sheet, [width for _header, width in columns])
    bold_row(sheet, [header for header, _width in columns])
    return sheet


async def save_workbook(workbook: Workbook, path: Path) -> None:
    try:
        await asyncio.to_thread(workbook.save, path)
    except OSError as exc:
        raise ExportError(f"无法写入 {path}：{exc.strerror or exc}") from exc


def excel_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: the school's local time, to the minute."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


async def save_audited(
    db: Database,
    workbook: Workbook,
    path: Path,
    *,
    action: str,
    subject: str,
    detail: str,
    actor: str = "cli",
    tags_shown: Iterable[int] = (),
) -> None:
    """Save the workbook, then record in the audit log that `actor` (the command line, or
    `staff:<id>` when a member of staff is named with --by) exported it, and (`tags_shown`)
    whose special-type tags the file holds: one statement for all of them."""
    await save_workbook(workbook, path)
    async with db.session() as session:
        await audit(session=session, actor=actor, action=action, subject=subject, detail=detail)
        await tags_read(session, actor=actor, student_ids=tags_shown, detail=action)
