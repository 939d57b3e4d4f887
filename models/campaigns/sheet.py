"""The assignment table 包保表 read from an xlsx workbook into rows (pure: bytes or an openpyxl
workbook in, rows and problems out; no database).

    校领导   年级   班级     责任教师   学生
    陈玉华   三年级 三(1)班  钱进
                   三(2)班  王芳       2026320102-2026320104
                   三(2)班  李强       2026320106、张小明

- The sheet named 包保表, else the workbook's first sheet. The header is the first row with
  anything in it; headers are matched with spaces and full-width forms folded (`HEADERS`:
  学生 and 学号 columns both list students, and may both be there). 班级 and 责任教师 are required.
- Merged cells count in every cell they cover; a blank 校领导 or 年级 cell takes the one above
  (the leader and grade are usually written once per block).
- 班级 is a class name (`三(2)班`, `3-2`, …), or just the class number (`2`, `2班`) with the
  年级 column saying the grade; a 年级 that disagrees with the 班级 is an error.
- 学生: 学号, 学号 ranges (`2026320101-2026320115`, also with ~ — 至 到) and names, separated by
  、 , ; or spaces; blank means the class's households (`models.campaigns.assignment`).

Every problem is named by sheet, row and column; `assignment_from_workbook` adds the roster's
problems (`check_assignment`) and imports nothing while any is an error.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from models.campaigns.assignment import (
    Assignment,
    AssignmentRoster,
    AssignmentRow,
    ClassKey,
    assignment_from_rows,
    check_assignment,
)
from models.campaigns.problems import HEADERS, SHEET, AssignmentInvalid, Column, Problem, errors
from models.roster.classnames import chinese_numeral, parse_class_name
from models.text import N_

_REQUIRED = (Column.CLASS, Column.TEACHER)
_FILLED_DOWN = (Column.LEADER, Column.GRADE)
_ITEM_SEPARATORS = re.compile(r"[、,，;；\s]+")
_AROUND_DASH = re.compile(r"(?<!\s)\s*(-|~|—|–|至|到)\s*")
_GRADE = re.compile(r"^(\d|[一二三四五六])(?:年级)?$")
_NUMBER = re.compile(r"^\(?(\d{1,2})\)?班?$")
_TITLES = "校领导、年级、班级、责任教师、学生"


class _Report(Protocol):
    """How `_class` reports a problem of its row."""

    def __call__(self, column: Column, message: str, **params: object) -> None: ...


@dataclass(frozen=True)
class SheetRead:
    rows: tuple[AssignmentRow, ...]
    problems: tuple[Problem, ...]


def cell_text(value: object) -> str:
    """A cell as the person typed it: 2026320101.0 → "2026320101", None → ""."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _key(text: str) -> str:
    return _fold(text).replace(" ", "").casefold()


def split_students(text: str) -> tuple[str, ...]:
    """`2026320101 - 2026320105、张小明` → (`2026320101-2026320105`, `张小明`)."""
    joined = _AROUND_DASH.sub(r"\1", _fold(text))
    return tuple(item for item in _ITEM_SEPARATORS.split(joined) if item)


def _grade(text: str) -> int | None:
    found = _GRADE.match(_fold(text).replace(" ", ""))
    return chinese_numeral(found[1]) if found else None


