"""The monthly retention job at a fixed `now`: per kind, what is past its keeping time after the
student left is anonymised (visits, incidents, care cases: text blanked, statistics kept) or
deleted (receipts; audit entries past their own retention); one `RetentionRun` per kind; once
per slot. On PostgreSQL the audit log refuses UPDATE and DELETE outside the retention purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from models.audit.tables import AuditEntry, audit
from models.care.tables import CareCase, CareEntry
from models.db.engine import Database
from models.incidents.tables import Incident
from models.notices.tables import NoticeDelivery, NoticeReceipt
from models.privacy.retention import (
    AUDIT_PURGE_SQL,
    past_retention,
    retentions,
    years_before,
)
from models.privacy.tables import RetentionRun
from models.roster.tables import Student
from models.school.rules import SchoolRules
from models.visits.tables import Visit, VisitForm
from scheduler.jobs.retention import RETENTION, apply_retention_job
from scheduler.registry import all_jobs
from scheduler.run import RunConfig, RunStatus, run_job
from tests.helpers.database import postgres_url
from tests.helpers.duties import ZONE, local, run_at
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.privacy import SECRET, write_records
from tests.helpers.receipts import published_notice

#: The job's slot: the 1st of the month, 03:00.
NOW = local("2026-12-01 03:00")


async def _left(db: Database, ts: TestSchool, name: str, at: datetime) -> None:
    async with db.session() as session:
        student = await session.get(Student, ts.students[name].id)
        assert student is not None
        student.active, student.left_at = False, at
        session.add(student)


async def _school(db: Database) -> TestSchool:
    """张小明 left four years ago (past every 3-year retention), 李娜 one year ago; both have
    records; an outing notice reached their class; one audit entry is six years old."""
    ts = await seed_school(db)
    await published_notice(
        db, ts, NOW - timedelta(days=1500), display_until=(NOW - timedelta(days=1490)).date()
    )
    await write_records(db, ts, NOW - timedelta(days=1500), "张小明")
    await write_records(db, ts, NOW - timedelta(days=400), "李娜")
    await _left(db, ts, "张小明", NOW - timedelta(days=4 * 365))
    await _left(db, ts, "李娜", NOW - timedelta(days=365))
    async with db.session() as session:
        await audit(session=session, actor="cli", action="old.entry")
        await audit(session=session, actor="cli", action="recent.entry")
    async with db.engine.begin() as connection:
        # Backdating an entry is no UPDATE the bot could make: on PostgreSQL it needs the trigger
        # out of the way for this one statement of the test's set-up.
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            )
        await connection.execute(
            text("UPDATE audit_log SET at = :at WHERE action = 'old.entry'"),
            {"at": NOW - timedelta(days=6 * 366)},
        )
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            )
    return ts


async def _runs(db: Database) -> dict[str, tuple[str, int]]:
    async with db.session() as session:
        rows = (await session.exec(select(RetentionRun).order_by(col(RetentionRun.id)))).all()
    return {r.kind: (r.action, r.count) for r in rows}


async def _visits_of(db: Database, ts: TestSchool, name: str) -> list[Visit]:
    async with db.session() as session:
        query = select(Visit).where(col(Visit.student_id) == ts.students[name].id)
        return list((await session.exec(query)).all())


# -- the rules -------------------------------------------------------------------------------------


def test_each_kind_has_its_setting_and_defaults() -> None:
    assert [(r.kind.value, r.years, r.action) for r in retentions(SchoolRules())] == [
        ("visits", 3, "anonymised"),
        ("incidents", 3, "anonymised"),
        ("cases", 3, "anonymised"),
        ("receipts", 3, "deleted"),
        ("audit", 5, "deleted"),
    ]
    rules = SchoolRules(retention_visits_years=10, retention_audit_years=7)
    assert [r.years for r in retentions(rules)] == [10, 3, 3, 3, 7]


def test_a_student_on_the_roster_is_never_past_retention() -> None:
    cutoff = years_before(NOW, 3)
    assert cutoff == local("2023-12-01 03:00")
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert not past_retention(None, cutoff)
    assert past_retention(cutoff - timedelta(seconds=1), cutoff)
    assert not past_retention(cutoff, cutoff)


def test_the_job_runs_monthly_on_the_first_at_three() -> None:
    assert RETENTION in all_jobs()
    assert RETENTION.schedule(SchoolRules()) == {"day": 1, "hour": 3, "minute": 0}


# -- the pass --------------------------------------------------------------------------------------


async def test_visits_incidents_and_cases_past_retention_are_blanked_and_counts_kept(
    db: Database,
) -> None:
    ts = await _school(db)
    await run_at(db, ts.school, apply_retention_job, NOW)
    [old] = await _visits_of(db, ts, "张小明")
    [recent] = await _visits_of(db, ts, "李娜")
    assert (old.school_report, old.family, old.problems, old.notes, old.met) == ("", "", "", "", "")
    assert old.form is VisitForm.HOME and old.needs_school
    assert recent.problems == f"{SECRET}问题：经济困难"
    async with db.session() as session:
        incidents = {i.student_id: i for i in (await session.exec(select(Incident))).all()}
        cases = {c.student_id: c for c in (await session.exec(select(CareCase))).all()}
        entries = {e.case_id: e for e in (await session.exec(select(CareEntry))).all()}
    gone, kept = ts.students["张小明"].id or 0, ts.students["李娜"].id or 0
    assert (incidents[gone].what, incidents[gone].kind.value) == ("", "injury")
    assert incidents[kept].what == f"{SECRET}操场摔倒"
    assert (cases[gone].noticed, cases[gone].problem) == ("", "")
    assert cases[kept].noticed == f"{SECRET}情绪低落"
    assert entries[cases[gone].id or 0].measures == ""
    assert entries[cases[kept].id or 0].measures == f"{SECRET}谈话措施"
    runs = await _runs(db)
    assert runs["visits"] == ("anonymised", 1)
    assert runs["incidents"] == ("anonymised", 1)
    assert runs["cases"] == ("anonymised", 2)  # the case and its entry


async def test_receipts_of_students_past_retention_are_deleted(db: Database) -> None:
    ts = await _school(db)
    async with db.session() as session:
        before = (await session.exec(select(NoticeReceipt))).all()
        deliveries_before = len((await session.exec(select(NoticeDelivery))).all())
    await run_at(db, ts.school, apply_retention_job, NOW)
    async with db.session() as session:
        after = (await session.exec(select(NoticeReceipt))).all()
        deliveries_after = len((await session.exec(select(NoticeDelivery))).all())
    gone = ts.students["张小明"].id
    assert gone in {r.student_id for r in before}
    assert {r.student_id for r in after} == {r.student_id for r in before} - {gone}
    action, count = (await _runs(db))["receipts"]
    assert action == "deleted"
    assert count == len(before) - len(after) + deliveries_before - deliveries_after
    assert count >= 1


async def test_audit_entries_past_their_retention_are_deleted(db: Database) -> None:
    ts = await _school(db)
    await run_at(db, ts.school, apply_retention_job, NOW)
    async with db.session() as session:
        actions = {e.action for e in (await session.exec(select(AuditEntry))).all()}
    assert "old.entry" not in actions and "recent.entry" in actions
    assert (await _runs(db))["audit"] == ("deleted", 1)


async def test_the_job_runs_once_per_slot_and_a_later_pass_changes_nothing(db: Database) -> None:
    await _school(db)
    config = RunConfig(zone=ZONE, owner="test:1")
    first = await run_job(db, config, RETENTION, slot=NOW, now=NOW)
    again = await run_job(db, config, RETENTION, slot=NOW, now=NOW)
    assert (first.status, again.status) == (RunStatus.DONE, RunStatus.SKIPPED)
    async with db.session() as session:
        assert len((await session.exec(select(RetentionRun))).all()) == 5
    nxt = local("2027-01-01 03:00")
    assert (await run_job(db, config, RETENTION, slot=nxt, now=nxt)).status is RunStatus.DONE
    async with db.session() as session:
        later = (
            await session.exec(select(RetentionRun).where(col(RetentionRun.ran_at) == nxt))
        ).all()
    assert {r.kind: r.count for r in later} == {
        "visits": 0,
        "incidents": 0,
        "cases": 0,
        "receipts": 0,
        "audit": 0,
    }


# -- PostgreSQL: the audit log is append-only -------------------------------------------------------


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL's trigger (CI runs it)")
async def test_the_audit_log_refuses_update_and_delete_outside_the_retention_purge(
    db: Database,
) -> None:
    async with db.session() as session:
        await audit(session=session, actor="cli", action="kept.entry")
    for statement in (
        "UPDATE audit_log SET detail = 'changed'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text(statement))
    async with db.engine.begin() as connection:
        await connection.execute(text(AUDIT_PURGE_SQL))
        with pytest.raises(DBAPIError, match="append-only"):
            async with connection.begin_nested():
                await connection.execute(text("UPDATE audit_log SET detail = 'changed'"))
        deleted = await connection.execute(text("DELETE FROM audit_log"))
    assert deleted.rowcount >= 1
    async with db.session() as session:
        assert (await session.exec(select(AuditEntry))).all() == []
