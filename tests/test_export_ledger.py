"""`export ledger`: the problem ledger and its history as a workbook for 德育处."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.ledger import classification_text
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.feedback.tables import FeedbackKind
from models.ledger.tables import LedgerKind, LedgerOutcome
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.duties import local
from tests.helpers.factories import TestSchool
from tests.helpers.ledger_data import add_feedback, handle, manual_item

__all__ = ["cli_environment"]

NOVEMBER = ("--from", "2026-11-01", "--to", "2026-11-30")


async def november(db: Database, ts: TestSchool) -> dict[str, int]:
    """A tracked item with a note, an anonymous complaint closed, a named suggestion still open;
    and one item just before and one just after the month."""
    tracked = await manual_item(db, ts, at=local("2026-11-10 10:00"))
    await handle(
        db,
        ts,
        tracked,
        at=local("2026-11-10 11:00"),
        due_on=date(2026, 11, 30),
        kind=LedgerKind.TRACK,
        every=7,
        note=(local("2026-11-12 18:00"), "已与家长沟通，每晚检查作业"),
    )
    complaint = await add_feedback(
        db,
        ts,
        FeedbackKind.COMPLAINT,
        at=local("2026-11-11 09:00"),
        klass="三(1)班",
        text="食堂的饭菜送到教室时已经凉了",
        anonymous=True,
    )
    await handle(
        db,
        ts,
        complaint or 0,
        at=local("2026-11-11 10:00"),
        due_on=date(2026, 11, 20),
        owner="李强",
        closed=(local("2026-11-13 16:00"), LedgerOutcome.SOLVED, "已配保温箱"),
    )
    suggestion = await add_feedback(
        db,
        ts,
        FeedbackKind.SUGGESTION,
        at=local("2026-11-12 20:00"),
        text="希望增加课后托管",
        guardian="刘梅",
    )
    await manual_item(db, ts, at=local("2026-10-31 23:30"), description="十月的")
    await manual_item(db, ts, at=local("2026-12-01 00:10"), description="十二月的")
    return {"tracked": tracked, "complaint": complaint or 0, "suggestion": suggestion or 0}


def sheets(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path)
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


@pytest.mark.usefixtures("cli_environment")
async def test_items_of_the_range_are_rows_and_their_events_a_second_sheet(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await november(db, school)
    path = tmp_path / "台账.xlsx"

    assert await run_main("export", "ledger", *NOVEMBER, "-o", str(path)) == 0
    out = capsys.readouterr().out
    assert f"已导出 3 条台账及其处理记录（2026-11-01 至 2026-11-30 登记）到 {path}。" in out

    found = sheets(path)
    assert list(found) == ["台账", "处理记录"]
    items, events = found["台账"], found["处理记录"]
    assert items[0] == [
        "编号",
        "登记时间",
        "来源",
        "班级",
        "学生",
        "问题描述",
        "分类",
        "负责人",
        "截止日期",
        "状态",
        "办结时间",
        "办结结果",
    ]
    assert items[1:] == [
        [
            ids["tracked"],
            datetime(2026, 11, 10, 10, 0),
            "教师登记",
            "三(2)班",
            "张小明",
            "作业经常不能按时完成",
            "跟踪解决",
            "王芳",
            datetime(2026, 11, 30, 0, 0),
            "处理中",
            None,
            None,
        ],
        [
            ids["complaint"],
            datetime(2026, 11, 11, 9, 0),
            "家长意见",
            "三(1)班",
            None,
            "食堂的饭菜送到教室时已经凉了",
            "立即解决",
            "李强",
            datetime(2026, 11, 20, 0, 0),
            "已办结",
            datetime(2026, 11, 13, 16, 0),
            "已解决",
        ],
        [
            ids["suggestion"],
            datetime(2026, 11, 12, 20, 0),
            "家长意见",
            None,
            None,
            "希望增加课后托管",
            None,
            None,
            None,
            "待分类",
            None,
            None,
        ],
    ]
    assert events[0] == ["编号", "时间", "经办人", "事项", "内容"]
    assert events[1:] == [
        [ids["tracked"], datetime(2026, 11, 10, 10, 0), "王芳", "登记", None],
        [
            ids["tracked"],
            datetime(2026, 11, 10, 11, 0),
            "赵敏",
            "分类",
            "跟踪解决，负责人 王芳，截止 2026-11-30，每7天记录一次进展",
        ],
        [
            ids["tracked"],
            datetime(2026, 11, 12, 18, 0),
            "王芳",
            "进展",
            "已与家长沟通，每晚检查作业",
        ],
        [ids["complaint"], datetime(2026, 11, 11, 9, 0), None, "登记", None],
        [
            ids["complaint"],
            datetime(2026, 11, 11, 10, 0),
            "赵敏",
            "分类",
            "立即解决，负责人 李强，截止 2026-11-20",
        ],
        [ids["complaint"], datetime(2026, 11, 13, 16, 0), "赵敏", "办结", "已解决：已配保温箱"],
        [ids["suggestion"], datetime(2026, 11, 12, 20, 0), None, "登记", None],
    ]


@pytest.mark.usefixtures("cli_environment")
async def test_no_parent_is_named_anywhere_in_the_workbook(
    db: Database, school: TestSchool, tmp_path: Path
) -> None:
    await november(db, school)
    path = tmp_path / "台账.xlsx"

    assert await run_main("export", "ledger", *NOVEMBER, "-o", str(path)) == 0

    cells = [str(c) for rows in sheets(path).values() for row in rows for c in row if c]
    parents = [g.name for g in school.guardians.values()]
    phones = [g.phone for g in school.guardians.values()]
    assert not [c for c in cells if any(p in c for p in parents + phones)]
    assert "李娜" not in " ".join(cells)  # the anonymous complaint's default author in the helper


@pytest.mark.usefixtures("cli_environment")
async def test_the_status_filter_keeps_only_those_items_and_their_events(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await november(db, school)
    path = tmp_path / "已办结.xlsx"

    assert await run_main("export", "ledger", *NOVEMBER, "--status", "closed", "-o", str(path)) == 0
    assert "已导出 1 条台账及其处理记录（2026-11-01 至 2026-11-30 登记，已办结）" in (
        capsys.readouterr().out
    )

    found = sheets(path)
    assert [row[0] for row in found["台账"][1:]] == [ids["complaint"]]
    assert {row[0] for row in found["处理记录"][1:]} == {ids["complaint"]}
    assert len(found["处理记录"]) == 1 + 3


@pytest.mark.usefixtures("cli_environment")
async def test_the_dates_are_the_schools_local_days_inclusive(
    db: Database, school: TestSchool, tmp_path: Path
) -> None:
    await november(db, school)
    path = tmp_path / "台账.xlsx"

    assert (
        await run_main(
            "export", "ledger", "--from", "2026-10-31", "--to", "2026-11-10", "-o", str(path)
        )
        == 0
    )

    descriptions = [row[5] for row in sheets(path)["台账"][1:]]
    assert descriptions == ["十月的", "作业经常不能按时完成"]


@pytest.mark.usefixtures("cli_environment")
async def test_an_empty_range_writes_the_headers_and_says_so(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "空.xlsx"

    assert await run_main("export", "ledger", *NOVEMBER, "--status", "open", "-o", str(path)) == 0

    assert "2026-11-01 至 2026-11-30 期间没有登记状态为待分类的台账" in capsys.readouterr().out
    assert [len(rows) for rows in sheets(path).values()] == [1, 1]


@pytest.mark.usefixtures("cli_environment")
async def test_the_export_is_audited(db: Database, school: TestSchool, tmp_path: Path) -> None:
    await november(db, school)

    assert await run_main("export", "ledger", *NOVEMBER, "-o", str(tmp_path / "a.xlsx")) == 0

    async with db.session() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "export.ledger"))
        ).all()
    assert [(e.actor, e.detail) for e in entries] == [("cli", "2026-11-01~2026-11-30 全部 3 items")]


@pytest.mark.usefixtures("cli_environment")
async def test_from_after_to_is_one_chinese_line_and_status_two(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "台账.xlsx"

    assert (
        await run_main(
            "export", "ledger", "--from", "2026-12-01", "--to", "2026-11-01", "-o", str(path)
        )
        == 2
    )

    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：开始日期 2026-12-01 晚于结束日期") and "\n" not in err
    assert not path.exists()


@pytest.mark.usefixtures("cli_environment")
async def test_a_name_not_ending_in_xlsx_is_refused(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "台账.csv"

    assert await run_main("export", "ledger", *NOVEMBER, "-o", str(path)) == 2

    assert ".xlsx" in capsys.readouterr().err
    assert not path.exists()


def test_a_classification_note_reads_in_words() -> None:
    names = {3: "王芳"}
    assert classification_text("kind=track;owner=3;due=2026-11-30;every=7", names) == (
        "跟踪解决，负责人 王芳，截止 2026-11-30，每7天记录一次进展"
    )
    assert classification_text("kind=escalate;owner=3;due=2026-12-01;to=区教育局", names) == (
        "上报，负责人 王芳，截止 2026-12-01，上报至区教育局"
    )
    assert classification_text("kind=solve_now;owner=9;due=2026-12-01", names) == (
        "立即解决，截止 2026-12-01"
    )
    assert classification_text("not a classification", names) == "not a classification"
