"""A survey form read from a sheet (`survey import`), or every problem in it (pure rules).

A header row, then one question a row, asked in the sheet's order:

    序号  题目                              题型    选项                          必答
    1     您对学校的整体工作是否满意?        满意度                                是
    2     孩子每天完成作业大约要多久？      选择    半小时以内／半小时到一小时    否
    3     教师是否有乱收费现象？            是否
    4     您还有什么意见和建议？            填空                                  否

题型 is 是否, 满意度, 选择 or 填空 (`models.surveys.forms.KIND_WORDS` lists the other words
read); 选项 is needed by a 选择 question only, its options separated by ／ or 、 or one a line in
the cell; 必答 is 是 or 否 (是 when empty); 序号 is for the reader and may be left out. The
questions are checked by the chat's rules (`models.surveys.forms.form_problems`); every problem
is named by sheet, row and column, and nothing is imported until there are none.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from models.errors import JiafangError
from models.surveys.forms import (
    FormProblem,
    Part,
    QuestionSpec,
    form_problems,
    kind_of,
    new_question,
    split_options,
)
from models.surveys.tables import QuestionKind

#: The sheet's name in a workbook (a workbook with one sheet may name it anything).
SHEET = "问卷"
#: Columns: key → accepted headers (the first is the one shown in messages).
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "题号", "编号"),
    "prompt": ("题目", "问题", "题干"),
    "kind": ("题型", "类型"),
    "options": ("选项",),
    "required": ("必答", "是否必答"),
}
REQUIRED_COLUMNS = ("prompt", "kind")
_HEADERS = "序号、题目、题型、选项、必答"
_YES = {"是", "必答", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "选答", "非必答", "n", "no", "false", "0", "×"}
#: The column a problem of each part is in.
_PART_COLUMNS = {Part.PROMPT: "prompt", Part.KIND: "kind", Part.OPTIONS: "options"}


class FormSheetError(JiafangError):
    """A form sheet that cannot be imported; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class SheetForm:
    """The questions read, and the row each came from (to name it in a later problem)."""

    questions: tuple[QuestionSpec, ...]
    rows: tuple[int, ...]
    columns: dict[str, int]
    label: str

    def place(self, problem: FormProblem) -> str:
        """Where a problem found when saving is: its row and column, or the sheet."""
        return place_of(problem, self.label, self.rows, self.columns)


def letter(index: int) -> str:
    """Column A, B, … Z, AA … for a 0-based index."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _cell_place(label: str, row: int, columns: dict[str, int], key: str) -> str:
    if key in columns:
        return f"{label} 第 {row} 行 {letter(columns[key])} 列（{COLUMNS[key][0]}）"
    return f"{label} 第 {row} 行（{COLUMNS[key][0]}）"


def place_of(
    problem: FormProblem, label: str, rows: tuple[int, ...], columns: dict[str, int]
) -> str:
    """`问卷 第 3 行 B 列（题目）：题目不能为空。` — a problem of the questions, placed."""
    message = problem.text(lambda text: text)
    if problem.position is None or not 0 < problem.position <= len(rows):
        return f"{label}：{message}"
    key = _PART_COLUMNS.get(problem.part, "prompt")
    return f"{_cell_place(label, rows[problem.position - 1], columns, key)}：{message}"


def parse_form_sheet(rows: list[tuple[int, list[str]]], *, label: str = SHEET) -> SheetForm:
    """The questions in `rows` (numbered as the sheet shows them, the first one the header);
    `FormSheetError` lists every problem, each with its sheet, row and column."""
    if not rows:
        raise FormSheetError([f"{label}：工作表是空的（第一行应是标题：{_HEADERS}）"])
    header_number, header = rows[0]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        for key, names in COLUMNS.items():
            if key not in columns and _key(title) in {_key(n) for n in names}:
                columns[key] = index
    missing = [COLUMNS[key][0] for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        raise FormSheetError(
            [
                f"{label} 第 {header_number} 行（标题）：缺少“{name}”列（标题应为：{_HEADERS}）"
                for name in missing
            ]
        )

    def cell(values: list[str], key: str) -> str:
        index = columns.get(key)
        return values[index].strip() if index is not None and index < len(values) else ""

    problems: list[str] = []
    questions: list[QuestionSpec] = []
    numbers: list[int] = []
    for number, values in rows[1:]:
        kind_text = cell(values, "kind")
        kind = kind_of(kind_text)
        if kind is None:
            shown = f"“{kind_text}”" if kind_text else "空白"
            problems.append(
                f"{_cell_place(label, number, columns, 'kind')}：{shown}不是可用的题型"
                "（可用：是否、满意度、选择、填空）"
            )
        required_text = _key(cell(values, "required"))
        required = True
        if required_text in _NO:
            required = False
        elif required_text and required_text not in _YES:
            problems.append(
                f"{_cell_place(label, number, columns, 'required')}："
                f"“{cell(values, 'required')}”应为“是”或“否”（空白为“是”）"
            )
        if kind is QuestionKind.CHOICE and "options" not in columns:
            problems.append(
                f"{_cell_place(label, number, columns, 'options')}："
                "选择题需要“选项”列（选项用／或、分开）"
            )
        options = split_options(cell(values, "options")) if kind is QuestionKind.CHOICE else []
        # A row of unknown kind is read as free text: its prompt is still checked.
        questions.append(
            new_question(
                kind or QuestionKind.TEXT, cell(values, "prompt"), options, required=required
            )
        )
        numbers.append(number)
    rows_of = tuple(numbers)
    for problem in form_problems(questions):
        if problem.part is Part.OPTIONS and "options" not in columns:
            continue  # already said: the column is missing
        problems.append(place_of(problem, label, rows_of, columns))
    if problems:
        raise FormSheetError(problems)
    return SheetForm(tuple(questions), rows_of, columns, label)
