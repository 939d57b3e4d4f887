"""The assignment table 包保表 (models/campaigns/assignment.py, table.py): every household one
responsible teacher, generated or imported, and every problem of an imported table by row and
column, in Chinese. The school is tests/helpers/campaigns.py's."""

from __future__ import annotations

import random

import pytest

from models.campaigns.assignment import (
    AssignmentRow,
    CampaignClass,
    assignment_from_rows,
    check_assignment,
    generate_assignment,
    home_class,
)
from models.campaigns.problems import SHEET, AssignmentInvalid, Column, Problem, errors, render
from models.campaigns.table import student_ranges, table_rows
from models.families.households import Child, Household, households_from
from tests.helpers.campaigns import (
    CLASSES,
    CLEAN,
    HEADS,
    HOUSEHOLDS,
    ROSTER,
    TEACHES,
    row,
)

Expected = tuple[int | None, Column | None, str, dict[str, object]]


def _seen(problems: list[Problem]) -> list[Expected]:
    return [(p.row, p.column, p.message, dict(p.params)) for p in problems]


def test_a_clean_table_has_no_problem_and_gives_every_household_its_teacher() -> None:
    assignment, warnings = assignment_from_rows(CLEAN, ROSTER)
    assert warnings == []
    assert {r.household: r.teacher_id for r in assignment.responsible} == {
        1: 5,  # 张小明 and 张小红: through 四(1)班, the elder's class
        2: 4,
        3: 4,
        4: 4,
        5: 1,
        6: 1,
        7: 1,
        8: 5,
        9: 5,
        10: 2,
    }
    assert assignment.teacher_of(1) == 5
    assert assignment.of_teacher(1) == [5, 6, 7]


