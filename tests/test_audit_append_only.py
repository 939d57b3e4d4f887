"""The audit log is append-only. On PostgreSQL a trigger (migration 0020) refuses every UPDATE
and every DELETE but one in a transaction that said it purges (the retention job's way). No
code of the bot updates or deletes an entry: checked over the source, on every database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, delete, func, select, update

from bot.demo import seed_demo
from bot.roster.importer import import_roster, load_roster
from models.audit.tables import AuditEntry, audit
from models.db.columns import utcnow
from models.db.engine import Database
from tests.helpers.database import postgres_url

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("models", "handlers", "bot", "scheduler")
#: The retention job's module may purge entries past the audit's retention period.
RETENTION = Path("models/privacy/retention.py")
#: Code that changes audit entries, or names the table in SQL.
CHANGING = (
    re.compile(r"\b(?:update|delete)\(\s*AuditEntry\b"),
    re.compile(r"AuditEntry\.__table__\s*\)?\s*\.\s*(?:update|delete)\b"),
    re.compile(r"\b(?:UPDATE|DELETE\s+FROM)\s+\"?audit_log\b", re.IGNORECASE),
    re.compile(r"session\.delete\(\s*(?:entry|audit)"),
)
#: Where the table's name may be written: its model. And the one sanctioned purge outside the
#: retention job: `roster import --replace-demo`, which deletes the demo's fictional log with
#: every other demo record (`bot.roster.importer._clear_demo`).
NAMES_TABLE = {Path("models/audit/tables.py"): 1}
PURGES = {Path("bot/roster/importer.py"): 1}  # off again, after the demo is gone
#: Who may call the retention module's purge: its job, and the demo's replacement.
PURGING = re.compile(r"\b(?:allow_audit_purge|purge_audit|AUDIT_PURGE_SQL)\b")
PURGERS = {Path("scheduler/jobs/retention.py"), Path("bot/roster/importer.py")}


def _sources() -> list[Path]:
    return sorted(p for folder in SOURCES for p in (ROOT / folder).rglob("*.py"))


def test_no_code_of_the_bot_updates_or_deletes_an_audit_entry() -> None:
    found: list[str] = []
    for path in _sources():
        relative = path.relative_to(ROOT)
        if relative == RETENTION:
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in CHANGING:
            found += [f"{relative}: {m.group(0)}" for m in pattern.finditer(source)]
        named = source.count("audit_log")
        if named != NAMES_TABLE.get(relative, 0):
            found.append(f"{relative}: names audit_log {named} times")
        purges = source.count("jiafang.audit_purge")
        if purges and purges != PURGES.get(relative, 0):
            found.append(f"{relative}: sets jiafang.audit_purge")
        if PURGING.search(source) and relative not in PURGERS:
            found.append(f"{relative}: purges the audit log")
    assert found == []
    assert len(_sources()) > 100  # the walk did find the source


@pytest.mark.parametrize(
    "line",
    [
        "await session.exec(update(AuditEntry).values(detail=''))",
        "await session.exec(delete(AuditEntry).where(AuditEntry.id == 1))",
        "AuditEntry.__table__.delete()",
        "text('DELETE FROM audit_log WHERE id = 1')",
        "text(\"update audit_log set detail = ''\")",
    ],
)
def test_the_check_finds_each_way_of_changing_an_entry(line: str) -> None:
    assert any(pattern.search(line) for pattern in CHANGING)


async def _one_entry(db: Database) -> int:
    async with db.session() as session:
        await audit(session=session, actor="staff:1", action="visit.create", subject="visit:1")
    async with db.session() as session:
        return (await session.exec(select(func.count(col(AuditEntry.id))))).one()


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL's trigger (CI runs it)")
async def test_postgresql_refuses_to_update_or_delete_an_entry_but_lets_a_purge_delete(
    db: Database,
) -> None:
    assert await _one_entry(db) == 1
    with pytest.raises(DBAPIError, match="append-only: UPDATE refused"):
        async with db.session() as session:
            await session.exec(update(AuditEntry).values(detail="rewritten"))
    with pytest.raises(DBAPIError, match="append-only: DELETE refused"):
        async with db.session() as session:
            await session.exec(delete(AuditEntry))
    # Setting the purge flag to anything but 'on' is no purge.
    with pytest.raises(DBAPIError, match="append-only: DELETE refused"):
        async with db.session() as session:
            connection = await session.connection()
            await connection.execute(text("SET LOCAL jiafang.audit_purge = 'off'"))
            await session.exec(delete(AuditEntry))
    async with db.session() as session:
        [entry] = (await session.exec(select(AuditEntry))).all()
    assert entry.detail == ""

    async with db.session() as session:  # the retention job's way
        connection = await session.connection()
        await connection.execute(text("SET LOCAL jiafang.audit_purge = 'on'"))
        await session.exec(delete(AuditEntry))
    async with db.session() as session:
        assert (await session.exec(select(func.count(col(AuditEntry.id))))).one() == 0

    # SET LOCAL ends with its transaction: the next one is refused again.
    await _one_entry(db)
    with pytest.raises(DBAPIError, match="append-only: DELETE refused"):
        async with db.session() as session:
            await session.exec(delete(AuditEntry))


async def test_replacing_the_demo_takes_its_audit_log_and_logs_the_replacement(
    db: Database,
) -> None:
    await seed_demo(db, school_name="示范小学", now=utcnow())
    await _one_entry(db)  # someone tried the demo: an account bound, a visit logged …

    roster = load_roster([ROOT / "examples" / "roster.xlsx"])
    await import_roster(db, roster, school_name="阳光小学", replace_demo=True)

    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id)))).all()
    assert entries[0] != "visit.create" and entries[-1] == "roster.replace_demo"
    assert "visit.create" not in entries
