"""Reading the 包保表 from an xlsx file (models/campaigns/sheet.py): Chinese headers, merged and
blank leader / grade cells, 学号 ranges, and every problem by sheet, row and column."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from openpyxl import Workbook

from models.campaigns.problems import AssignmentInvalid, Column
from models.campaigns.sheet import (
    assignment_from_workbook,
    read_rows,
    read_workbook,
    split_students,
)
from tests.helpers.campaigns import ROSTER

HEADER = ["校领导", "年级", "班级", "责任教师", "学生"]
TABLE: list[list[object]] = [
    [*HEADER],
    ["陈玉华", "三年级", "三(1)班", "钱进", None],
    [None, None, "三(2)班", "王芳", "2026320102 - 2026320104"],
    [None, None, "2班", "李强", 2026320106],
    ["马志山", "四年级", "四(1)班", "孙丽", ""],
]


def workbook(rows: Sequence[Sequence[object]], *, title: str = "包保表") -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for line in rows:
        sheet.append(list(line))
    return book


def as_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_clean_file_gives_every_household_its_teacher() -> None:
    assignment, warnings = assignment_from_workbook(as_bytes(workbook(TABLE)), ROSTER)
    assert warnings == []
    assert {r.household: r.teacher_id for r in assignment.responsible} == {
        1: 5, 2: 4, 3: 4, 4: 4, 5: 1, 6: 1, 7: 1, 8: 5, 9: 5, 10: 2,
    }  # fmt: skip
    assert {r.household: r.leader for r in assignment.responsible}[5] == "陈玉华"


def test_rows_are_read_with_the_leader_and_grade_carried_down() -> None:
    read = read_workbook(workbook(TABLE))
    assert read.problems == ()
    assert [(r.row, r.leader, r.klass, r.teacher, r.students) for r in read.rows] == [
        (2, "陈玉华", (3, 1), "钱进", ()),
        (3, "陈玉华", (3, 2), "王芳", ("2026320102-2026320104",)),
        (4, "陈玉华", (3, 2), "李强", ("2026320106",)),
        (5, "马志山", (4, 1), "孙丽", ()),
    ]
    assert read.rows[0].letters[Column.TEACHER] == "D"


def test_merged_cells_count_in_every_row_they_cover() -> None:
    book = workbook(
        [
            ["包保领导", "班级", "责任教师", "学号"],
            ["侯志胜", "三(1)班", "钱进", ""],
            [None, "三(2)班", "王芳", ""],
        ]
    )
    sheet = book.active
    assert sheet is not None
    sheet.merge_cells("A2:A3")
    read = read_workbook(as_bytes(book))
    assert [r.leader for r in read.rows] == ["侯志胜", "侯志胜"]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (["班级", "责 任 教 师"], Column.TEACHER),
        (["班级", "包保教师"], Column.TEACHER),
        (["班 级", "教师"], Column.CLASS),
    ],
)
def test_headers_are_matched_with_spaces_and_aliases(header: list[str], column: Column) -> None:
    read = read_rows([(1, header), (2, ["三(1)班", "钱进"])])
    assert read.problems == ()
    assert read.rows[0].klass == (3, 1) and read.rows[0].teacher == "钱进"
    assert column in read.rows[0].letters


def test_the_student_and_number_columns_are_read_together() -> None:
    read = read_rows(
        [
            (1, ["班级", "学生", "学号", "责任教师"]),
            (2, ["三(2)班", "张小明", "2026320102", "王芳"]),
        ]
    )
    assert read.rows[0].students == ("张小明", "2026320102")


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("2026320101 - 2026320105、张小明，王五", ("2026320101-2026320105", "张小明", "王五")),
        ("２０２６３２０１０１～２０２６３２０１０５", ("2026320101~2026320105",)),
        ("2026320101 至 2026320105", ("2026320101至2026320105",)),
        ("张小明 王五;李八\n赵六", ("张小明", "王五", "李八", "赵六")),
        ("", ()),
    ],
    ids=["dash, names", "full width", "至", "spaces and lines", "blank"],
)
def test_a_students_cell_is_split_into_items(text: str, items: tuple[str, ...]) -> None:
    assert split_students(text) == items


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            ["", "三年级", "", "钱进", ""],
            (Column.CLASS, "C", "班级不能为空。", {}),
        ),
        (
            ["", "三年级", "三(1)班", "", ""],
            (Column.TEACHER, "D", "责任教师不能为空。", {}),
        ),
        (
            ["", "四年级", "三(2)班", "王芳", ""],
            (
                Column.GRADE,
                "B",
                "年级“{grade}”与班级“{klass}”不一致。",
                {"grade": "四年级", "klass": "三(2)班"},
            ),
        ),
        (
            ["", "", "2班", "王芳", ""],
            (Column.CLASS, "C", "无法识别的班级“{klass}”（例如 三(2)班）。", {"klass": "2班"}),
        ),
        (
            ["", "七年级", "2班", "王芳", ""],
            (Column.GRADE, "B", "无法识别的年级“{grade}”（例如 三年级）。", {"grade": "七年级"}),
        ),
    ],
    ids=["no class", "no teacher", "grade disagrees", "a class number without grade", "grade 7"],
)
def test_a_row_that_cannot_be_read_is_named_by_row_and_column(
    cells: list[str], expected: tuple[Column, str, str, dict[str, object]]
) -> None:
    read = read_rows([(1, HEADER), (2, cells)])
    assert read.rows == ()
    assert [(p.row, p.column, p.letter, p.message, dict(p.params)) for p in read.problems] == [
        (2, *expected)
    ]


def test_a_missing_required_column_is_named_at_the_header_row() -> None:
    read = read_rows([(3, ["校领导", "班级", "学生"]), (4, ["陈玉华", "三(1)班", ""])])
    assert [(p.row, p.message, p.params["header"]) for p in read.problems] == [
        (3, "缺少“{header}”列（标题应为：{titles}）。", "责任教师")
    ]


def test_an_empty_sheet_says_what_the_header_should_be() -> None:
    read = read_rows([(1, ["", ""])])
    assert [str(p) for p in read.problems] == [
        "包保表：工作表是空的（第一行应是标题：校领导、年级、班级、责任教师、学生）。"
    ]


def test_a_file_that_is_not_a_workbook_is_one_clear_problem() -> None:
    read = read_workbook(b"not an xlsx file")
    assert [str(p) for p in read.problems] == [
        "包保表：无法打开这个 Excel 文件，请确认它是 .xlsx 工作簿。"
    ]


def test_the_sheet_named_for_the_table_is_read_before_the_first() -> None:
    book = workbook([["说明"], ["请在包保表中填写"]], title="说明")
    table = book.create_sheet("包保表")
    for line in TABLE:
        table.append(list(line))
    read = read_workbook(book)
    assert len(read.rows) == 4 and read.problems == ()


def test_a_teacher_not_in_the_roster_stops_the_import_with_the_cell_named() -> None:
    rows: list[list[object]] = [*TABLE[:4], ["马志山", "四年级", "四(1)班", "李四", ""]]
    with pytest.raises(AssignmentInvalid) as invalid:
        assignment_from_workbook(workbook(rows), ROSTER)
    assert [str(p) for p in invalid.value.problems] == [
        "包保表 第 5 行 D 列（责任教师）：教师名单中没有“李四”。"
    ]


def test_rows_that_cannot_be_read_do_not_also_list_their_households_as_unassigned() -> None:
    rows: list[list[object]] = [*TABLE[:4], ["马志山", "四年级", "四(1)班", "", ""]]
    with pytest.raises(AssignmentInvalid) as invalid:
        assignment_from_workbook(workbook(rows), ROSTER)
    assert [str(p) for p in invalid.value.problems] == [
        "包保表 第 5 行 D 列（责任教师）：责任教师不能为空。"
    ]


def test_problems_of_the_sheet_and_of_the_roster_come_together_in_row_order() -> None:
    rows: list[list[object]] = [
        *TABLE[:2],
        [None, None, "三(2)班", "王芳", "2026320102-2026320104"],
        [None, None, "", "李强", ""],
        TABLE[4],
    ]
    rows[1] = ["陈玉华", "三年级", "三(1)班", "李四", None]
    with pytest.raises(AssignmentInvalid) as invalid:
        assignment_from_workbook(workbook(rows), ROSTER)
    assert [(p.row, p.column) for p in invalid.value.problems] == [
        (2, Column.TEACHER),
        (4, Column.CLASS),
    ]
