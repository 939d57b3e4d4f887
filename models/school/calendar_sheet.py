"""The school calendar sheet (校历) read into a plan, or every problem in it (pure rules).

One table, a header row and one row per span:

    类型      名称            开始日期     结束日期
    学年      2026-2027学年   2026-09-01   2027-08-31
    学期      第一学期        2026-09-01   2027-01-22
    寒假      寒假            2027-01-23   2027-02-21
    学期      第二学期        2027-02-22   2027-07-02
    暑假      暑假            2027-07-03   2027-08-31
    放假      运动会          2026-11-20   2026-11-20
    调休上课  国庆调休        2026-09-20

`放假` rows are the school's own days off, `调休上课` rows its make-up school days; both override
China's statutory holidays (`models.school.calendar`), which need no row. A missing end date
means one day. Dates may be typed as `2027-02-17`, `2027/2/17`, `2027.2.17`, `2027年2月17日`, or
be Excel dates (cells formatted as a date, or their serial numbers). Every problem is named by
sheet, row and column; nothing is imported until there are none.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from models.errors import CalendarError
from models.school.tables import CalendarDayKind, TermKind

#: The sheet's name in a workbook.
SHEET = "校历"

#: Row types, by what a school writes.
_YEAR = "year"
_TYPES: dict[str, str] = {
    "学年": _YEAR,
    "学期": TermKind.SEMESTER.value,
    "寒假": TermKind.WINTER_BREAK.value,
    "暑假": TermKind.SUMMER_BREAK.value,
    "放假": CalendarDayKind.OFF.value,
    "假日": CalendarDayKind.OFF.value,
    "调休上课": CalendarDayKind.SCHOOL_DAY.value,
    "补课": CalendarDayKind.SCHOOL_DAY.value,
    "上课": CalendarDayKind.SCHOOL_DAY.value,
}
#: Columns: key → accepted headers (the first is the one shown in messages).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("类型", "类别", "type"),
    "name": ("名称", "name", "说明"),
    "start": ("开始日期", "开始", "start", "日期"),
    "end": ("结束日期", "结束", "end"),
}
_REQUIRED = ("type", "start")
_DEFAULT_NAMES = {
    TermKind.WINTER_BREAK.value: "寒假",
    TermKind.SUMMER_BREAK.value: "暑假",
    CalendarDayKind.OFF.value: "放假",
    CalendarDayKind.SCHOOL_DAY.value: "调休上课",
}
#: Excel's day 0 (serial numbers count from here, Lotus's leap-year bug included).
_EXCEL_EPOCH = date(1899, 12, 30)
#: Serial numbers read as dates: 1990-01-01 … 2099-12-31 (smaller numbers are not dates here).
_SERIALS = range(32874, 73051)
_TEXT_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
#: A date typed or exported with a midnight time: `2026-09-01 00:00:00`.
_AT_MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]00:00(:00)?")
_NAMED_SEMESTERS = ("第一学期", "第二学期")


@dataclass(frozen=True)
class PlannedTerm:
    kind: TermKind
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class PlannedDay:
    kind: CalendarDayKind
    name: str
    day: date


@dataclass(frozen=True)
class CalendarPlan:
    """A school year's calendar, checked: its terms and its marked days."""

    year_name: str
    first: date
    last: date
    terms: tuple[PlannedTerm, ...]
    days: tuple[PlannedDay, ...]


