"""`survey import FILE --name … --by 工号` and `survey forms`: a form read from a sheet with
Chinese headers, every problem named by sheet, row and column with nothing imported; a clean
sheet becoming a form with its questions in order; the name, the person and the school's limit
checked as in the chat; and the school's forms listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from models.db.engine import Database
from models.surveys.form_sheet import FormSheetError, parse_form_sheet
from models.surveys.tables import FormPurpose, QuestionKind, SurveyForm, SurveyQuestion
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.factories import seed_school

__all__ = ["cli_environment"]

HEADER: list[object] = ["序号", "题目", "题型", "选项", "必答"]
GOOD: list[list[object]] = [
    HEADER,
    [1, "您对学校的整体工作是否满意?", "满意度", None, "是"],
    [2, "孩子每天完成作业大约要多久？", "选择", "半小时以内／半小时到一小时、一小时以上", "否"],
    [3, "教师是否有乱收费现象？", "是否", None, None],
    [4, "您还有什么意见和建议？", "填空", None, "否"],
]


def numbered(rows: list[list[object]]) -> list[tuple[int, list[str]]]:
    return [(n, ["" if v is None else str(v) for v in row]) for n, row in enumerate(rows, start=1)]


def workbook(path: Path, rows: list[list[object]], sheet: str = "问卷") -> Path:
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet
    for row in rows:
        page.append(row)
    book.save(path)
    return path


async def _forms(db: Database) -> list[SurveyForm]:
    async with db.session() as session:
        return list((await session.exec(select(SurveyForm).order_by(col(SurveyForm.id)))).all())


def test_a_good_sheet_is_read_in_row_order_with_its_kinds_options_and_required_marks() -> None:
    form = parse_form_sheet(numbered(GOOD))
    assert [(q.kind, q.prompt, q.options, q.required) for q in form.questions] == [
        (QuestionKind.SATISFACTION, "您对学校的整体工作是否满意?", (), True),
        (
            QuestionKind.CHOICE,
            "孩子每天完成作业大约要多久？",
            ("半小时以内", "半小时到一小时", "一小时以上"),
            False,
        ),
        (QuestionKind.YES_NO, "教师是否有乱收费现象？", (), True),
        (QuestionKind.TEXT, "您还有什么意见和建议？", (), False),
    ]
    assert form.rows == (2, 3, 4, 5)


LONG = "长" * 501

#: A sheet's mistake → the problems listed (each with its sheet, row and column).
CASES: dict[str, tuple[list[list[object]], list[str]]] = {
    "a missing header": (
        [["序号", "题目", "选项"], [1, "您满意吗？", ""]],
        ["问卷 第 1 行（标题）：缺少“题型”列（标题应为：序号、题目、题型、选项、必答）"],
    ),
    "an unknown kind": (
        [HEADER, [1, "您满意吗？", "打分", "", ""]],
        ["问卷 第 2 行 C 列（题型）：“打分”不是可用的题型（可用：是否、满意度、选择、填空）"],
    ),
    "a blank kind": (
        [HEADER, [1, "您满意吗？", "", "", ""]],
        ["问卷 第 2 行 C 列（题型）：空白不是可用的题型（可用：是否、满意度、选择、填空）"],
    ),
    "a choice without options": (
        [HEADER, [1, "孩子在哪个校区？", "选择", "", ""]],
        ["问卷 第 2 行 D 列（选项）：选择题至少需要 2 个选项（用／、或换行分开）。"],
    ),
    "a choice and no options column": (
        [["题目", "题型"], ["孩子在哪个校区？", "选择"]],
        ["问卷 第 2 行（选项）：选择题需要“选项”列（选项用／或、分开）"],
    ),
    "an option twice": (
        [HEADER, [1, "孩子在哪个校区？", "选择", "东校区／东校区", ""]],
        ["问卷 第 2 行 D 列（选项）：选项“东校区”重复了，每个选项只能写一次。"],
    ),
    "an empty prompt": (
        [HEADER, [1, "您满意吗？", "满意度", "", ""], [2, "", "是否", "", "是"]],
        ["问卷 第 3 行 B 列（题目）：题目不能为空。"],
    ),
    "an over-long prompt": (
        [HEADER, [1, LONG, "填空", "", "否"]],
        ["问卷 第 2 行 B 列（题目）：题目不能超过 500 个字（现在 501 个字）。"],
    ),
    "a required mark that is neither 是 nor 否": (
        [HEADER, [1, "您满意吗？", "满意度", "", "也许"]],
        ["问卷 第 2 行 E 列（必答）：“也许”应为“是”或“否”（空白为“是”）"],
    ),
    "no question": ([HEADER], ["问卷：问卷至少需要一道题。"]),
    "several problems at once": (
        [HEADER, [1, "", "打分", "", ""], [2, "孩子在哪个校区？", "选择", "东校区", "否"]],
        [
            "问卷 第 2 行 C 列（题型）：“打分”不是可用的题型（可用：是否、满意度、选择、填空）",
            "问卷 第 2 行 B 列（题目）：题目不能为空。",
            "问卷 第 3 行 D 列（选项）：选择题至少需要 2 个选项（用／、或换行分开）。",
        ],
    ),
}


@pytest.mark.parametrize(("rows", "problems"), list(CASES.values()), ids=list(CASES))
def test_each_problem_of_a_sheet_is_named_by_sheet_row_and_column(
    rows: list[list[object]], problems: list[str]
) -> None:
    with pytest.raises(FormSheetError) as refused:
        parse_form_sheet(numbered(rows))
    assert refused.value.problems == problems


@pytest.mark.usefixtures("cli_environment")
@pytest.mark.parametrize(
    "case", ["an unknown kind", "a choice without options", "an empty prompt", "a missing header"]
)
async def test_a_sheet_with_problems_imports_nothing(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    await seed_school(db)
    rows, problems = CASES[case]
    path = workbook(tmp_path / "问卷.xlsx", [*rows, *GOOD[1:]] if len(rows) > 1 else rows)
    status = await run_main("survey", "import", str(path), "--name", "期中问卷", "--by", "T03")
    err = capsys.readouterr().err
    assert status == 1
    assert problems[0] in err
    assert "问卷未导入，数据库没有任何改动。" in err
    assert await _forms(db) == []


@pytest.mark.usefixtures("cli_environment")
async def test_a_clean_sheet_becomes_a_form_offered_and_listed(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    path = workbook(tmp_path / "期中问卷.xlsx", GOOD, sheet="Sheet1")
    args = ("--name", "期中问卷", "--anonymous", "--purpose", "semester", "--by", "T03")
    assert await run_main("survey", "import", str(path), *args) == 0
    out = capsys.readouterr().out
    assert "已导入问卷“期中问卷”" in out and "学期问卷，匿名" in out and "共 4 题" in out
    forms = await _forms(db)
    assert [f.name for f in forms][-1] == "期中问卷"  # after the built-in forms, written first
    form = forms[-1]
    assert (form.purpose, form.anonymous, form.template_key) == (FormPurpose.SEMESTER, True, None)
    async with db.session() as session:
        query = select(SurveyQuestion).where(SurveyQuestion.form_id == form.id)
        saved = (await session.exec(query.order_by(col(SurveyQuestion.position)))).all()
    assert [(q.position, q.kind, q.required) for q in saved] == [
        (1, QuestionKind.SATISFACTION, True),
        (2, QuestionKind.CHOICE, False),
        (3, QuestionKind.YES_NO, True),
        (4, QuestionKind.TEXT, False),
    ]
    assert saved[1].option_list() == ["半小时以内", "半小时到一小时", "一小时以上"]

    assert await run_main("survey", "forms") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "编号\t名称\t用途\t匿名\t题数\t状态"
    assert f"{form.id}\t期中问卷\t学期问卷\t匿名\t4\t在用" in lines
    assert any(
        "家长问卷（情况调查和征求意见表）\t学期问卷\t匿名\t8\t内置" in line for line in lines
    )


@pytest.mark.usefixtures("cli_environment")
async def test_a_name_the_school_has_is_refused_and_nothing_is_written(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    path = workbook(tmp_path / "问卷.xlsx", GOOD)
    assert await run_main("survey", "import", str(path), "--name", "期中问卷", "--by", "T03") == 0
    capsys.readouterr()
    assert await run_main("survey", "import", str(path), "--name", "期中问卷", "--by", "T03") == 1
    err = capsys.readouterr().err
    assert "--name：本校已有名为“期中问卷”的问卷（含已停用的），请换一个名字。" in err
    assert [f.name for f in await _forms(db)].count("期中问卷") == 1


@pytest.mark.usefixtures("cli_environment")
async def test_a_teacher_who_is_not_the_moral_education_office_may_not_import(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    path = workbook(tmp_path / "问卷.xlsx", GOOD)
    assert await run_main("survey", "import", str(path), "--name", "期中问卷", "--by", "T01") == 2
    err = capsys.readouterr().err
    assert "王芳（工号 T01）不是德育处或校长" in err
    assert await _forms(db) == []
