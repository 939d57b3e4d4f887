"""`calendar import FILE` and `calendar show`: the school calendar (校历) from the command line.

The file is a workbook with a sheet named `校历` (a workbook with one sheet may name it anything),
or a CSV file in UTF-8 or GBK. Its layout and rules: `models.school.calendar_sheet`. Every problem
is listed by sheet, row and column, and nothing is imported until there are none; an import
replaces the school year's calendar as a whole.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.command_line import refused, school_or_say
from bot.roster.files import decode_csv, numbered_rows, read_bytes
from bot.settings import Settings
from handlers.calendar import calendar_text
from handlers.i18n import translator
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CalendarError, FileRefused
from models.roster.rules import header_key
from models.school.calendar_sheet import SHEET, CalendarPlan, parse_calendar
from models.school.calendar_store import replace_calendar, stored_calendar

Rows = list[tuple[int, list[str]]]


def read_calendar_file(path: Path) -> tuple[str, Rows]:
    """(the sheet's label for messages, its rows); `CalendarError` if it cannot be read."""
    if not path.is_file():
        raise FileRefused(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = decode_csv(read_bytes(path))
        return path.name, numbered_rows(csv.reader(io.StringIO(text, newline="")))
    if suffix != ".xlsx":
        raise FileRefused(
            f"不支持的文件类型“{suffix or '（无扩展名）'}”：请使用 .xlsx 工作簿或 .csv 文件"
        )
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise FileRefused(
            f"{path.name}：无法打开这个 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 工作簿"
        ) from exc
    try:
        names = workbook.sheetnames
        found = next((n for n in names if header_key(n) == header_key(SHEET)), None)
        if found is None and len(names) == 1:
            found = names[0]
        if found is None:
            raise CalendarError(
                [f"{path.name}：缺少工作表“{SHEET}”（现有工作表：{'、'.join(names) or '无'}）"]
            )
        return found, numbered_rows(workbook[found].iter_rows(values_only=True))
    finally:
        workbook.close()


def load_calendar(path: Path) -> CalendarPlan:
    label, rows = read_calendar_file(path)
    return parse_calendar(rows, label=label)


def plan_summary(plan: CalendarPlan, school: str) -> str:
    semesters = sum(1 for term in plan.terms if term.kind.value == "semester")
    breaks = "、".join(term.name for term in plan.terms if term.kind.value != "semester") or "无"
    off = sum(1 for day in plan.days if day.kind.value == "off")
    make_up = len(plan.days) - off
    return (
        f"已导入「{school}」{plan.year_name}校历：{semesters} 个学期，假期 {breaks}；"
        f"学校放假 {off} 天，调休上课 {make_up} 天。发送 /calendar 或运行 calendar show 查看。"
    )


async def run_calendar_import(settings: Settings, path: Path, *, school_name: str | None) -> int:
    """Exit status 0 when imported, 1 when the file has problems (nothing changed)."""
    try:
        plan = await asyncio.to_thread(load_calendar, path)
    except CalendarError as exc:
        return refused(exc.problems, "校历")
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        async with db.session() as session:
            await replace_calendar(
                session=session, school_id=school.id or 0, plan=plan, actor="cli"
            )
    finally:
        await db.dispose()
    print(plan_summary(plan, school.name))
    return 0


async def run_calendar_show(
    settings: Settings, *, school_name: str | None, today: date | None = None
) -> int:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        async with db.session() as session:
            stored = await stored_calendar(session=session, school_id=school.id or 0)
    finally:
        await db.dispose()
    day = today or datetime.now(ZoneInfo(school.timezone)).date()
    print(calendar_text(translator("zh"), stored, day, "zh"))
    return 0 if stored.covers(day) else 1
