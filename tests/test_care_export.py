"""`python -m bot export cases --by 工号`: only the care room and the principal may export the
care room's cases (the permission matrix, checked by 工号); anyone else gets one line and status 2
with no file; the export holds every case and its chronology and is audited in the exporter's
name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from models.db.engine import Database
from tests.helpers.care import NOTICED, add_care_staff, audit_rows, cases, refer
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.visits import chat_as, full_dispatcher, person

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


async def _two_cases(db: Database, school: TestSchool, clock: FakeClock) -> None:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher)
    worker = await person(db, clock, dispatcher, care.worker)
    [case] = await cases(db)
    await worker.send(f"/cases {case.id}")
    await worker.steps("接手", "评估", "经济", "中", "帮扶计划", "跳过", "跳过", ">申请助学金")
    await worker.steps(">周心", "每14天", "记录辅导", "就是现在", ">关爱室", ">家里困难")
    await worker.steps(">帮助填写助学金申请", ">已提交")
    clock.advance(days=20)
    await refer(teacher, "李娜", "常说肚子疼不想上学")


@pytest.mark.parametrize(
    ("staff_no", "said"),
    [
        ("T01", "王芳（T01）不能导出关爱室个案"),
        ("T03", "赵敏（T03）不能导出关爱室个案"),
        ("T99", "名册中没有工号为“T99”"),
    ],
)
async def test_staff_outside_the_care_room_and_the_principal_cannot_export_cases(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    staff_no: str,
    said: str,
) -> None:
    await _two_cases(db, school, clock)
    path = tmp_path / "cases.xlsx"
    status = await run_main("export", "cases", "--by", staff_no, "-o", str(path))
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("错误：") and said in err and err.count("\n") == 1
    assert not path.exists()
    assert await audit_rows(db, "export.") == []


@pytest.mark.parametrize("staff_no", ["C01", "P01"])
async def test_the_care_room_and_the_principal_export_every_case_and_its_chronology(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    staff_no: str,
) -> None:
    await _two_cases(db, school, clock)
    path = tmp_path / "cases.xlsx"
    assert await run_main("export", "cases", "--by", staff_no, "-o", str(path)) == 0
    assert "已导出 2 个关爱室个案及其记录" in capsys.readouterr().out
    book = load_workbook(path)
    assert book.sheetnames == ["个案", "辅导记录"]
    rows = list(book["个案"].iter_rows(values_only=True))
    assert rows[0][:10] == (
        "编号",
        "受理时间",
        "来源",
        "紧急程度",
        "班级",
        "学生",
        "转介人/求助人",
        "反映情况",
        "跟进人",
        "状态",
    )
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["学生"], first["反映情况"], first["跟进人"], first["状态"]) == (
        "张小明",
        NOTICED,
        "周心",
        "跟进中",
    )
    assert (first["性质"], first["程度"], first["生活帮扶"], first["联系间隔（天）"]) == (
        "经济",
        "中",
        "申请助学金",
        14,
    )
    assert first["受理时间"] == datetime(2026, 11, 16, 10, 0)
    assert rows[2][5] == "李娜" and rows[2][9] == "已受理"
    entries = list(book["辅导记录"].iter_rows(values_only=True))
    kinds = [row[2] for row in entries[1:]]
    assert kinds == ["受理", "接手", "评估", "帮扶计划", "辅导记录", "受理"]
    contact = dict(zip(entries[0], entries[5], strict=True))
    assert (contact["地点"], contact["措施"], contact["效果"]) == (
        "关爱室",
        "帮助填写助学金申请",
        "已提交",
    )
    [audited] = await audit_rows(db, "export.")
    staff = school.staff["周心" if staff_no == "C01" else "高远"]
    assert (audited.action, audited.actor) == ("export.cases", f"staff:{staff.id}")
    assert "2 cases" in audited.detail


async def test_the_export_keeps_to_the_dates_the_cases_were_opened(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _two_cases(db, school, clock)
    path = tmp_path / "later.xlsx"
    argv = ("export", "cases", "--by", "C01", "--from", "2026-12-01", "-o", str(path))
    assert await run_main(*argv) == 0
    assert "已导出 1 个关爱室个案" in capsys.readouterr().out
    rows = list(load_workbook(path)["个案"].iter_rows(values_only=True))
    assert [row[5] for row in rows[1:]] == ["李娜"]
