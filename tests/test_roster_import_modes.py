"""`roster import` on a school that already has a roster, or only the demo: the whole school
with a preview and --yes, --partial that never removes, and the demo never merged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.cli import main
from bot.demo import seed_demo
from bot.settings import get_settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.roster.tables import Staff, Student
from models.school.tables import School, SchoolClass
from models.visits.tables import Visit
from tests.test_roster_import import EXAMPLES, SCHOOL, example_rows, snapshot, write_roster

FULL = [str(EXAMPLES / "roster.xlsx")]


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line on the test database (SQLite or PostgreSQL)."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("SCHOOL_NAME", SCHOOL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def run(*args: str) -> int:
    return await asyncio.to_thread(main, ["roster", "import", *args])


def one_class_file(folder: Path, *new_students: list[str]) -> list[str]:
    """三(1)班 only: its students (and `new_students`), and its three teachers — not 五(2)班's
    head 李强, 德育处's 赵敏 or the coach 孙建国."""
    teachers = [r for r in example_rows("teachers.csv") if r[0] in ("工号", "T001", "T003", "T004")]
    students = [r for r in example_rows("students.csv") if r[0] == "学号" or r[2] == "三(1)班"]
    width = len(students[0])
    students += [row + [""] * (width - len(row)) for row in new_students]
    return [str(path) for path in write_roster(folder, teachers, students)]


async def heads(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        query = select(SchoolClass.name, Staff.name).join(
            Staff, col(Staff.id) == col(SchoolClass.head_teacher_id), isouter=True
        )
        return {klass: head for klass, head in (await session.exec(query)).all()}


async def active_count(db: Database, model: type[Staff] | type[Student]) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model).where(col(model.active))
        return (await session.exec(query)).one()


async def test_a_whole_school_reimport_previews_and_changes_nothing_without_yes(
    db: Database, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(*FULL) == 0
    before = await snapshot(db)
    capsys.readouterr()
    assert await run(*one_class_file(tmp_path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("预览（尚未导入，数据库没有任何改动）：")
    assert "将停用不在名单中的 3 名教师、10 名学生（记录保留，重新导入名单即可恢复）。" in out
    assert out[-1].startswith("确认无误请加 --yes 重新运行")
    assert await snapshot(db) == before


async def test_with_yes_the_whole_school_import_deactivates_who_is_not_in_the_file(
    db: Database, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(*FULL) == 0
    assert await run(*one_class_file(tmp_path), "--yes") == 0
    out = capsys.readouterr().out.splitlines()
    assert "已停用不在名单中的 3 名教师、10 名学生（记录保留，重新导入名单即可恢复）。" in out
    assert (await active_count(db, Staff), await active_count(db, Student)) == (3, 10)
    assert (await heads(db))["五(2)班"] is None


async def test_a_partial_import_of_one_class_keeps_everyone_and_every_head_teacher(
    db: Database, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(*FULL) == 0
    before = await heads(db)
    new = ["20240199", "新同学", "三(1)班", "", "王兰", "母亲", "13800019999"]
    files = one_class_file(tmp_path, new)
    capsys.readouterr()
    assert await run(*files, "--partial") == 0
    out = capsys.readouterr().out
    assert out.startswith("导入完成：")
    assert "学生 11（新增 1）" in out
    assert "未停用（--partial）" in out
    assert await heads(db) == before
    assert (await active_count(db, Staff), await active_count(db, Student)) == (6, 21)


async def test_a_real_roster_is_never_merged_into_the_demo_school(
    db: Database, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=utcnow())
    students = await active_count(db, Student)
    assert await run(*FULL) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"错误：数据库里只有示范学校「{SCHOOL}」")
    assert "--replace-demo" in line
    assert captured.out == ""
    assert await active_count(db, Student) == students


async def test_replace_demo_removes_every_demo_record_and_imports_the_real_school(
    db: Database, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=utcnow())
    assert await run(*FULL, "--replace-demo") == 0
    assert capsys.readouterr().out.startswith("导入完成：教师 6（新增 6），学生 20（新增 20）")
    async with db.session() as session:
        [school] = (await session.exec(select(School))).all()
        visits = (await session.exec(select(func.count()).select_from(Visit))).one()
    assert (school.name, school.demo, visits) == (SCHOOL, False, 0)
    assert await active_count(db, Student) == 20
    # The real school is no demo: a second --replace-demo is refused, and changes nothing.
    assert await run(*FULL, "--replace-demo") == 2
    assert "没有可替换的示范学校" in capsys.readouterr().err