def read_rows(rows: Sequence[tuple[int, Sequence[str]]], *, label: str = SHEET) -> SheetRead:
    """The table's rows from cell texts numbered as the sheet shows them."""
    filled = [(n, cells) for n, cells in rows if any(c.strip() for c in cells)]
    if not filled:
        message = N_("工作表是空的（第一行应是标题：{titles}）。")
        return SheetRead((), (Problem(label, None, None, "", message, {"titles": _TITLES}),))
    header_row, header = filled[0]
    columns: dict[Column, list[int]] = {}
    accepted = {_key(name): column for column, names in HEADERS.items() for name in names}
    for index, title in enumerate(header):
        column = accepted.get(_key(title))
        if column is not None:
            columns.setdefault(column, []).append(index)
    missing = [column for column in _REQUIRED if column not in columns]
    if missing:
        problems = tuple(
            Problem(
                label,
                header_row,
                None,
                "",
                N_("缺少“{header}”列（标题应为：{titles}）。"),
                {"header": HEADERS[column][0], "titles": _TITLES},
            )
            for column in missing
        )
        return SheetRead((), problems)
    letters = {column: get_column_letter(found[0] + 1) for column, found in columns.items()}
    read: list[AssignmentRow] = []
    problems_found: list[Problem] = []
    above: dict[Column, str] = {}

    def cell(cells: Sequence[str], column: Column) -> str:
        texts = [cells[i].strip() for i in columns.get(column, []) if i < len(cells)]
        return "、".join(t for t in texts if t)

    def reporter(number: int) -> _Report:
        def report(column: Column, message: str, **params: object) -> None:
            problem = Problem(label, number, column, letters.get(column, ""), message, params)
            problems_found.append(problem)

        return report

    for number, cells in filled[1:]:
        report = reporter(number)
        values = {column: cell(cells, column) for column in Column}
        for column in _FILLED_DOWN:
            values[column] = values[column] or above.get(column, "")
            above[column] = values[column]
        klass = _class(values[Column.CLASS], values[Column.GRADE], report)
        teacher = values[Column.TEACHER]
        if not teacher:
            report(Column.TEACHER, N_("责任教师不能为空。"))
        if klass is None or not teacher:
            continue
        students = split_students(values[Column.STUDENTS])
        leader = values[Column.LEADER]
        read.append(AssignmentRow(label, number, klass, teacher, students, leader, letters))
    return SheetRead(tuple(read), tuple(problems_found))


def _class(text: str, grade_text: str, report: _Report) -> ClassKey | None:
    if not text:
        report(Column.CLASS, N_("班级不能为空。"))
        return None
    grade = _grade(grade_text) if grade_text else None
    if grade_text and grade is None:
        report(Column.GRADE, N_("无法识别的年级“{grade}”（例如 三年级）。"), grade=grade_text)
        return None
    try:
        key = parse_class_name(text)
    except ValueError:
        number = _NUMBER.match(_fold(text).replace(" ", ""))
        if number is None or grade is None:
            report(Column.CLASS, N_("无法识别的班级“{klass}”（例如 三(2)班）。"), klass=text)
            return None
        return (grade, int(number[1]))
    if grade is not None and grade != key[0]:
        report(
            Column.GRADE,
            N_("年级“{grade}”与班级“{klass}”不一致。"),
            grade=grade_text,
            klass=text,
        )
        return None
    return key


def sheet_cells(workbook: Workbook) -> tuple[str, list[tuple[int, list[str]]]]:
    """The table's sheet (包保表, else the first) as cell texts by row, merged cells filled in."""
    names = {_key(name): name for name in workbook.sheetnames}
    sheet = workbook[names.get(_key(SHEET), workbook.sheetnames[0])]
    grid = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = cell_text(sheet.cell(merged.min_row, merged.min_col).value)
        for r in range(merged.min_row, merged.max_row + 1):
            while len(grid) < r:
                grid.append([])
            line = grid[r - 1]
            line.extend([""] * (merged.max_col - len(line)))
            for c in range(merged.min_col, merged.max_col + 1):
                line[c - 1] = value
    return sheet.title, list(enumerate(grid, start=1))


def read_workbook(source: bytes | Workbook) -> SheetRead:
    """The table's rows from an xlsx file's bytes or an open workbook."""
    if isinstance(source, bytes):
        try:
            source = load_workbook(io.BytesIO(source), data_only=True)
        except Exception:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            message = N_("无法打开这个 Excel 文件，请确认它是 .xlsx 工作簿。")
            return SheetRead((), (Problem(SHEET, None, None, "", message),))
    label, cells = sheet_cells(source)
    return read_rows(cells, label=label)


def assignment_from_workbook(
    source: bytes | Workbook, roster: AssignmentRoster
) -> tuple[Assignment, list[Problem]]:
    """The assignment a 包保表 file gives, with its warnings; `AssignmentInvalid` with every
    problem of the sheet and of the roster when any is an error (nothing to import then)."""
    found = read_workbook(source)
    problems = list(found.problems)
    checked = check_assignment(found.rows, roster)
    if found.problems:
        # Rows that could not be read cover nobody: their households are not "unassigned".
        checked = [p for p in checked if p.row is not None]
    problems.extend(checked)
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    if errors(problems):
        raise AssignmentInvalid(problems)
    assignment, warnings = assignment_from_rows(found.rows, roster)
    return assignment, warnings
