"""`python -m bot ledger show|close|reopen`: the same rules as the chat — nothing closes
without a note, only the owner or 德育处 may close or reopen — each refusal one line and
status 2, with nothing changed."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from models.db.engine import Database
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerOutcome,
    LedgerStatus,
)
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.duties import local
from tests.helpers.factories import TestSchool
from tests.helpers.ledger_data import manual_item

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


async def _item(db: Database, item_id: int) -> tuple[LedgerItem, list[LedgerEventKind]]:
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        query = select(LedgerEvent).where(LedgerEvent.item_id == item_id)
        kinds = [e.kind for e in (await session.exec(query.order_by(col(LedgerEvent.id)))).all()]
    return item, kinds


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ("--by", "T03", "--outcome", "solved", "--note", "  "),
            "办结必须写明处理结果（--note），不能为空。",
        ),
        (("--by", "T03", "--outcome", "done", "--note", "好了"), "办结结果“done”无效"),
        (("--by", "T02", "--outcome", "solved", "--note", "好了"), "李强不是台账 #"),
        (("--by", "T99", "--outcome", "solved", "--note", "好了"), "名册中没有工号为“T99”"),
    ],
)
async def test_a_close_the_rules_refuse_is_one_line_and_changes_nothing(
    db: Database,
    school: TestSchool,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    said: str,
) -> None:
    item_id = await manual_item(db, school, at=local("2026-11-16 10:00"))
    status = await run_main("ledger", "close", str(item_id), *argv)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("错误：") and said in err and err.count("\n") == 1
    item, kinds = await _item(db, item_id)
    assert item.status is LedgerStatus.OPEN and kinds == [LedgerEventKind.CREATED]


async def test_the_office_closes_with_a_note_and_reopens_with_a_reason(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = await manual_item(db, school, at=local("2026-11-16 10:00"))
    closing = ("--by", "T03", "--outcome", "unfounded", "--note", "经核实，作业已按时完成")
    assert await run_main("ledger", "close", str(item_id), *closing) == 0
    assert f"台账 #{item_id} 已办结（经核实不属实），办结人：赵敏。" in capsys.readouterr().out
    item, _kinds = await _item(db, item_id)
    assert (item.status, item.outcome) == (LedgerStatus.CLOSED, LedgerOutcome.UNFOUNDED)
    assert await run_main("ledger", "close", str(item_id), *closing) == 2
    assert "这条台账已经办结。" in capsys.readouterr().err
    assert await run_main("ledger", "reopen", str(item_id), "--by", "T03", "--reason", " ") == 2
    assert "重新打开需要写明原因" in capsys.readouterr().err
    reopening = ("--by", "T03", "--reason", "家长再次反映")
    assert await run_main("ledger", "reopen", str(item_id), *reopening) == 0
    item, kinds = await _item(db, item_id)
    assert item.status is LedgerStatus.OPEN
    assert kinds == [LedgerEventKind.CREATED, LedgerEventKind.CLOSED, LedgerEventKind.REOPENED]
    capsys.readouterr()
    assert await run_main("ledger", "show", str(item_id)) == 0
    out = capsys.readouterr().out
    assert f"台账 #{item_id} · 待分类" in out and "问题：作业经常不能按时完成" in out
    assert "办结 · 赵敏 · 经核实不属实：经核实，作业已按时完成" in out
    assert "重新打开 · 赵敏：家长再次反映" in out


async def test_showing_an_unknown_item_says_so(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("ledger", "show", "999") == 2
    assert capsys.readouterr().err == "错误：没有编号为 999 的台账。\n"
