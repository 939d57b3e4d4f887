"""`export families`: every student with the household the visits recorded (seed 003 附2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from models.db.engine import Database
from models.families.queries import remember
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.factories import seed_school
from tests.helpers.quota import add_visits

__all__ = ["cli_environment"]


@pytest.mark.usefixtures("cli_environment")
async def test_every_student_is_a_row_and_siblings_share_their_household(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ts = await seed_school(db)
    await add_visits(db, ts, "王芳", ["张小明"])
    async with db.session() as session:
        await remember(
            session=session,
            school_id=ts.school.id or 0,
            student_id=ts.students["张小明"].id or 0,
            answers={"household_size": 5, "carer": "grandparents", "parents_away": True},
            visit_id=1,
            now=datetime(2026, 11, 16, 2, 0, tzinfo=UTC),
        )
    path = tmp_path / "家庭情况.xlsx"

    assert await run_main("export", "families", "-o", str(path)) == 0
    assert f"已导出全校学生的家庭情况到 {path}（已登记 2 户）。" in capsys.readouterr().out

    sheet = load_workbook(path).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "班级",
        "学号",
        "学生",
        "特殊类型",
        "家庭人口",
        "学龄子女",
        "家长就业",
        "在家照顾",
        "住房条件",
        "父母外出务工",
        "登记时间",
    ]
    assert len(rows) == 1 + len(ts.students)
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["张小明"][3:] == [
        "单亲、留守",
        5,
        None,
        None,
        "祖辈",
        None,
        "是",
        datetime(2026, 11, 16, 10, 0),
    ]
    assert by_name["张小红"][4] == 5  # the sister: one household
    assert by_name["李娜"][4:] == [None] * 7  # not recorded yet


@pytest.mark.usefixtures("cli_environment")
async def test_a_missing_folder_is_one_line_and_status_two(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    path = tmp_path / "nowhere" / "家庭情况.xlsx"
    assert await run_main("export", "families", "-o", str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：无法写入") and "\n" not in err
