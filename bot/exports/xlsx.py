"""What the .xlsx exports (`bot.exports.visits`, `bot.exports.receipts`) share: where the file may go,
which school, sheets with a bold header row and set widths, and saving without a half-written
file on errors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import JiafangError
from models.roster.queries import current_school
from models.school.tables import School


class ExportError(JiafangError):
    """The export cannot run as asked (bad range, unknown class, unwritable file)."""


def output_path(path: Path | str) -> Path:
    """The file to write, refused at once when its folder does not exist."""
    path = Path(path)
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
