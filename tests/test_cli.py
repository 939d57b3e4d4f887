"""The CLI's export and demo commands: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import _parser, main
from models.db.engine import Database
from models.school.tables import School
from scheduler.registry import all_jobs
from tests.helpers.cli import run_main
from tests.helpers.factories import seed_school

pytestmark = pytest.mark.usefixtures("cli_environment")


async def test_export_writes_the_file_and_says_how_many_rows(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    out = tmp_path / "visits.xlsx"
    code = await run_main(
        "export", "visits", "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(out)
    )
    assert code == 0
    assert out.exists()
    assert "没有家访记录；已写出只有表头的文件" in capsys.readouterr().out


async def test_export_of_an_unknown_class_exits_2_with_a_clear_message(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    code = await run_main(
        "export",
        "visits",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--class",
        "六(9)班",
        "-o",
        str(tmp_path / "v.xlsx"),
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "错误：没有找到班级“六(9)班”" in err
    assert "Traceback" not in err


async def test_export_with_from_after_to_exits_2_with_a_clear_message(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_main(
        "export",
        "visits",
        "--from",
        "2026-12-01",
        "--to",
        "2026-11-01",
        "-o",
        str(tmp_path / "v.xlsx"),
    )
    assert code == 2
    assert "开始日期 2026-12-01 晚于结束日期 2026-11-01" in capsys.readouterr().err


async def test_export_into_a_missing_folder_exits_2(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    code = await run_main(
        "export",
        "visits",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "-o",
        str(tmp_path / "missing" / "v.xlsx"),
    )
    assert code == 2
    assert "不存在" in capsys.readouterr().err


async def test_a_malformed_date_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        await run_main("export", "visits", "--from", "11/01", "--to", "2026-11-30", "-o", "v.xlsx")
    assert exit_info.value.code == 2
    assert "--from" in capsys.readouterr().err


async def test_demo_on_a_database_with_a_school_exits_2_and_explains_force_in_one_line(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.session() as session:
        session.add(School(name="真实小学"))
    assert await run_main("demo") == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("错误：数据库里已经有学校「真实小学」") and "--force" in line


def test_a_malformed_export_date_is_refused_with_the_expected_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "visits", "--from", "2026-13-01", "--to", "2026-11-30", "-o", "x.xlsx"])
    assert exit_info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_commands_help_is_written_in_chinese() -> None:
    english = [
        f"{parser.prog} {action.dest}: {action.help}"
        for parser in _parsers(_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and not re.search(r"[\u4e00-\u9fff]", action.help or "")
    ]
    assert english == []


def test_every_jobs_description_is_written_in_chinese() -> None:
    english = [job.name for job in all_jobs() if not re.search(r"[\u4e00-\u9fff]", job.describe)]
    assert english == []
