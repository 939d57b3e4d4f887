"""`python -m bot export survey ID --by 工号 -o FILE.xlsx` (bot/exports/survey.py): 德育处 and the
principal export a survey's results — sheets 回收, 各题 and 文字意见, each with its 说明 rows —
exactly as the families answered, with no family named; anyone else, an unknown survey or
another school's gets one line of Chinese and status 2 with no file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.school.tables import School
from models.surveys.tables import Survey
from scheduler.jobs.surveys import close_due_surveys
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool
from tests.test_survey_answer_chat import sent_survey
from tests.test_survey_results import HER_FAMILY, answer_survey, by_class_answers

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


def _sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


async def _exported(tmp_path: Path, survey_id: int, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "survey.xlsx"
    assert await run_main("export", "survey", str(survey_id), "--by", "T03", "-o", str(path)) == 0
    assert f"已导出问卷 #{survey_id}" in capsys.readouterr().out
    return path


async def test_the_export_of_a_named_survey_holds_every_class_question_and_text(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    drawn = await answer_survey(
        db, clock, school, survey_id, by_class_answers, submit=lambda k, _n: k != "四(1)班"
    )
    sheets = _sheets(await _exported(tmp_path, survey_id, capsys))
    assert list(sheets) == ["回收", "各题", "文字意见"]

    one, two, four = drawn["三(1)班"], drawn["三(2)班"], drawn["四(1)班"]
    rates = sheets["回收"]
    assert rates[0] == ("班级", "抽到（户）", "已提交（户）", "回收率（%）")
    assert rates[1:5] == [
        ("三(1)班", one, one, 100),
        ("三(2)班", two, two, 100),
        ("其他", four, 0, 0),
        ("全校", 17, one + two, round(100 * (one + two) / 17)),
    ]
    assert rates[6][0] == "说明" and "不足 5 份的班级合并为“其他”" in rates[6][1]

    answers = sheets["各题"]
    assert answers[0] == ("题号", "题目", "范围", "选项", "户数", "占作答（%）")
    first = [row[2:] for row in answers[1:] if row[0] == 1]
    answered = one + two
    assert first == [
        ("全校", "满意", one + 2, round(100 * (one + 2) / answered)),
        ("全校", "基本满意", 0, 0),
        ("全校", "不满意", two - 2, round(100 * (two - 2) / answered)),
        ("三(1)班", "满意", one, 100),
        ("三(1)班", "基本满意", 0, 0),
        ("三(1)班", "不满意", 0, 0),
        ("三(2)班", "满意", 2, round(200 / two)),
        ("三(2)班", "基本满意", 0, 0),
        ("三(2)班", "不满意", two - 2, round(100 * (two - 2) / two)),
        ("其他", "满意", 0, 0),
        ("其他", "基本满意", 0, 0),
        ("其他", "不满意", 0, 0),
    ]
    assert {row[0] for row in answers[1:] if isinstance(row[0], int)} == {1, 2, 3, 4}

    texts = sheets["文字意见"]
    assert texts[0] == ("题号", "题目", "意见")
    assert [row[2] for row in texts[1:] if row[0] == 5] == sorted(
        f"{k}第{n}户的建议" for k in ("三(1)班", "三(2)班") for n in (1, 2)
    )
    async with db.session() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "export.survey"))
        ).all()
    assert [(e.actor, e.subject) for e in entries] == [
        (f"staff:{school.staff['赵敏'].id}", f"survey:{survey_id}")
    ]


async def test_an_anonymous_surveys_export_is_school_wide_and_names_no_family(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    survey_id = await sent_survey(db, clock, school)
    await answer_survey(db, clock, school, survey_id, by_class_answers)
    open_sheets = _sheets(await _exported(tmp_path, survey_id, capsys))
    assert not [row for row in open_sheets["各题"][1:] if isinstance(row[0], int)]
    assert not [row for row in open_sheets["文字意见"][1:] if isinstance(row[0], int)]
    assert any("结束后才显示" in str(row[1]) for row in open_sheets["各题"] if row[0] == "说明")

    await run_at(db, school.school, close_due_surveys, clock() + timedelta(days=7, minutes=1))
    path = await _exported(tmp_path, survey_id, capsys)
    sheets = _sheets(path)
    scopes = {row[2] for row in sheets["各题"][1:] if isinstance(row[0], int)}
    assert scopes == {"全校"}
    second = [row[3:5] for row in sheets["各题"][1:] if row[0] == 2]
    assert second == [("满意", 8), ("基本满意", 5), ("不满意", 4)]
    assert len([row for row in sheets["文字意见"][1:] if row[0] == 8]) == 6
    everything = "\n".join(
        str(cell) for rows in sheets.values() for row in rows for cell in row if cell is not None
    )
    assert "匿名问卷只统计全校" in everything
    assert not any(trace in everything for trace in HER_FAMILY)


@pytest.mark.parametrize(
    ("argument", "staff_no", "said"),
    [
        ("SURVEY", "T01", "王芳（T01）不能导出问卷结果"),
        ("SURVEY", "T99", "名册中没有工号为“T99”"),
        ("999", "T03", "没有编号为 999 的问卷"),
        ("OTHER", "T03", "没有编号为"),
        ("第三次", "T03", "问卷编号应是数字"),
    ],
)
async def test_a_bad_id_or_exporter_is_one_line_and_nothing_is_written(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argument: str,
    staff_no: str,
    said: str,
) -> None:
    survey_id = await sent_survey(db, clock, school, named=True)
    if argument == "OTHER":  # a survey of another school in the same database
        async with db.session() as session:
            other = School(name="别的小学")
            session.add(other)
            await session.flush()
            survey = await session.get(Survey, survey_id)
            assert survey is not None
            survey.school_id = other.id or 0
            session.add(survey)
    ref = str(survey_id) if argument in ("SURVEY", "OTHER") else argument
    path = tmp_path / "survey.xlsx"
    status = await run_main("export", "survey", ref, "--by", staff_no, "-o", str(path))
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("错误：") and said in err and err.count("\n") == 1
    assert not path.exists()
