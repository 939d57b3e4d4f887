"""Reading roster files into cell text: one `.xlsx` workbook, or `teachers.csv` + `students.csv`.

Schools in China keep rosters in Excel; its CSV export is GBK unless "UTF-8" is chosen (which
adds a BOM), and Excel stores a phone number or 学号 typed as a number as a float. This module
hides all of that: it hands `models.roster.rules` plain strings, row numbers as the spreadsheet
shows them, and which sheet is which.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook

from models.errors import FileRefused, RosterError
from models.roster.rules import header_key
from models.roster.sheets import COLUMNS, SHEET_LABELS, RawSheet, SheetKind

#: Accepted sheet names (compared as header_key) for each kind, beyond the Chinese label.
_SHEET_NAMES: dict[SheetKind, tuple[str, ...]] = {
    "teachers": ("教师", "teachers", "teacher", "老师"),
    "students": ("学生", "students", "student"),
}
#: Words in a CSV file name that tell which sheet it is.
_FILE_WORDS: dict[SheetKind, tuple[str, ...]] = {
    "teachers": ("teacher", "教师", "老师", "staff"),
    "students": ("student", "学生", "pupil"),
}


def cell_text(value: object) -> str:
    """A cell value as the person typed it: 13800138000.0 → "13800138000", None → ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — a superset of the GBK Excel writes in China."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def numbered_rows(rows: Iterable[Sequence[object]]) -> list[tuple[int, list[str]]]:
    """Rows as cell text, numbered as the spreadsheet shows them; blank rows left out."""
    return [
        (number, [cell_text(v) for v in row])
        for number, row in enumerate(rows, start=1)
        if any(v is not None and str(v).strip() for v in row)
    ]


def read_csv(path: Path, kind: SheetKind | None = None) -> RawSheet:
    """One CSV file; its kind from the file name or, failing that, from its header row."""
    text = decode_csv(read_bytes(path))
    rows = numbered_rows(csv.reader(io.StringIO(text, newline="")))
    found = kind or _kind_from_name(path.name) or _kind_from_header(rows)
    if found is None:
        raise RosterError(
            [
                f"{path.name}：无法判断是教师名单还是学生名单，"
                "请把文件命名为 teachers.csv / students.csv，或检查标题行（工号 / 学号）"
            ]
        )
    return RawSheet(label=path.name, kind=found, rows=rows)


def _kind_from_name(name: str) -> SheetKind | None:
    lowered = name.casefold()
    matches = [k for k, words in _FILE_WORDS.items() if any(w in lowered for w in words)]
    return matches[0] if len(matches) == 1 else None


def _kind_from_header(rows: list[tuple[int, list[str]]]) -> SheetKind | None:
    if not rows:
        return None
    header = {header_key(cell) for cell in rows[0][1]}
    matches = [
        kind
        for kind, columns in COLUMNS.items()
        if any(header_key(name) in header for name in columns[0].names)  # 工号 / 学号
    ]
    return matches[0] if len(matches) == 1 else None


def open_workbook(path: Path) -> Workbook:
    """The workbook at `path` (read-only, values not formulas), or `FileRefused` saying why not."""
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise FileRefused(
            f"{path.name}：无法打开这个 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 工作簿"
        ) from exc


Rows = list[tuple[int, list[str]]]


def read_sheet_file(
    path: Path, sheet: str, missing_sheet: Callable[[list[str]], Exception]
) -> tuple[str, Rows]:
    """(the sheet's label for messages, its rows) of a one-sheet file: a CSV file (UTF-8 or GBK),
    or the sheet named `sheet` of a workbook (a workbook with one sheet may name it anything).
    `FileRefused` when the file cannot be read; `missing_sheet([message])` when the workbook
    has no such sheet."""
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
    workbook = open_workbook(path)
    try:
        names = workbook.sheetnames
        found = next((n for n in names if header_key(n) == header_key(sheet)), None)
        if found is None and len(names) == 1:
            found = names[0]
        if found is None:
            raise missing_sheet(
                [f"{path.name}：缺少工作表“{sheet}”（现有工作表：{'、'.join(names) or '无'}）"]
            )
        return found, numbered_rows(workbook[found].iter_rows(values_only=True))
    finally:
        workbook.close()


def read_workbook(path: Path) -> tuple[RawSheet, RawSheet]:
    """The `教师` and `学生` sheets of a workbook (English sheet names accepted too)."""
    workbook = open_workbook(path)
    try:
        by_key = {header_key(name): name for name in workbook.sheetnames}
        sheets: dict[SheetKind, RawSheet] = {}
        missing: list[str] = []
        for kind, names in _SHEET_NAMES.items():
            title = next((by_key[header_key(n)] for n in names if header_key(n) in by_key), None)
            if title is None:
                missing.append(SHEET_LABELS[kind])
                continue
            rows = numbered_rows(workbook[title].iter_rows(values_only=True))
            sheets[kind] = RawSheet(label=SHEET_LABELS[kind], kind=kind, rows=rows)
    finally:
        workbook.close()
    if missing:
        present = "、".join(workbook.sheetnames) or "无"
        raise RosterError(
            [f"{path.name}：缺少工作表“{name}”（现有工作表：{present}）" for name in missing]
        )
    return sheets["teachers"], sheets["students"]


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or `FileRefused` saying why they cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"无法读取 {path}：{exc.strerror or type(exc).__name__}") from exc


def read_roster_files(files: Sequence[Path]) -> tuple[RawSheet, RawSheet]:
    """(teachers, students) from one workbook or two CSV files; RosterError says what is wrong."""
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise FileRefused(f"找不到文件：{'、'.join(missing)}")
    suffixes = {path.suffix.lower() for path in files}
    unsupported = suffixes - {".xlsx", ".csv"}
    if unsupported:
        kinds = "、".join(f"“{suffix or '（无扩展名）'}”" for suffix in sorted(unsupported))
        raise FileRefused(
            f"不支持的文件类型{kinds}：请使用 .xlsx 工作簿，或 teachers.csv 和 students.csv 两个文件"
        )
    if ".xlsx" in suffixes:
        if len(files) != 1:
            raise FileRefused("请只给一个 .xlsx 工作簿（其中包含“教师”和“学生”两个工作表）")
        return read_workbook(files[0])
    sheets = [read_csv(path) for path in files]
    by_kind: dict[SheetKind, RawSheet] = {}
    for sheet in sheets:
        if sheet.kind in by_kind:
            raise RosterError(
                [
                    f"{by_kind[sheet.kind].label} 和 {sheet.label} 都是{SHEET_LABELS[sheet.kind]}名单，请只给一个"
                ]
            )
        by_kind[sheet.kind] = sheet
    absent = [SHEET_LABELS[k] for k in _SHEET_NAMES if k not in by_kind]
    if absent:
        raise RosterError(
            [f"缺少{label}名单：CSV 需要 teachers.csv 和 students.csv 两个文件" for label in absent]
        )
    return by_kind["teachers"], by_kind["students"]