UNASSIGNED = "{students}一家还没有责任教师。"
TWICE = "{student}已在第 {other} 行分配过，一个家庭只能有一位责任教师。"
SPLIT = "{student}与第 {other} 行的{sibling}是一家人，应由同一位教师包保。"
BAD_RANGE = "学号范围“{item}”有误：两端位数应相同，且前小后大（例如 2026320101-2026320115）。"
NOT_TEACHING = "{teacher}不在{klass}任教，仍按表中分配。"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [CLEAN[0], CLEAN[1], CLEAN[3]],
            [(None, None, UNASSIGNED, {"students": "三(2)班王五（2026320106）"})],
            id="unassigned",
        ),
        pytest.param(
            [*CLEAN[:2], row(4, (3, 2), "李强", "2026320106", "2026320104"), CLEAN[3]],
            [(4, Column.STUDENTS, TWICE, {"student": "三(2)班孙七（2026320104）", "other": 3})],
            id="the same student twice",
        ),
        pytest.param(
            [*CLEAN[:2], row(4, (3, 2), "李强", "2026320106", "张小明"), CLEAN[3]],
            [
                (
                    5,
                    Column.STUDENTS,
                    SPLIT,
                    {
                        "student": "四(1)班张小红（2026410101）",
                        "other": 4,
                        "sibling": "三(2)班张小明（2026320101）",
                    },
                )
            ],
            id="siblings split across teachers",
        ),
        pytest.param(
            [*CLEAN, row(6, (5, 1), "孙丽")],
            [(6, Column.CLASS, "本次大走访的范围内没有{klass}。", {"klass": "五(1)班"})],
            id="unknown class",
        ),
        pytest.param(
            [*CLEAN[:3], row(5, (4, 1), "李四")],
            [(5, Column.TEACHER, "教师名单中没有“{teacher}”。", {"teacher": "李四"})],
            id="teacher not in the roster",
        ),
        pytest.param(
            [*CLEAN[:3], row(5, (4, 1), "张伟")],
            [
                (
                    5,
                    Column.TEACHER,
                    "有 {count} 位教师叫“{teacher}”，请改写工号。",
                    {"count": 2, "teacher": "张伟"},
                ),
            ],
            id="two teachers share the name",
        ),
        pytest.param(
            [*CLEAN[:3], row(5, (4, 1), "T05")],
            [],
            id="a teacher by staff number",
        ),
        pytest.param(
            [*CLEAN[:2], row(4, (3, 2), "李强", "2026320106-2026320102"), CLEAN[3]],
            [
                (4, Column.STUDENTS, BAD_RANGE, {"item": "2026320106-2026320102"}),
                (None, None, UNASSIGNED, {"students": "三(2)班王五（2026320106）"}),
            ],
            id="a range backwards",
        ),
        pytest.param(
            [*CLEAN[:2], row(4, (3, 2), "李强", "2026320106-202632011"), CLEAN[3]],
            [
                (4, Column.STUDENTS, BAD_RANGE, {"item": "2026320106-202632011"}),
                (None, None, UNASSIGNED, {"students": "三(2)班王五（2026320106）"}),
            ],
            id="range ends of two lengths",
        ),
        pytest.param(
            [CLEAN[0], row(3, (3, 2), "王芳", "2026310103-2026320104"), *CLEAN[2:]],
            [
                (
                    3,
                    Column.STUDENTS,
                    "学号范围“{item}”包括了不在{klass}的学生{student}。",
                    {
                        "item": "2026310103-2026320104",
                        "klass": "三(2)班",
                        "student": "三(1)班刘三（2026310103）",
                    },
                ),
                (None, None, UNASSIGNED, {"students": "三(2)班王五（2026320102）"}),
                (None, None, UNASSIGNED, {"students": "三(2)班赵六（2026320103）"}),
                (None, None, UNASSIGNED, {"students": "三(2)班孙七（2026320104）"}),
            ],
            id="a range reaching into another class",
        ),
        pytest.param(
            [*CLEAN, row(6, (3, 2), "李强", "2026329901-2026329909")],
            [
                (
                    6,
                    Column.STUDENTS,
                    "学号范围“{item}”内没有学生。",
                    {"item": "2026329901-2026329909"},
                )
            ],
            id="a range with no student",
        ),
        pytest.param(
            [*CLEAN, row(6, (3, 2), "李强", "2026320199")],
            [(6, Column.STUDENTS, "没有学号为 {no} 的学生。", {"no": "2026320199"})],
            id="unknown student number",
        ),
        pytest.param(
            [*CLEAN, row(6, (3, 2), "李强", "2026310101")],
            [
                (
                    6,
                    Column.STUDENTS,
                    "{student}不是{klass}的学生。",
                    {"student": "三(1)班陈一（2026310101）", "klass": "三(2)班"},
                )
            ],
            id="a student of another class",
        ),
        pytest.param(
            [*CLEAN, row(6, (3, 2), "李强", "2026320101号")],
            [
                (
                    6,
                    Column.STUDENTS,
                    "“{item}”既不是学号，也不是学号范围（例如 2026320101-2026320115）。",
                    {"item": "2026320101号"},
                )
            ],
            id="neither a number nor a range",
        ),
        pytest.param(
            [*CLEAN[:2], row(4, (3, 2), "李强", "王五"), CLEAN[3]],
            [
                (
                    4,
                    Column.STUDENTS,
                    "{klass}有 {count} 名学生叫“{name}”，请改写学号。",
                    {"klass": "三(2)班", "count": 2, "name": "王五"},
                ),
                (None, None, UNASSIGNED, {"students": "三(2)班王五（2026320106）"}),
            ],
            id="a name two pupils of the class share",
        ),
        pytest.param(
            [*CLEAN, row(6, (3, 2), "李强", "周九")],
            [
                (
                    6,
                    Column.STUDENTS,
                    "{klass}没有名叫“{name}”的学生。",
                    {"klass": "三(2)班", "name": "周九"},
                )
            ],
            id="a name not in the class",
        ),
        pytest.param(
            [CLEAN[0], row(3, (3, 2), "王芳", "2026320102", "赵六", "2026320104"), *CLEAN[2:]],
            [],
            id="numbers and names mixed",
        ),
        pytest.param(
            [*CLEAN[:3], row(5, (4, 1), "赵敏")],
            [(5, Column.TEACHER, NOT_TEACHING, {"teacher": "赵敏", "klass": "四(1)班"})],
            id="a teacher of no class is a warning",
        ),
    ],
)
def test_every_problem_of_an_imported_table_is_named_by_row_and_column(
    rows: list[AssignmentRow], expected: list[Expected]
) -> None:
    assert _seen(check_assignment(rows, ROSTER)) == expected


