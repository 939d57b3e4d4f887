"""`export evaluation` (bot/exports/evaluation.py): the workbook's rows for the fixture semester
of tests/helpers/evaluation.py, who may export whose figures, and the refusals (one line, no
file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.evaluation import (
    DUTIES_SHEET,
    MONTHS_SHEET,
    SUMMARY_COLUMNS,
    SUMMARY_SHEET,
    export_evaluation,
)
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.errors import CommandRefused
from models.school.rules import DEFAULT_RULES
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.evaluation import EVALUATED, build_semester
from tests.helpers.factories import seed_school
from tests.helpers.quota import YEAR_2026, add_terms

__all__ = ["cli_environment"]


async def export(
    db: Database, path: Path, *, by: str = "T03", teacher: str | None = None, year: bool = False
) -> None:
    await export_evaluation(
        db,
        semester="2026-09-01",
        year=year,
        teacher_no=teacher,
        staff_no=by,
        path=path,
        rules=DEFAULT_RULES,
        now=EVALUATED,
    )


def sheet_rows(path: Path, title: str) -> list[tuple[Any, ...]]:
    return list(load_workbook(path)[title].iter_rows(values_only=True))


async def test_the_summary_has_a_row_per_teacher_with_every_part_and_the_weights(
    db: Database, tmp_path: Path
) -> None:
    await build_semester(db)
    path = tmp_path / "考核.xlsx"
    await export(db, path)
    rows = sheet_rows(path, SUMMARY_SHEET)
    assert rows[0] == tuple(header for header, _ in SUMMARY_COLUMNS)
    by_no = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:5]}
    assert set(by_no) == {"T01", "T02", "T04", "T05"}
    wang = by_no["T01"]
    assert (wang["姓名"], wang["角色"], wang["所带班级"]) == ("王芳", "班主任", "三(2)班")
    assert (wang["常规家访达标月数"], wang["常规家访得分（%）"]) == ("2/5", 66.0)
    assert (wang["联系家长达标月数"], wang["联系家长得分（%）"]) == ("3/5", 73.3)
    assert (wang["重点家访（完成/应完成，人）"], wang["假期家访（完成/应完成）"]) == ("1/2", "4/8")
    assert (wang["立即家访按时"], wang["立即家访逾期完成"], wang["立即家访未完成"]) == (1, 2, 1)
    assert wang["逾期中位数（小时）"] == 15.0
    assert (wang["家访记录（条）"], wang["晚记录（条）"]) == (37, 2)
    assert (wang["班级遍访（人）"], wang["大走访包保（户）"]) == ("5/6", "2/3")
    assert (wang["台账负责（条）"], wang["台账办结（条）"]) == (3, 2)
    assert wang["总分"] == 66.2
    coach = by_no["T04"]
    assert coach["常规家访达标月数"] is None and coach["班级遍访（人）"] is None
    assert coach["总分"] == 52.0
    scores = [row[-1] for row in rows[1:5]]
    assert scores == sorted(scores, reverse=True)  # best first
    notes = [row[0] for row in rows[6:] if row and row[0]]
    assert notes[0] == "说明"
    assert notes[1].startswith(
        "考核期间：semester（2026-09-01 至 2027-02-22），统计截至 2027-02-23 00:00"
    )
    assert "常规家访 20、家长联系 15、重点家访 10、假期家访 10、立即家访 15" in notes[2]
    assert "家访后超过 7 天才记录" in notes[3]


async def test_the_months_and_duties_sheets_list_what_the_figures_count(
    db: Database, tmp_path: Path
) -> None:
    await build_semester(db)
    path = tmp_path / "考核.xlsx"
    await export(db, path, teacher="T01")
    months = sheet_rows(path, MONTHS_SHEET)
    assert months[1:] == [
        ("T01", "王芳", "2026-09", 10, 10, 10, 8),
        ("T01", "王芳", "2026-10", 8, 10, 10, 8),
        ("T01", "王芳", "2026-11", 0, 10, 0, 8),
        ("T01", "王芳", "2026-12", 10, 10, 10, 8),
        ("T01", "王芳", "2027-01", 4, 8, 4, 6),
    ]
    duties = sheet_rows(path, DUTIES_SHEET)
    assert [(r[2], r[3], r[4], r[7], r[8]) for r in duties[1:]] == [
        ("王磊", "三(2)班", "因病缺课两天以上", "按时", None),
        ("王磊", "三(2)班", "因病缺课两天以上", "逾期完成", 24.0),
        ("王磊", "三(2)班", "因病缺课两天以上", "逾期完成", 6.0),
        ("王磊", "三(2)班", "因病缺课两天以上", "未完成", None),
    ]
    numbers = [row[0] for row in sheet_rows(path, SUMMARY_SHEET)[1:]]
    assert [n for n in numbers if n and str(n).startswith("T")] == ["T01"]
    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert [(e.action, e.detail) for e in entries if e.action == "export.evaluation"] == [
        ("export.evaluation", "semester 2026-09-01~2027-02-22 1 teachers")
    ]


async def test_a_teacher_exports_their_own_figures_only(db: Database, tmp_path: Path) -> None:
    await build_semester(db)
    path = tmp_path / "我的考核.xlsx"
    await export(db, path, by="T02")
    numbers = [row[0] for row in sheet_rows(path, SUMMARY_SHEET)[1:]]
    assert [n for n in numbers if n and str(n).startswith("T")] == ["T02"]
    other = tmp_path / "别人的.xlsx"
    with pytest.raises(CommandRefused, match="只能导出本人的家访工作考核"):
        await export(db, other, by="T02", teacher="T01")
    assert not other.exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--semester", "2026-09-01", "--by", "T03"], "本学期还没有家访数据。"),
        (["--semester", "2026-09-01", "--year", "--by", "T03"], "本学年还没有家访数据。"),
        (["--semester", "1999秋季学期", "--by", "T03"], "校历中没有名为“1999秋季学期”的学期。"),
        (["--by", "NOBODY"], "名册中没有工号为“NOBODY”的在职教职工。"),
        (["--teacher", "T99", "--semester", "2026-09-01", "--by", "T03"], "本学期还没有家访数据。"),
    ],
    ids=[
        "a semester with no data",
        "a year with no data",
        "an unknown semester",
        "a bad 工号",
        "no data before the teacher",
    ],
)
@pytest.mark.usefixtures("cli_environment")
async def test_the_command_refuses_in_one_line_and_writes_nothing(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    said: str,
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    path = tmp_path / "考核.xlsx"
    assert await run_main("export", "evaluation", *args, "-o", str(path)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("错误：" + said)
    assert not path.exists()


@pytest.mark.usefixtures("cli_environment")
async def test_an_unknown_teacher_is_named(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_semester(db)
    path = tmp_path / "考核.xlsx"
    code = await run_main(
        "export",
        "evaluation",
        "--semester",
        "2026-09-01",
        "--teacher",
        "T99",
        "--by",
        "T03",
        "-o",
        str(path),
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "错误：没有工号为“T99”的参加考核的教师（任课、带班或带队的在职教职工）。"
    )
    assert not path.exists()