def parse_date(text: str) -> date | None:
    """A date as a school types it, or as Excel stores it; None if it is not one."""
    text = unicodedata.normalize("NFKC", text).strip()
    if text.isdecimal() and int(text) in _SERIALS:
        return _EXCEL_EPOCH + timedelta(days=int(text))
    if _AT_MIDNIGHT.fullmatch(text):
        text = text[:10]
    found = _TEXT_DATE.match(text)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _letter(index: int) -> str:
    """Column A, B, … Z, AA … for a 0-based index."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class _Row:
    number: int
    kind: str
    name: str
    start: date
    end: date


def parse_calendar(rows: list[tuple[int, list[str]]], *, label: str = SHEET) -> CalendarPlan:
    """The plan in `rows` (numbered as the sheet shows them, the first one the header);
    `CalendarError` lists every problem, each with its sheet, row and column."""
    if not rows:
        raise CalendarError(
            [f"{label}：工作表是空的（第一行应是标题：类型、名称、开始日期、结束日期）"]
        )
    header_number, header = rows[0]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        for key, names in _COLUMNS.items():
            if key not in columns and _key(title) in {_key(n) for n in names}:
                columns[key] = index
    missing = [_COLUMNS[key][0] for key in _REQUIRED if key not in columns]
    if missing:
        raise CalendarError(
            [
                f"{label} 第 {header_number} 行（标题）：缺少“{name}”列"
                "（标题应为：类型、名称、开始日期、结束日期）"
                for name in missing
            ]
        )
    problems: list[str] = []
    parsed: list[_Row] = []

    def where(number: int, key: str) -> str:
        return f"{label} 第 {number} 行 {_letter(columns[key])} 列（{_COLUMNS[key][0]}）"

    def cell(values: list[str], key: str) -> str:
        index = columns.get(key)
        return values[index].strip() if index is not None and index < len(values) else ""

    for number, values in rows[1:]:
        type_text = cell(values, "type")
        kind = _TYPES.get(_key(type_text).replace(" ", ""))
        if kind is None:
            shown = f"“{type_text}”" if type_text else "空白"
            problems.append(
                f"{where(number, 'type')}：{shown}不是可用的类型"
                f"（可用：{'、'.join(dict.fromkeys(_TYPES))}）"
            )
            continue
        start_text, end_text = cell(values, "start"), cell(values, "end")
        start = parse_date(start_text)
        if start is None:
            shown = f"“{start_text}”" if start_text else "空白"
            problems.append(f"{where(number, 'start')}：{shown}不是有效日期（例如 2027-02-17）")
            continue
        end = start
        if end_text:
            found = parse_date(end_text)
            if found is None:
                problems.append(
                    f"{where(number, 'end')}：“{end_text}”不是有效日期（例如 2027-02-17）"
                )
                continue
            end = found
        if end < start:
            problems.append(
                f"{where(number, 'end')}：结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}"
            )
            continue
        parsed.append(_Row(number, kind, cell(values, "name"), start, end))

    years = [row for row in parsed if row.kind == _YEAR]
    if not years and not problems:
        problems.append(
            f"{label}：缺少“学年”一行（例如：学年 | 2026-2027学年 | 2026-09-01 | 2027-08-31）"
        )
    for extra in years[1:]:
        problems.append(f"{where(extra.number, 'type')}：一个校历只能有一个“学年”，请分开导入")
    if years:  # the rows that could be read are checked too, so every problem shows at once
        problems.extend(_check_spans(years[0], parsed, where))
    if problems:
        raise CalendarError(problems)
    year = years[0]
    return _plan(year, parsed)


def _check_spans(year: _Row, rows: list[_Row], place: Callable[[int, str], str]) -> list[str]:
    """Spans inside the school year, terms not overlapping, no day both off and a school day;
    `place(row, column)` names a cell."""
    problems: list[str] = []
    spans = [row for row in rows if row.kind not in (_YEAR,)]
    terms = [row for row in spans if row.kind in {k.value for k in TermKind}]
    if not any(row.kind == TermKind.SEMESTER.value for row in terms):
        problems.append(f"{place(year.number, 'type')}：这一学年还没有“学期”行，至少需要一个学期")
    for row in spans:
        if row.start < year.start or row.end > year.end:
            column = "start" if row.start < year.start else "end"
            problems.append(
                f"{place(row.number, column)}：{_describe(row)}"
                f"不在学年 {year.start.isoformat()} 至 {year.end.isoformat()} 之内"
            )
    ordered = sorted(terms, key=lambda row: (row.start, row.number))
    for before, after in itertools.pairwise(ordered):
        if after.start <= before.end:
            problems.append(
                f"{place(after.number, 'start')}：{_describe(after)}"
                f"与第 {before.number} 行的{_describe(before)}重叠"
            )
    marked: dict[date, _Row] = {}
    for row in (r for r in spans if r.kind in {k.value for k in CalendarDayKind}):
        day = row.start
        while day <= row.end:
            other = marked.get(day)
            if other is not None and other.kind != row.kind:
                problems.append(
                    f"{place(row.number, 'start')}：{day.isoformat()} 在第 {other.number} 行"
                    f"已是{_kind_word(other.kind)}，不能同时是{_kind_word(row.kind)}"
                )
            marked[day] = row
            day += timedelta(days=1)
    return problems


def _kind_word(kind: str) -> str:
    return "放假日" if kind == CalendarDayKind.OFF.value else "调休上课日"


def _describe(row: _Row) -> str:
    span = (
        row.start.isoformat()
        if row.start == row.end
        else f"{row.start.isoformat()} 至 {row.end.isoformat()}"
    )
    return f"“{row.name or _DEFAULT_NAMES.get(row.kind, '学期')}”（{span}）"


def _plan(year: _Row, rows: list[_Row]) -> CalendarPlan:
    terms: list[PlannedTerm] = []
    days: list[PlannedDay] = []
    semester_count = 0
    for row in sorted(rows, key=lambda r: (r.start, r.number)):
        if row.kind == _YEAR:
            continue
        if row.kind in {k.value for k in TermKind}:
            kind = TermKind(row.kind)
            name = row.name
            if kind is TermKind.SEMESTER:
                if not name:
                    name = (
                        _NAMED_SEMESTERS[semester_count]
                        if semester_count < len(_NAMED_SEMESTERS)
                        else f"第{semester_count + 1}学期"
                    )
                semester_count += 1
            terms.append(PlannedTerm(kind, name or _DEFAULT_NAMES[row.kind], row.start, row.end))
            continue
        day_kind = CalendarDayKind(row.kind)
        day = row.start
        while day <= row.end:
            days.append(PlannedDay(day_kind, row.name or _DEFAULT_NAMES[row.kind], day))
            day += timedelta(days=1)
    name = year.name or f"{year.start.year}-{year.start.year + 1}学年"
    return CalendarPlan(name, year.start, year.end, tuple(terms), tuple(days))
