"""`export survey ID --by 工号 -o FILE.xlsx`: one survey's results 问卷结果 as an .xlsx workbook,
for 德育处 and the principal.

The member of staff named by `--by` must be one whose roles reach `Action.SURVEY_RESULTS` in the
permission matrix (德育处, the principal), as for `/survey results`; anyone else gets one line and
exit status 2, with nothing written. The export is audited in their name (`export.survey`).

The figures are `models.surveys.results.survey_results`'s, the same the chat shows, and the file
names no family, for a named form as for an anonymous one (the school follows a named family's
problem through the ledger and its key visit, not through this file):

* sheet 回收: one row per class shown and one for 其他 (families drawn, submitted, the rate), then
  全校;
* sheet 各题: one row per question, group and option — 全校 first, then (a named form) each
  class and 其他 — with the count and its share of the families that answered, and a row 未答
  where families left an optional question blank;
* sheet 文字意见: each free text with its question, sorted by its words, without name or class.

Each sheet ends with a 说明 row: groups under five submissions are merged, an anonymous form is
counted school-wide only, and why nothing is shown when the figures are withheld.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import col, select

from bot.exports.xlsx import (
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.settings import Settings
from models.db.engine import Database
from models.errors import CommandRefused
from models.permissions.matrix import Action, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Staff
from models.surveys.results import (
    MIN_GROUP,
    Distribution,
    QuestionResult,
    SurveyResults,
    Withheld,
    survey_results,
)
from models.surveys.tables import STATUS_LABELS, Survey

RATES_SHEET = "回收"
ANSWERS_SHEET = "各题"
TEXTS_SHEET = "文字意见"
RATE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("班级", 14),
    ("抽到（户）", 10),
    ("已提交（户）", 12),
    ("回收率（%）", 10),
)
ANSWER_COLUMNS: tuple[tuple[str, int], ...] = (
    ("题号", 6),
    ("题目", 50),
    ("范围", 12),
    ("选项", 14),
    ("户数", 8),
    ("占作答（%）", 12),
)
TEXT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("题号", 6),
    ("题目", 40),
    ("意见", 80),
)
SCHOOL_WIDE = "全校"
OTHER = "其他"
SKIPPED = "未答"


def parse_survey_id(text: str) -> int:
    """`12` or `#12`, or a clear error."""
    cleaned = text.strip().lstrip("#＃")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise CommandRefused(f"问卷编号应是数字（例如 12），收到的是“{text}”。")
    return int(cleaned)


async def exporter(db: Database, school_id: int, staff_no: str) -> Staff:
    """The member of staff named by 工号, if the matrix lets them see survey results; else
    refused."""
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school_id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), Action.SURVEY_RESULTS):
        raise CommandRefused(
            f"{staff.name}（{staff.staff_no}）不能导出问卷结果：只有德育处和校长可以导出。"
        )
    return staff


def notes(results: SurveyResults) -> list[str]:
    """The 说明 rows' words."""
    said = [
        f"不足 {MIN_GROUP} 份的班级合并为“其他”；“其他”不足 {MIN_GROUP} 份时，提交最少的班级一并计入。"
    ]
    if results.anonymous:
        said.append("匿名问卷只统计全校，不分班级；不列出任何家庭、班级或填写时间。")
    if results.withheld is Withheld.TOO_FEW:
        said.append(f"已提交不足 {MIN_GROUP} 份，不显示各题分布和文字意见。")
    elif results.withheld is Withheld.OPEN_ANONYMOUS:
        said.append(
            "匿名问卷在结束后才显示各题分布和文字意见（答卷期间逐份变化的结果能推出刚提交的家庭的答案）。"
        )
    return said


def _notes_rows(sheet: WriteOnlyWorksheet, results: SurveyResults) -> None:
    sheet.append([])
    for line in notes(results):
        sheet.append(["说明", line])


def answer_rows(question: QuestionResult) -> list[list[Any]]:
    """The rows of one question with options: 全校, then each group."""
    assert question.school is not None
    shown: list[tuple[str, Distribution]] = [(SCHOOL_WIDE, question.school)]
    shown += [(OTHER if g.merged else g.name, d) for g, d in question.by_group]
    rows: list[list[Any]] = []
    for scope, counted in shown:
        for value, count in counted.counts:
            rows.append(
                [
                    question.position,
                    question.prompt,
                    scope,
                    value,
                    count,
                    counted.percent(value),
                ]
            )
        if counted.skipped:
            rows.append([question.position, question.prompt, scope, SKIPPED, counted.skipped, None])
    return rows


def fill(workbook: Workbook, results: SurveyResults) -> None:
    rates = table_sheet(workbook, RATES_SHEET, RATE_COLUMNS)
    for group in results.groups:
        name = OTHER if group.merged else group.name
        rates.append([name, group.drawn, group.submitted, group.percent])
    rates.append([SCHOOL_WIDE, results.drawn, results.submitted, results.percent])
    _notes_rows(rates, results)
    answers = table_sheet(workbook, ANSWERS_SHEET, ANSWER_COLUMNS)
    for question in results.questions:
        if not question.is_text:
            for row in answer_rows(question):
                answers.append(row)
    _notes_rows(answers, results)
    texts = table_sheet(workbook, TEXTS_SHEET, TEXT_COLUMNS)
    for question in results.questions:
        for text in question.texts:
            texts.append([question.position, question.prompt, text])
    _notes_rows(texts, results)


async def export_survey(
    db: Database,
    *,
    survey_ref: str,
    staff_no: str,
    path: Path,
    school_name: str | None = None,
) -> SurveyResults:
    """Write the survey's results to `path` for the member of staff `staff_no`."""
    survey_id = parse_survey_id(survey_ref)
    path = output_path(path)
    async with db.session() as session:
        school = await export_school(session, school_name)
    staff = await exporter(db, school.id or 0, staff_no)
    async with db.session() as session:
        results = await survey_results(session, school.id or 0, survey_id)
        if results is None:
            survey = await session.get(Survey, survey_id)
            if survey is not None and survey.school_id == school.id:
                raise CommandRefused(
                    f"问卷 #{survey_id} 还没有发出（{STATUS_LABELS[survey.status]}），没有结果可导出。"
                )
            raise CommandRefused(f"{school.name}没有编号为 {survey_id} 的问卷。")
    workbook = Workbook(write_only=True)
    fill(workbook, results)
    await save_audited(
        db,
        workbook,
        path,
        actor=f"staff:{staff.id}",
        action="export.survey",
        subject=f"survey:{survey_id}",
        detail=f"{results.submitted}/{results.drawn} submitted",
    )
    return results


async def run_export_survey(
    settings: Settings, *, survey_ref: str, staff_no: str, output: Path
) -> int:
    """`python -m bot export survey …`: export and say what was written."""

    async def export(db: Database) -> SurveyResults:
        return await export_survey(
            db,
            survey_ref=survey_ref,
            staff_no=staff_no,
            path=output,
            school_name=settings.school_name,
        )

    def said(results: SurveyResults) -> str:
        shown = "" if results.withheld is None else "（各题分布暂不显示，原因见表中说明）"
        return (
            f"已导出问卷 #{results.survey_id}《{results.form_name}》的结果到 {output}："
            f"已提交 {results.submitted}/{results.drawn}{shown}。"
        )

    return await run_export(settings, export, said)
