"""`calendar import FILE` and `calendar show`: the school calendar (校历) from the command line.

The file is a workbook with a sheet named `校历` (a workbook with one sheet may name it anything),
or a CSV file in UTF-8 or GBK. Its layout and rules: `models.school.calendar_sheet`. Every problem
is listed by sheet, row and column, and nothing is imported until there are none; an import
replaces the school year's calendar as a whole.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.command_line import refused, school_or_say
from bot.roster.files import Rows, read_sheet_file
from bot.settings import Settings
from handlers.calendar import calendar_text
from handlers.i18n import translator
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CalendarError
from models.school.calendar_sheet import SHEET, CalendarPlan, parse_calendar
from models.school.calendar_store import replace_calendar, stored_calendar


def read_calendar_file(path: Path) -> tuple[str, Rows]:
    """(the sheet's label for messages, its rows); `FileRefused` or `CalendarError` if it cannot
    be read."""
    return read_sheet_file(path, SHEET, CalendarError)


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
