"""`python -m bot audit export --by 工号 --from … --to … -o FILE.xlsx`: the principal only; one
sheet naming who did what as the school reads it, never a guardian's name or phone; the export
is itself audited."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.audit_cli import HEADERS, actor_label
from models.audit.labels import ACTION_LABELS, action_label, subject_label
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.roster.tables import Staff
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.duties import local
from tests.helpers.factories import TestSchool
from tests.helpers.ledger_data import manual_item

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


async def _principal(db: Database, school: TestSchool) -> Staff:
    principal = Staff(
        school_id=school.school.id or 0,
        staff_no="T09",
        name="周校长",
        phone="13900000009",
        roles="principal",
    )
    async with db.session() as session:
        session.add(principal)
    return principal


async def _entries(db: Database, *entries: AuditEntry) -> None:
    async with db.session() as session:
        session.add_all(entries)


async def _log(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all())


def _rows(path: Path) -> list[tuple[Any, ...]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_the_principal_exports_a_days_log_named_and_labelled(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _principal(db, school)
    wang = school.staff["王芳"]
    xiaoming, zhoujie = school.students["张小明"], school.students["周杰"]
    mother = school.guardians["刘梅"]
    erased = school.students["赵刚"]
    async with db.session() as session:
        gone = await session.get(type(erased), erased.id)
        assert gone is not None
        gone.erased_at = utc("2026-11-16 01:00")
        session.add(gone)
    await _entries(
        db,
        # 2026-11-15 23:59 in Shanghai: the day before, not exported.
        AuditEntry(at=utc("2026-11-15 15:59"), actor="cli", action="roster.import"),
        # 2026-11-16 00:00 in Shanghai: the first moment of the day.
        AuditEntry(
            at=utc("2026-11-15 16:00"),
            actor=f"staff:{wang.id}",
            action="visit.create",
            subject="visit:42",
            student_id=xiaoming.id,
        ),
        AuditEntry(
            at=utc("2026-11-16 02:30:15"),
            actor=f"guardian:{mother.id}",
            action="limit.refused",
            subject="parent_message",
            detail="hourly",
        ),
        AuditEntry(
            at=utc("2026-11-16 03:00"),
            actor="cli",
            action="tags.read",
            subject=f"student:{zhoujie.id}",
            detail="export.families",
            student_id=zhoujie.id,
        ),
        AuditEntry(
            at=utc("2026-11-16 04:00"),
            actor=f"staff:{wang.id}",
            action="something.new",
            subject=f"student:{erased.id}",
            student_id=erased.id,
        ),
        # 2026-11-17 00:00 in Shanghai: the day after, not exported.
        AuditEntry(at=utc("2026-11-16 16:00"), actor="cli", action="export.visits"),
    )
    out = tmp_path / "审计日志.xlsx"

    status = await run_main(
        "audit",
        "export",
        "--by",
        "T09",
        "--from",
        "2026-11-16",
        "--to",
        "2026-11-16",
        "-o",
        str(out),
    )

    assert status == 0
    assert capsys.readouterr().out.strip() == (
        f"已导出审计日志 4 条（2026-11-16 至 2026-11-16，导出人：周校长（T09））到 {out}。"
    )
    rows = _rows(out)
    assert rows[0] == HEADERS == ("时间", "操作人", "操作", "对象", "学生", "说明")
    assert rows[1:] == [
        (
            datetime(2026, 11, 16, 0, 0),
            "王芳（T01）",
            "记录家访",
            "家访 #42",
            "三(2)班 张小明",
            None,
        ),
        (
            datetime(2026, 11, 16, 10, 30, 15),
            "家长",
            "消息超出限制被拒",
            "家长留言",
            None,
            "hourly",
        ),
        (
            datetime(2026, 11, 16, 11, 0),
            "命令行",
            "查看特殊类型标记",
            f"学生 #{zhoujie.id}",
            "三(1)班 周杰",
            "export.families",
        ),
        (
            datetime(2026, 11, 16, 12, 0),
            "王芳（T01）",
            "something.new",
            f"学生 #{erased.id}",
            "已删除学生",
            None,
        ),
    ]
    cells = " ".join(str(cell) for row in rows for cell in row)
    assert mother.name not in cells and mother.phone not in cells
    last = (await _log(db))[-1]
    assert (last.action, last.subject) == ("export.audit", f"school:{school.school.id}")
    assert last.actor.startswith("staff:") and "4 rows" in last.detail


@pytest.mark.parametrize(
    ("by", "said"),
    [
        ("T03", "赵敏（工号 T03）不是校长：审计日志只有校长可以导出。"),
        ("T01", "王芳（工号 T01）不是校长"),
        ("T99", "名册中没有工号为“T99”的在职教职工。"),
    ],
)
async def test_anyone_but_the_principal_is_refused_in_one_line_and_nothing_is_written(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    by: str,
    said: str,
) -> None:
    await _principal(db, school)
    out = tmp_path / "审计日志.xlsx"
    argv = ("--by", by, "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(out))

    status = await run_main("audit", "export", *argv)

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("错误：") and said in err and err.count("\n") == 1
    assert not out.exists()
    assert [e.action for e in await _log(db)] == []


async def test_a_range_ending_before_it_starts_is_refused(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _principal(db, school)
    out = tmp_path / "a.xlsx"
    argv = ("--by", "T09", "--from", "2026-11-30", "--to", "2026-11-01", "-o", str(out))
    assert await run_main("audit", "export", *argv) == 2
    assert "开始日期 2026-11-30 晚于结束日期 2026-11-01" in capsys.readouterr().err
    assert not out.exists()


def test_known_actions_have_chinese_labels_and_unknown_ones_keep_their_code() -> None:
    assert action_label("export.audit") == "导出审计日志"
    assert action_label("tags.change") == "更改特殊类型标记"
    assert action_label("care.whatever") == "care.whatever"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in ACTION_LABELS.values())
    assert subject_label("ledger:7") == "台账 #7"
    assert subject_label("odd thing") == "odd thing"


async def test_a_ledger_item_shown_on_the_command_line_names_its_student_in_the_log(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = await manual_item(db, school, at=local("2026-11-16 10:00"))
    assert await run_main("ledger", "show", str(item_id)) == 0
    [entry] = [e for e in await _log(db) if e.action == "ledger.show"]
    assert (entry.subject, entry.student_id) == (f"ledger:{item_id}", school.students["张小明"].id)


def test_an_entry_written_by_a_scheduled_job_names_it_as_such() -> None:
    assert actor_label("job", {}) == "定时任务"
    assert actor_label("cli", {}) == "命令行"
    assert actor_label("guardian:3", {7: ("王芳", "T01")}) == "家长"
    assert actor_label("staff:7", {7: ("王芳", "T01")}) == "王芳（T01）"