def test_a_household_is_unassigned_when_no_row_covers_it() -> None:
    problems = check_assignment(CLEAN[:3], ROSTER)
    assert [p.message for p in problems] == [UNASSIGNED] * 3
    assert sorted(str(p.params["students"]) for p in problems) == sorted(
        [
            "三(2)班张小明（2026320101）、四(1)班张小红（2026410101）",  # one household
            "四(1)班周九（2026410102）",
            "四(1)班吴十（2026410103）",
        ]
    )


def test_siblings_in_two_rows_of_one_teacher_are_one_household_not_a_split() -> None:
    rows = [*CLEAN[:2], row(4, (3, 2), "李强", "2026320106", "张小明"), row(5, (4, 1), "李强")]
    problems = check_assignment(rows, ROSTER)
    assert errors(problems) == []
    assert [p.message for p in problems] == [NOT_TEACHING]
    assignment, _warnings = assignment_from_rows(rows, ROSTER)
    responsible = next(r for r in assignment.responsible if r.household == 1)
    assert (responsible.teacher_id, responsible.class_id) == (2, 32)


def test_a_table_with_errors_imports_nothing_and_lists_every_problem() -> None:
    rows = [*CLEAN[:3], row(5, (4, 1), "李四"), row(6, (5, 1), "孙丽")]
    with pytest.raises(AssignmentInvalid) as invalid:
        assignment_from_rows(rows, ROSTER)
    assert [str(p) for p in invalid.value.problems] == [
        "包保表 第 5 行 ? 列（责任教师）：教师名单中没有“李四”。",
        "包保表 第 6 行 ? 列（班级）：本次大走访的范围内没有五(1)班。",
    ]


def test_warnings_alone_do_not_stop_an_import() -> None:
    assignment, warnings = assignment_from_rows([*CLEAN[:3], row(5, (4, 1), "赵敏")], ROSTER)
    assert [p.warning for p in warnings] == [True]
    assert assignment.teacher_of(8) == 3


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (
            Problem(
                SHEET, 7, Column.TEACHER, "D", "教师名单中没有“{teacher}”。", {"teacher": "李四"}
            ),
            "包保表 第 7 行 D 列（责任教师）：教师名单中没有“李四”。",
        ),
        (
            Problem(SHEET, None, None, "", UNASSIGNED, {"students": "三(2)班王五（2026320106）"}),
            "包保表：三(2)班王五（2026320106）一家还没有责任教师。",
        ),
        (
            Problem(SHEET, 1, None, "", "缺少“{header}”列。", {"header": "班级"}),
            "包保表 第 1 行：缺少“班级”列。",
        ),
        (
            Problem(
                SHEET,
                5,
                Column.TEACHER,
                "D",
                NOT_TEACHING,
                {"teacher": "赵敏", "klass": "四(1)班"},
                True,
            ),
            "提醒：包保表 第 5 行 D 列（责任教师）：赵敏不在四(1)班任教，仍按表中分配。",
        ),
    ],
)
def test_a_problem_reads_as_sheet_row_column_and_message(problem: Problem, text: str) -> None:
    assert render(problem, lambda message: message) == text


# -- generation ------------------------------------------------------------------------------------


def test_generation_gives_every_household_exactly_one_teacher() -> None:
    assignment = generate_assignment(CLASSES, HOUSEHOLDS, TEACHES, HEADS)
    keys = [r.household for r in assignment.responsible]
    assert sorted(keys) == sorted(h.key for h in HOUSEHOLDS)
    assert len(keys) == len(set(keys))
    assert assignment.unassigned == ()


def test_generation_splits_a_class_head_teacher_first_and_keeps_siblings_together() -> None:
    assignment = generate_assignment(CLASSES, HOUSEHOLDS, TEACHES, HEADS)
    by_teacher = {t: assignment.of_teacher(t) for t in (1, 2, 4, 5)}
    # 三(1)班: 3 households, 钱进 (head) takes 2, 李强 1; 三(2)班: 4 households, 王芳 2, 李强 2;
    # 四(1)班: 孙丽 alone, 张小明 and 张小红's household with it (the elder's class).
    assert by_teacher == {1: [5, 6], 2: [4, 7, 10], 4: [2, 3], 5: [1, 8, 9]}


def test_generation_is_the_same_whatever_the_order_of_the_households() -> None:
    shuffled = list(HOUSEHOLDS)
    random.Random(7).shuffle(shuffled)
    assert generate_assignment(CLASSES, shuffled, TEACHES, HEADS) == generate_assignment(
        CLASSES, HOUSEHOLDS, TEACHES, HEADS
    )


