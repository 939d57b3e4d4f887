"""`export receipts NOTICE -o FILE.xlsx`: write receipts through `models`, export, read back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.receipts import HEADERS, RECEIPTS_SHEET, SUMMARY_SHEET, export_receipts
from bot.exports.xlsx import ExportError
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.notices.queries import NoticeSpec, submit_notice
from models.notices.tables import AudienceKind, NoticeKind
from models.outbox.tables import OutboxMessage, OutboxStatus
from tests.helpers.cli import run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import add_guardian
from tests.helpers.outbox import outbox
from tests.helpers.receipts import ZONE, confirm, local, published_notice

PUBLISHED = local(2026, 11, 16, 10)


async def _sheets(db: Database, path: Path, reference: str) -> dict[str, list[tuple[Any, ...]]]:
    await export_receipts(db, notice_ref=reference, path=path, now=PUBLISHED + timedelta(days=3))
    book = load_workbook(path)
    return {
        name: [tuple(row) for row in book[name].iter_rows(values_only=True)]
        for name in book.sheetnames
    }


async def _scenario(db: Database, clock: FakeClock) -> tuple[Any, int]:
    """三(2)班: 刘梅 bound and confirmed on Telegram; 王磊 has a second guardian who confirmed;
    李娜家长 bound, message sent, not confirmed; the others never bound."""
    ts = await seed_school(db)
    father = await add_guardian(db, ts, "王磊", "王建国", "13600000009", "父亲")
    await bind(db, clock, ts.guardians["刘梅"], channel="telegram", external_id="5001")
    await bind(db, clock, ts.guardians["李娜家长"])
    notice = await published_notice(db, ts, PUBLISHED)
    rows = await outbox(db, prefix=f"notice:{notice.id}:")
    async with db.session() as session:
        for row in rows:
            stored = await session.get(OutboxMessage, row.id)
            assert stored is not None
            stored.status = OutboxStatus.SENT
            session.add(stored)
    await confirm(db, notice, ts.guardians["刘梅"], local(2026, 11, 16, 10, 7), "telegram")
    await confirm(db, notice, father, local(2026, 11, 16, 19, 30), "console")
    return ts, notice.id or 0


async def test_one_row_per_student_with_guardians_receipt_and_reach(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    ts, notice_id = await _scenario(db, clock)
    sheets = await _sheets(db, tmp_path / "receipts.xlsx", str(notice_id))
    rows = sheets[RECEIPTS_SHEET]
    assert rows[0] == HEADERS
    by_student = {row[2]: row for row in rows[1:]}
    assert list(by_student) == ["张小明", "李娜", "王磊", "刘洋", "陈静", "杨帆"]
    assert by_student["张小明"] == (
        "三(2)班",
        ts.students["张小明"].student_no,
        "张小明",
        "母亲 刘梅 13700000000",
        "已确认",
        "母亲 刘梅",
        datetime(2026, 11, 16, 10, 7),
        "Telegram",
        "已送达",
        "是",
    )
    wang = by_student["王磊"]
    assert wang[3] == f"父亲 王磊家长 {ts.guardians['王磊家长'].phone}；父亲 王建国 13600000009"
    assert wang[4:8] == ("已确认", "父亲 王建国", datetime(2026, 11, 16, 19, 30), "控制台")
    assert wang[8:] == ("未绑定，未收到", "否")
    assert by_student["李娜"][4:] == ("未确认", None, None, None, "已送达", "是")
    assert by_student["刘洋"][4:] == ("未确认", None, None, None, "未绑定，未收到", "否")


async def test_the_summary_sheet_names_the_notice_and_its_totals(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    _, notice_id = await _scenario(db, clock)
    sheets = await _sheets(db, tmp_path / "receipts.xlsx", str(notice_id))
    summary = dict(row for row in sheets[SUMMARY_SHEET][1:])
    assert summary["文号"] == "〔2026〕第001号"
    assert summary["标题"] == "秋季研学活动通知"
    assert summary["类型"] == "外出活动"
    assert summary["拟稿"] == summary["批准"] == "赵敏"
    assert summary["发布时间"] == datetime(2026, 11, 16, 10, 0)
    assert summary["回执截止"] == datetime(2026, 11, 18, 10, 0)
    assert (summary["学生数"], summary["已确认"], summary["未确认"]) == (6, 2, 4)
    assert summary["未送达的家庭"] == 4


@pytest.mark.parametrize("reference", ["〔2026〕第001号", "2026-001", "2026-1"])
async def test_the_notice_can_be_named_by_its_number(
    db: Database, clock: FakeClock, tmp_path: Path, reference: str
) -> None:
    await _scenario(db, clock)
    sheets = await _sheets(db, tmp_path / "receipts.xlsx", reference)
    assert len(sheets[RECEIPTS_SHEET]) == 7


async def test_the_export_is_audited(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    _, notice_id = await _scenario(db, clock)
    await _sheets(db, tmp_path / "receipts.xlsx", str(notice_id))
    async with db.session() as session:
        [entry] = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "export.receipts"))
        ).all()
    assert entry.subject == f"notice:{notice_id}" and entry.detail == "6 rows"


async def test_an_unknown_notice_is_a_clear_error(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await _scenario(db, clock)
    path = tmp_path / "receipts.xlsx"
    with pytest.raises(ExportError, match="没有找到通知“〔2025〕第001号”"):
        await export_receipts(db, notice_ref="〔2025〕第001号", path=path, now=PUBLISHED)
    with pytest.raises(ExportError, match="没有找到通知“99”"):
        await export_receipts(db, notice_ref="99", path=path, now=PUBLISHED)
    assert not path.exists()


async def test_a_notice_not_yet_published_has_no_receipts_to_export(
    db: Database, tmp_path: Path
) -> None:
    ts = await seed_school(db)
    spec = NoticeSpec(
        kind=NoticeKind.FEE,
        title="校服费通知",
        body="请缴纳校服费。",
        audience_kind=AudienceKind.SCHOOL,
        audience_ids=(),
        receipt_required=True,
        receipt_deadline=PUBLISHED + timedelta(days=2),
        publish_at=None,
        display_until=PUBLISHED.date() + timedelta(days=10),
    )
    async with db.session() as session:
        notice = await submit_notice(
            session=session,
            school_id=ts.school.id or 0,
            author_id=ts.staff["王芳"].id or 0,
            spec=spec,
            now=PUBLISHED,
            zone=ZONE,
            self_approved=False,
        )
    with pytest.raises(ExportError, match="还没有发布（待审批）"):
        await export_receipts(
            db, notice_ref=str(notice.id), path=tmp_path / "x.xlsx", now=PUBLISHED
        )


# -- the command line ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("cli_environment")
async def test_the_command_writes_the_file_and_says_how_many_students(
    db: Database, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _scenario(db, clock)
    out = tmp_path / "receipts.xlsx"
    code = await run_main("export", "receipts", "〔2026〕第001号", "-o", str(out))
    assert code == 0 and out.exists()
    assert f"已导出 6 名学生的回执到 {out}。" in capsys.readouterr().out


@pytest.mark.usefixtures("cli_environment")
async def test_the_command_exits_2_for_an_unknown_notice(
    db: Database, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _scenario(db, clock)
    code = await run_main("export", "receipts", "秋游", "-o", str(tmp_path / "r.xlsx"))
    assert code == 2
    assert "错误：没有找到通知“秋游”" in capsys.readouterr().err
