"""Reading roster files: xlsx or two CSVs, any encoding Excel in China writes, numbers as typed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.roster.files import cell_text, decode_csv, read_csv, read_roster_files
from bot.roster.importer import load_roster
from models.errors import FileRefused, RosterError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_CSVS = [EXAMPLES / "teachers.csv", EXAMPLES / "students.csv"]


def recode(source: Path, target: Path, encoding: str) -> Path:
    target.write_bytes(source.read_text(encoding="utf-8-sig").encode(encoding))
    return target


def workbook(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def refusal(files: Sequence[Path]) -> list[str]:
    """What the files' refusal says: a list of the sheets' problems, or the one line of a file
    that cannot be used at all (missing, unreadable, of another type)."""
    with pytest.raises((RosterError, FileRefused)) as refused:
        read_roster_files(files)
    error = refused.value
    return error.problems if isinstance(error, RosterError) else [str(error)]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  王芳 ", "王芳"),
        (13800138000.0, "13800138000"),
        (13800138000, "13800138000"),
        (2024001, "2024001"),
        (2024001.0, "2024001"),
        (2.5, "2.5"),
        (datetime(2024, 9, 1), "2024-09-01"),
        (date(2024, 9, 1), "2024-09-01"),
    ],
)
def test_cells_read_as_the_text_a_person_typed(value: object, text: str) -> None:
    assert cell_text(value) == text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_bytes_decode_in_every_encoding_excel_writes(encoding: str) -> None:
    text = "学号,姓名,班级\n20240101,张小明,三（1）班\n"
    assert decode_csv(text.encode(encoding)) == text


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb18030"])
def test_a_recoded_csv_reads_the_same_rows_as_the_bom_original(
    tmp_path: Path, encoding: str
) -> None:
    original = read_csv(EXAMPLE_CSVS[1])
    recoded = read_csv(recode(EXAMPLE_CSVS[1], tmp_path / "students.csv", encoding))
    assert recoded.rows == original.rows
    assert recoded.rows[0][1][0] == "学号"


def test_the_example_workbook_and_csvs_hold_the_same_roster() -> None:
    assert load_roster([EXAMPLES / "roster.xlsx"]) == load_roster(EXAMPLE_CSVS)


def test_gbk_csvs_hold_the_same_roster_as_the_workbook(tmp_path: Path) -> None:
    files = [recode(path, tmp_path / path.name, "gbk") for path in EXAMPLE_CSVS]
    assert load_roster(files) == load_roster([EXAMPLES / "roster.xlsx"])


def test_csv_files_named_otherwise_are_recognised_by_their_headers(tmp_path: Path) -> None:
    first = recode(EXAMPLE_CSVS[1], tmp_path / "名单1.csv", "utf-8")
    second = recode(EXAMPLE_CSVS[0], tmp_path / "名单2.csv", "utf-8")
    teachers, students = read_roster_files([first, second])
    assert (teachers.label, students.label) == ("名单2.csv", "名单1.csv")


def test_problems_in_a_csv_are_located_by_its_file_name(tmp_path: Path) -> None:
    teachers = tmp_path / "teachers.csv"
    teachers.write_text("工号,姓名\nT01,\n", encoding="utf-8")
    students = tmp_path / "students.csv"
    students.write_text("学号,姓名,班级\nS01,张小明,三(1)班\n", encoding="utf-8")
    with pytest.raises(RosterError) as refused:
        load_roster([teachers, students])
    assert refused.value.problems == ["teachers.csv 第2行 姓名：姓名不能为空"]


def test_numbers_typed_into_excel_become_the_right_strings(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "roster.xlsx",
        {
            "教师": [["工号", "姓名", "手机"], [1001, "王芳", 13912340001.0]],
            "学生": [
                ["学号", "姓名", "班级", "家长1姓名", "家长1手机"],
                [2024001, "张小明", "3-1", "刘梅", 13800138000.0],
            ],
        },
    )
    roster = load_roster([path])
    assert (roster.teachers[0].staff_no, roster.teachers[0].phone) == ("1001", "13912340001")
    assert roster.students[0].student_no == "2024001"
    assert roster.students[0].guardians[0].phone == "13800138000"


def test_english_sheet_names_are_accepted(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "roster.xlsx",
        {"Teachers": [["staff_no", "name"]], "Students": [["student_no", "name", "class"]]},
    )
    teachers, students = read_roster_files([path])
    assert (teachers.kind, students.kind) == ("teachers", "students")


def test_a_workbook_without_the_student_sheet_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "roster.xlsx", {"教师": [["工号", "姓名"]], "Sheet1": []})
    assert refusal([path]) == ["roster.xlsx：缺少工作表“学生”（现有工作表：教师、Sheet1）"]


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    assert refusal([path])[0].startswith("roster.xlsx：无法打开这个 Excel 文件")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert refusal([tmp_path / "roster.xlsx"]) == [f"找不到文件：{tmp_path / 'roster.xlsx'}"]


def test_an_unsupported_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"")
    assert refusal([path]) == [
        "不支持的文件类型“.xls”：请使用 .xlsx 工作簿，或 teachers.csv 和 students.csv 两个文件"
    ]


def test_a_workbook_given_with_other_files_is_refused() -> None:
    assert refusal([EXAMPLES / "roster.xlsx", EXAMPLE_CSVS[0]]) == [
        "请只给一个 .xlsx 工作簿（其中包含“教师”和“学生”两个工作表）"
    ]


def test_a_single_csv_is_refused_asking_for_the_other() -> None:
    assert refusal([EXAMPLE_CSVS[0]]) == [
        "缺少学生名单：CSV 需要 teachers.csv 和 students.csv 两个文件"
    ]


def test_two_teacher_csvs_are_refused(tmp_path: Path) -> None:
    copy = recode(EXAMPLE_CSVS[0], tmp_path / "teachers-2.csv", "utf-8")
    assert refusal([EXAMPLE_CSVS[0], copy]) == [
        "teachers.csv 和 teachers-2.csv 都是教师名单，请只给一个"
    ]


def test_a_csv_that_is_neither_teachers_nor_students_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_text("序号,备注\n1,无\n", encoding="utf-8")
    assert refusal([path, EXAMPLE_CSVS[1]])[0].startswith(
        "名单.csv：无法判断是教师名单还是学生名单"
    )
