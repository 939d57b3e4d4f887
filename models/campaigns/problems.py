"""A problem found in the assignment table 包保表, located as the person who typed the file sees
it (sheet, row, column), its message a msgid with params (pure).

`render(problem, gettext)` writes it out, e.g. ``包保表 第 7 行 D 列（责任教师）：教师名单中没有
“李四”。``. A warning (a teacher assigned to a class they do not teach) does not stop an import;
an error does, and nothing is imported until there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from models.text import N_

#: The table's sheet name in a workbook, which is also how problems name it.
SHEET = "包保表"


class Column(StrEnum):
    """The table's columns: 校领导, 年级, 班级, 责任教师, 学生 (or 学号)."""

    LEADER = "leader"
    GRADE = "grade"
    CLASS = "class"
    TEACHER = "teacher"
    STUDENTS = "students"


#: Accepted headers of each column (compared with spaces and width folded); the first is the one
#: shown in messages.
HEADERS: dict[Column, tuple[str, ...]] = {
    Column.LEADER: ("校领导", "包保领导", "领导", "leader"),
    Column.GRADE: ("年级", "grade"),
    Column.CLASS: ("班级", "走访班级", "class"),
    Column.TEACHER: ("责任教师", "包保教师", "教师", "teacher"),
    Column.STUDENTS: ("学生", "学号", "学生姓名", "students"),
}


@dataclass(frozen=True)
class Problem:
    sheet: str
    #: As the spreadsheet numbers it; None for a problem of the whole table (a household no
    #: row covers).
    row: int | None
    column: Column | None
    #: The column's letter (A, B, …); "" when not known (rows built by hand).
    letter: str
    #: A msgid, filled in with `params`.
    message: str
    params: Mapping[str, object] = field(default_factory=dict)
    warning: bool = False

    @property
    def header(self) -> str:
        return HEADERS[self.column][0] if self.column is not None else ""

    def __str__(self) -> str:
        return render(self, lambda text: text)


def render(problem: Problem, gettext: Callable[[str], str]) -> str:
    """The problem in one line, in the language of `gettext`."""
    text = gettext(problem.message).format(**problem.params)
    if problem.row is None:
        line = gettext(N_("{sheet}：{message}")).format(sheet=problem.sheet, message=text)
    elif problem.column is None:
        line = gettext(N_("{sheet} 第 {row} 行：{message}")).format(
            sheet=problem.sheet, row=problem.row, message=text
        )
    else:
        line = gettext(N_("{sheet} 第 {row} 行 {letter} 列（{header}）：{message}")).format(
            sheet=problem.sheet,
            row=problem.row,
            letter=problem.letter or "?",
            header=problem.header,
            message=text,
        )
    return gettext(N_("提醒：{text}")).format(text=line) if problem.warning else line


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop an import (warnings do not)."""
    return [problem for problem in problems if not problem.warning]


class AssignmentInvalid(Exception):
    """The table has errors; nothing may be imported. Carries every problem found (warnings
    too, so they are shown together)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