@pytest.mark.parametrize(
    ("households", "teachers", "sizes"),
    [(7, 3, [3, 2, 2]), (6, 3, [2, 2, 2]), (2, 3, [1, 1, 0]), (0, 2, [0, 0]), (5, 1, [5])],
)
def test_a_class_is_split_as_evenly_as_possible_the_head_teacher_taking_the_extra(
    households: int, teachers: int, sizes: list[int]
) -> None:
    found = households_from((n, 1, 100 + n) for n in range(households))
    staff = list(range(1, teachers + 1))
    assignment = generate_assignment([CampaignClass(1, 3, 1)], found, {1: staff}, {1: teachers})
    order = [teachers, *range(1, teachers)]  # the head teacher (the last id) first
    assert [len(assignment.of_teacher(t)) for t in order] == sizes


def test_households_are_split_in_student_number_order() -> None:
    nos = {201: "9", 202: "4", 203: "3", 204: "2", 206: "1"}
    assignment = generate_assignment(CLASSES, HOUSEHOLDS, TEACHES, HEADS, student_nos=nos)
    assert assignment.of_teacher(1) == [7, 10]  # 2026320106 (1) and 孙七 (2) come first


def test_a_class_without_teachers_leaves_its_households_unassigned() -> None:
    assignment = generate_assignment(CLASSES, HOUSEHOLDS, {**TEACHES, 41: frozenset()}, {41: None})
    assert assignment.unassigned == (1, 8, 9)


@pytest.mark.parametrize(
    ("classes", "home"),
    [([32, 41], 41), ([31, 32], 31), ([32], 32), ([99], None)],
    ids=["the elder's grade", "the lower class number", "one child", "no known class"],
)
def test_a_household_belongs_to_its_eldest_childs_class(
    classes: list[int], home: int | None
) -> None:
    household = Household((1,), tuple(Child(n, c) for n, c in enumerate(classes)))
    assert home_class(household, {k.class_id: k for k in CLASSES}) == home


# -- writing the table out -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chosen", "every", "items"),
    [
        (["101", "102", "103"], ["101", "102", "103", "104"], ["101-103"]),
        (["101", "102"], ["101", "102", "103"], ["101", "102"]),
        (["101", "103", "104", "105"], ["101", "102", "103", "104", "105"], ["101", "103-105"]),
        (["101", "103", "105"], ["101", "103", "105"], ["101-105"]),
        (["A7", "101"], ["101", "A7"], ["101", "A7"]),
    ],
    ids=["a run", "two stay single", "a gap", "numbers missing from the school", "not numeric"],
)
def test_student_numbers_are_written_as_ranges_where_consecutive(
    chosen: list[str], every: list[str], items: list[str]
) -> None:
    assert student_ranges(chosen, every) == items


def test_an_exported_table_reads_back_to_the_same_assignment() -> None:
    generated = generate_assignment(CLASSES, HOUSEHOLDS, TEACHES, HEADS)
    table = table_rows(generated, ROSTER)
    assert [(t.class_name, t.teacher, t.students) for t in table] == [
        ("三(1)班", "钱进", "2026310101、2026310102"),
        ("三(1)班", "李强", "2026310103"),
        ("三(2)班", "王芳", "2026320102、2026320103"),
        ("三(2)班", "李强", "2026320104、2026320106"),
        ("四(1)班", "孙丽", "2026410101-2026410103"),
    ]
    keys = {name: key for key, name in ((k.key, k.name) for k in CLASSES)}
    rows = [
        row(n, keys[t.class_name], t.teacher, *t.students.split("、"))
        for n, t in enumerate(table, start=2)
    ]
    imported, warnings = assignment_from_rows(rows, ROSTER)
    assert warnings == []
    assert {(r.household, r.teacher_id) for r in imported.responsible} == {
        (r.household, r.teacher_id) for r in generated.responsible
    }


@pytest.mark.parametrize(
    ("klass", "name"), [(CampaignClass(1, 3, 2), "三(2)班"), (CampaignClass(1, 7, 1), "7(1)班")]
)
def test_a_class_is_named_as_everywhere_else(klass: CampaignClass, name: str) -> None:
    assert klass.name == name
