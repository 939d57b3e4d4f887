"""Roster validation: what a valid row is, and every problem located by sheet, row and column."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from models.roster.rules import parse_roles, parse_tags, split_list, validate_roster
from models.roster.sheets import (
    SHEET_LABELS,
    GuardianEntry,
    RawSheet,
    Roster,
    RosterInvalid,
    SheetKind,
)

TEACHER_HEADER = ["工号", "姓名", "手机", "班主任", "任教", "角色"]
TEACHER = ["T01", "王芳", "13912340001", "三(2)班", "三(1)班:数学", ""]
STUDENT_HEADER = [
    "学号",
    "姓名",
    "班级",
    "特殊类型",
    "家长1姓名",
    "家长1关系",
    "家长1手机",
    "家长2姓名",
    "家长2关系",
    "家长2手机",
]
STUDENT = ["S01", "张小明", "三(2)班", "", "刘梅", "母亲", "13800000001", "", "", ""]


def sheet(kind: SheetKind, header: Sequence[str], *rows: Sequence[str]) -> RawSheet:
    numbered = [(n, list(cells)) for n, cells in enumerate([header, *rows], start=1)]
    return RawSheet(label=SHEET_LABELS[kind], kind=kind, rows=numbered)


def validate(
    teachers: Sequence[Sequence[str]] = (TEACHER,),
    students: Sequence[Sequence[str]] = (STUDENT,),
    *,
    teacher_header: Sequence[str] = TEACHER_HEADER,
    student_header: Sequence[str] = STUDENT_HEADER,
) -> Roster:
    return validate_roster(
        sheet("teachers", teacher_header, *teachers),
        sheet("students", student_header, *students),
    )


def problems_of(
    teachers: Sequence[Sequence[str]] = (TEACHER,),
    students: Sequence[Sequence[str]] = (STUDENT,),
    **headers: Sequence[str],
) -> list[str]:
    with pytest.raises(RosterInvalid) as invalid:
        validate(teachers, students, **headers)
    return [str(problem) for problem in invalid.value.problems]


def with_cell(row: Sequence[str], header: Sequence[str], column: str, value: str) -> list[str]:
    changed = list(row)
    changed[list(header).index(column)] = value
    return changed


# --- cell rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("", []),
        ("三(1)班", ["三(1)班"]),
        ("三(1)班;三(2)班", ["三(1)班", "三(2)班"]),
        ("三(1)班；三(2)班", ["三(1)班", "三(2)班"]),
        ("三(1)班, 三(2)班", ["三(1)班", "三(2)班"]),
        ("三(1)班，三(2)班、四(1)班", ["三(1)班", "三(2)班", "四(1)班"]),
        ("贫困;;  ;留守", ["贫困", "留守"]),
    ],
)
def test_list_cells_split_on_any_usual_separator(text: str, items: list[str]) -> None:
    assert split_list(text) == items


@pytest.mark.parametrize(
    ("text", "roles", "unknown"),
    [
        ("", "", []),
        ("管理员", "admin", []),
        ("德育处", "admin", []),
        ("Admin", "admin", []),
        ("校长；管理员", "admin,principal", []),
        ("principal, care", "principal,care", []),
        ("关爱室、德育处、管理员", "admin,care", []),
        ("教导主任", "", ["教导主任"]),
        ("校长;门卫", "principal", ["门卫"]),
        ("区域管理员", "district", []),
        ("区教育局", "district", []),
        ("District", "district", []),
    ],
)
def test_roles_are_read_in_chinese_or_english(text: str, roles: str, unknown: list[str]) -> None:
    assert parse_roles(text) == (roles, unknown)


@pytest.mark.parametrize(
    ("text", "tags", "unknown"),
    [
        ("", "", []),
        ("留守", "留守", []),
        ("留守儿童", "留守", []),
        ("留守；贫困", "贫困,留守", []),
        ("智障、孤儿、单亲、学习困难、贫困", "贫困,学习困难,单亲,孤儿,智力障碍", []),
        ("智力障碍", "智力障碍", []),
        ("留守儿童;留守", "留守", []),
        ("多动", "", ["多动"]),
    ],
)
def test_tags_are_stored_in_canonical_order(text: str, tags: str, unknown: list[str]) -> None:
    assert parse_tags(text) == (tags, unknown)


# --- a valid roster ---------------------------------------------------------------------------


def test_a_valid_roster_reads_teachers_and_students() -> None:
    roster = validate()
    teacher = roster.teachers[0]
    assert (teacher.staff_no, teacher.name, teacher.phone) == ("T01", "王芳", "13912340001")
    assert teacher.head_of == (3, 2)
    assert teacher.teaches == (((3, 1), "数学"),)
    student = roster.students[0]
    assert (student.student_no, student.klass, student.row) == ("S01", (3, 2), 2)
    assert student.guardians == (
        GuardianEntry(position=1, name="刘梅", relation="母亲", phone="13800000001"),
    )


def test_a_class_taught_in_two_subjects_is_one_teaching_row_with_both() -> None:
    teacher = with_cell(TEACHER, TEACHER_HEADER, "任教", "三(1)班:数学；3-1：科学；三(2)班")
    roster = validate([teacher])
    assert roster.teachers[0].teaches == (((3, 1), "数学、科学"), ((3, 2), ""))


def test_phones_are_stored_in_plain_eleven_digit_form() -> None:
    student = with_cell(STUDENT, STUDENT_HEADER, "家长1手机", "+86 138-0000-0001")
    assert validate(students=[student]).students[0].guardians[0].phone == "13800000001"


def test_english_headers_are_accepted_in_any_case_with_spaces() -> None:
    roster = validate(
        teacher_header=[" Staff_No ", "NAME", "phone", "head_of", "teaches", "roles"],
        student_header=[
            "student_no",
            "name",
            " Class",
            "tags",
            "guardian1_name",
            "guardian1_relation",
            "guardian1_phone",
            "GUARDIAN2_NAME",
            "guardian2_relation",
            "guardian2_phone",
        ],
    )
    assert roster == validate()


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers() -> None:
    second = with_cell(STUDENT, STUDENT_HEADER, "学号", "S02")
    roster = validate(students=[STUDENT, [""] * len(STUDENT), second])
    assert [s.row for s in roster.students] == [2, 4]


def test_optional_columns_left_out_are_remembered_as_absent() -> None:
    roster = validate(
        [["T01", "王芳"]],
        [["S01", "张小明", "三(2)班"]],
        teacher_header=["工号", "姓名"],
        student_header=["学号", "姓名", "班级"],
    )
    assert roster.teacher_fields == frozenset()
    assert not roster.has_guardians


def test_classes_are_listed_once_in_order_of_first_appearance() -> None:
    other = with_cell(STUDENT, STUDENT_HEADER, "学号", "S02")
    other = with_cell(other, STUDENT_HEADER, "班级", "四(1)班")
    roster = validate(students=[STUDENT, other])
    assert roster.class_keys() == [(3, 2), (3, 1), (4, 1)]


# --- problems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("工号", "", "教师 第2行 工号：工号不能为空"),
        ("姓名", " ", "教师 第2行 姓名：姓名不能为空"),
        (
            "姓名",
            "王" * 51,
            "教师 第2行 姓名：“王王王王王王王王王王王王王王王王王王王王…”太长（最多50个字）",
        ),
        ("手机", "1391234", "教师 第2行 手机：手机号“1391234”无效，应为11位大陆手机号"),
        ("手机", "02087654321", "教师 第2行 手机：手机号“02087654321”无效，应为11位大陆手机号"),
        ("班主任", "三（二二）班", "教师 第2行 班主任：无法识别的班级名称“三（二二）班”"),
        (
            "班主任",
            "三(2)班;三(1)班",
            "教师 第2行 班主任：班主任只能填写一个班级：“三(2)班;三(1)班”",
        ),
        ("任教", "三(1)班:数学；八(1)班", "教师 第2行 任教：年级超出范围（一至六年级）：“八(1)班”"),
        ("任教", ":数学", "教师 第2行 任教：班级名称为空"),
        (
            "角色",
            "校长；教导主任",
            "教师 第2行 角色：未知的角色“教导主任”（可填：管理员/德育处、校长、关爱室、区域管理员/区教育局）",
        ),
    ],
)
def test_a_bad_teacher_cell_is_reported_with_sheet_row_and_column(
    column: str, value: str, problem: str
) -> None:
    assert problems_of([with_cell(TEACHER, TEACHER_HEADER, column, value)]) == [problem]


DISTRICT_ALONE = "教师 第2行 角色：区域管理员只查看各校的统计数字，不能同时是班主任、任课教师、教练或担任其他角色"


def test_the_bureaus_roster_has_its_district_admin_and_no_student() -> None:
    bureau = ["D01", "区教育局李科长", "13912340009", "", "", "区教育局"]
    roster = validate([bureau], [])
    [row] = roster.teachers
    assert (row.roles, row.head_of, row.teaches, roster.students) == ("district", None, (), ())


@pytest.mark.parametrize(
    ("column", "value"),
    [("角色", "区域管理员；德育处"), ("班主任", "三(2)班"), ("任教", "三(1)班:数学")],
)
def test_a_district_admin_holds_no_class_and_no_other_role(column: str, value: str) -> None:
    row = ["D01", "李科长", "", "", "", "区域管理员"]
    row = with_cell(row, TEACHER_HEADER, column, value)
    if column != "角色":
        row = with_cell(row, TEACHER_HEADER, "角色", "区域管理员")
    assert problems_of([row], []) == [DISTRICT_ALONE]


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("学号", "", "学生 第2行 学号：学号不能为空"),
        ("姓名", "", "学生 第2行 姓名：姓名不能为空"),
        ("班级", "", "学生 第2行 班级：班级不能为空"),
        ("班级", "三（二二）班", "学生 第2行 班级：无法识别的班级名称“三（二二）班”"),
        (
            "特殊类型",
            "贫困；多动",
            "学生 第2行 特殊类型：未知的特殊类型“多动”（可填：贫困、学习困难、单亲、孤儿、智力障碍、留守）",
        ),
        ("家长1手机", "", "学生 第2行 家长1手机：填写了家长1姓名，但缺少家长1手机"),
        ("家长1姓名", "", "学生 第2行 家长1姓名：填写了家长1手机，但缺少家长1姓名"),
        ("家长1手机", "138000", "学生 第2行 家长1手机：手机号“138000”无效，应为11位大陆手机号"),
    ],
)
def test_a_bad_student_cell_is_reported_with_sheet_row_and_column(
    column: str, value: str, problem: str
) -> None:
    assert problems_of(students=[with_cell(STUDENT, STUDENT_HEADER, column, value)]) == [problem]


def test_a_relation_without_name_or_phone_is_reported() -> None:
    student = with_cell(STUDENT, STUDENT_HEADER, "家长2关系", "父亲")
    assert problems_of(students=[student]) == [
        "学生 第2行 家长2关系：填写了家长2关系，但缺少姓名和手机"
    ]


def test_the_same_phone_for_both_guardians_of_a_student_is_reported() -> None:
    student = [*STUDENT[:7], "张伟", "父亲", "138 0000 0001"]
    assert problems_of(students=[student]) == ["学生 第2行 家长2手机：家长2的手机号与家长1相同"]


def test_a_duplicate_staff_number_names_the_first_row() -> None:
    again = with_cell(TEACHER, TEACHER_HEADER, "班主任", "")
    assert problems_of([TEACHER, again]) == ["教师 第3行 工号：工号“T01”与第2行重复"]


def test_a_duplicate_student_number_names_the_first_row() -> None:
    assert problems_of(students=[STUDENT, STUDENT]) == ["学生 第3行 学号：学号“S01”与第2行重复"]


def test_two_head_teachers_for_one_class_are_reported() -> None:
    second = with_cell(TEACHER, TEACHER_HEADER, "工号", "T02")
    second = with_cell(second, TEACHER_HEADER, "班主任", "3-2")
    assert problems_of([TEACHER, second]) == [
        "教师 第3行 班主任：三(2)班已在第2行指定了班主任，一个班只能有一位班主任"
    ]


def test_one_guardian_phone_with_two_names_is_reported() -> None:
    sibling = with_cell(STUDENT, STUDENT_HEADER, "学号", "S02")
    sibling = with_cell(sibling, STUDENT_HEADER, "家长1姓名", "刘美")
    assert problems_of(students=[STUDENT, sibling]) == [
        "学生 第3行 家长1手机：手机号13800000001在第2行登记的家长是“刘梅”，这里却是“刘美”；"
        "同一位家长请填写相同的姓名"
    ]


def test_siblings_sharing_a_guardian_are_valid() -> None:
    sibling = with_cell(STUDENT, STUDENT_HEADER, "学号", "S02")
    roster = validate(students=[STUDENT, sibling])
    assert roster.students[0].guardians == roster.students[1].guardians


def test_a_missing_required_column_is_reported_once_per_sheet() -> None:
    header = [h for h in STUDENT_HEADER if h != "班级"]
    rows = [[c for h, c in zip(STUDENT_HEADER, STUDENT, strict=True) if h != "班级"]] * 3
    assert problems_of(students=rows, student_header=header) == [
        "学生：缺少必需的列“班级”（或英文列名 class）"
    ]


def test_a_guardian_name_column_without_its_phone_column_is_reported_once() -> None:
    header = STUDENT_HEADER[:6]
    rows = [STUDENT[:6], ["S02", *STUDENT[1:6]]]
    assert problems_of(students=rows, student_header=header) == [
        "学生：有“家长1姓名”列，却缺少“家长1手机”列"
    ]


def test_a_repeated_column_is_reported_at_the_header() -> None:
    header = [*TEACHER_HEADER, "手机"]
    assert problems_of([[*TEACHER, "13912340009"]], teacher_header=header) == [
        "教师 第1行 手机：这一列重复出现"
    ]


def test_an_empty_sheet_is_reported() -> None:
    empty = RawSheet(label="教师", kind="teachers", rows=[])
    with pytest.raises(RosterInvalid) as invalid:
        validate_roster(empty, sheet("students", STUDENT_HEADER, STUDENT))
    assert [str(p) for p in invalid.value.problems] == ["教师：表格是空的，没有找到标题行"]


def test_every_problem_in_both_sheets_is_collected() -> None:
    teachers = [
        with_cell(TEACHER, TEACHER_HEADER, "手机", "123"),
        with_cell(TEACHER, TEACHER_HEADER, "角色", "门卫"),
    ]
    students = [
        with_cell(STUDENT, STUDENT_HEADER, "班级", "七(1)班"),
        with_cell(STUDENT, STUDENT_HEADER, "特殊类型", "多动"),
    ]
    assert [p.split("：")[0] for p in problems_of(teachers, students)] == [
        "教师 第2行 手机",
        "教师 第3行 工号",
        "教师 第3行 班主任",
        "教师 第3行 角色",
        "学生 第2行 班级",
        "学生 第3行 学号",
        "学生 第3行 特殊类型",
    ]
