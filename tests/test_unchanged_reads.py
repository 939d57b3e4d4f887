"""Roster reads kept while no other connection has written (`models.db.unchanged_reads`).

The picker keeps the teacher's classes, a class's page and the chosen student between updates;
a roster change committed anywhere else must be seen by the very next update. These run on
SQLite (`PRAGMA data_version`) and on PostgreSQL (a counter bumped by triggers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select, update

from handlers.context import Context
from handlers.dispatcher import Dispatcher
from handlers.types import Inbound, Transition
from handlers.visit.flow import VISIT_FLOW
from models.conversations.store import InboundSeen, claim_update
from models.db.engine import Database
from models.db.unchanged_reads import (
    KEPT_VERSION_TABLE,
    KeptTableWritten,
    UnchangedReads,
    data_version,
    kept_tables,
)
from models.db.update_tx import KeptReadsMoved
from models.roster.scope import ROSTER_READS
from models.roster.tables import Student
from models.school.tables import SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.database import postgres_url
from tests.helpers.factories import seed_school
from tests.helpers.visits import ZONE, MessengerUser, chat_as


async def set_active(db: Database, name: str, active: bool) -> None:
    async with db.session() as session:
        student = (await session.exec(select(Student).where(Student.name == name))).one()
        student.active = active
        session.add(student)


async def set_active_elsewhere(db: Database, name: str, active: bool) -> None:
    """Another process (its own engine and connections) imports a roster that makes the student
    active or not."""
    other = Database(db.url)
    try:
        await set_active(other, name, active)
    finally:
        await other.dispose()


async def test_a_student_taken_off_the_roster_elsewhere_cannot_be_picked_next(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班")
    assert "张小明" in user.labels
    await set_active_elsewhere(db, "张小明", False)

    await user.press("张小明")

    assert "不能选择这位学生" in user.text
    assert "张小明" not in user.labels


async def test_a_student_taken_off_elsewhere_is_not_on_the_next_page_shown(
    db: Database, clock: FakeClock
) -> None:
    # Through a messenger (each update recorded by its key): on PostgreSQL the class page is a
    # step of one statement, which checks the kept reads' counter itself.
    ts = await seed_school(db)
    user = MessengerUser(await chat_as(db, clock, ts.staff["王芳"]))
    await user.steps("/visit", "三(2)班", "换个班级")
    assert "三(2)班" in user.labels
    await set_active_elsewhere(db, "张小明", False)

    await user.press("三(2)班")

    assert "张小明" not in user.labels
    await user.press("换个班级")
    await set_active(db, "张小明", True)
    await user.press("三(2)班")
    assert "张小明" in user.labels


async def test_a_roster_change_in_this_process_is_seen_at_the_next_update(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班")
    await set_active(db, "张小明", False)  # another connection of the same process
    await user.steps("/visit", "放弃", "三(2)班")
    assert "张小明" not in user.labels

    await set_active(db, "张小明", True)
    await user.steps("/visit", "放弃", "三(2)班")
    assert "张小明" in user.labels


async def test_kept_reads_last_until_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "reads.db"
    here = sqlite3.connect(path, isolation_level=None)
    there = sqlite3.connect(path, isolation_level=None)
    here.execute("CREATE TABLE t (x INTEGER)")
    reads = UnchangedReads()
    calls: list[int] = []

    async def read() -> int:
        calls.append(1)
        return len(calls)

    async def kept(key: str) -> int:
        return await reads.read(data_version(here), key, read)

    assert await kept("k") == 1
    assert await kept("k") == 1  # kept
    here.execute("INSERT INTO t VALUES (1)")  # its own writes do not count
    assert await kept("k") == 1
    there.execute("INSERT INTO t VALUES (2)")  # another connection's commit does
    assert await kept("k") == 2
    assert await kept("other") == 3
    here.close()
    there.close()


# -- the rule that keeps them right: updates never write what is kept -------------------------


async def test_an_update_that_adds_a_student_fails_and_saves_nothing(db: Database) -> None:
    ts = await seed_school(db)
    klass = ts.classes["三(2)班"]
    with pytest.raises(KeptTableWritten) as refused:
        async with db.update_session() as tx:
            await claim_update(
                tx=tx, school_id=ts.school.id or 0, channel="telegram", update_key="roster-1"
            )
            tx.session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no="N1",
                    name="新同学",
                    class_id=klass.id or 0,
                )
            )

    assert refused.value.table == "student"
    async with db.session() as session:
        assert (await session.exec(select(Student).where(Student.name == "新同学"))).first() is None
        assert (await session.exec(select(InboundSeen))).first() is None


async def test_an_update_that_changes_a_class_by_statement_fails(db: Database) -> None:
    ts = await seed_school(db)
    with pytest.raises(KeptTableWritten):
        async with db.update_session() as tx:
            await tx.session.exec(
                update(SchoolClass)
                .where(col(SchoolClass.id) == ts.classes["三(2)班"].id)
                .values(name="三(9)班")
            )
    async with db.session() as session:
        assert (await session.get(SchoolClass, ts.classes["三(2)班"].id or 0)) is not None
        names = (await session.exec(select(SchoolClass.name))).all()
    assert "三(9)班" not in names


async def test_an_update_may_read_the_roster_and_other_transactions_may_write_it(
    db: Database,
) -> None:
    await seed_school(db)
    async with db.update_session() as tx:
        student = (await tx.session.exec(select(Student).where(Student.name == "张小明"))).one()
        tx.session.add(student)  # attached but unchanged: nothing is written
    await set_active(db, "张小明", False)  # a roster import or sync: allowed


async def test_a_step_that_writes_the_roster_is_refused_and_the_teacher_told(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    class_id = ts.classes["三(2)班"].id or 0

    async def start_and_rename_the_class(
        inbound: Inbound, draft: Any, ctx: Context, args: str
    ) -> Transition:
        klass = await ctx.session.get(SchoolClass, class_id)
        assert klass is not None
        klass.name = "三(9)班"
        ctx.session.add(klass)
        return await VISIT_FLOW.start(inbound, draft, ctx, args)

    flow = replace(VISIT_FLOW, start=start_and_rename_the_class)
    user = await chat_as(
        db, clock, ts.staff["王芳"], Dispatcher(db, [flow], zone=ZONE, clock=clock)
    )
    await user.send("/visit")

    assert "没有保存" in user.text
    async with db.session() as session:
        klass = await session.get(SchoolClass, class_id)
    assert klass is not None and klass.name == "三(2)班"


# -- caching through the update's transaction ------------------------------------------------


async def test_a_value_is_read_once_per_update_and_kept_reads_across_updates(
    db: Database,
) -> None:
    await seed_school(db)
    calls: list[str] = []

    def loader(name: str) -> Callable[[], Awaitable[int]]:
        async def read() -> int:
            calls.append(name)
            return len(calls)

        return read

    for _ in range(2):
        async with db.update_session() as tx:
            assert await tx.cached("once", loader("once")) == await tx.cached(
                "once", loader("once")
            )
            await tx.cached("kept", loader("kept"), kept=ROSTER_READS)
            await tx.cached("kept", loader("kept"), kept=ROSTER_READS)

    # Once per update each; the kept read only once in all (nothing wrote the roster).
    assert calls.count("once") == 2
    assert calls.count("kept") == 1

    await set_active(db, "张小明", False)  # a roster write from outside the updates

    async def kept_read() -> None:
        async with db.update_session() as tx:
            await tx.cached("kept", loader("kept"), kept=ROSTER_READS)

    if db.url.startswith("postgres"):
        # The update took the counter it last saw and found it moved at its end: refused, and
        # handled again (as the dispatcher does) it reads afresh.
        with pytest.raises(KeptReadsMoved):
            await kept_read()
        assert calls.count("kept") == 1
    await kept_read()
    assert calls.count("kept") == 2


async def test_a_value_read_under_an_older_counter_is_not_kept() -> None:
    """PostgreSQL runs updates side by side: one that checked the counter before a roster
    change may finish its read after another update has seen the change."""
    reads = UnchangedReads()
    calls: list[str] = []

    async def old() -> str:
        # While this read runs, another update sees the counter moved on and reads afresh.
        assert await reads.read(2, "k", new) == "new"
        calls.append("old")
        return "old"

    async def new() -> str:
        calls.append("new")
        return "new"

    assert await reads.read(1, "k", old) == "old"
    assert await reads.read(2, "k", new) == "new"  # the newer value was kept, not "old"
    assert calls == ["new", "old"]
    # A late update still at the older counter reads afresh and leaves the kept value alone
    # (`old`'s own read of counter 2 is served from it, as is the next one).
    assert await reads.read(1, "k", old) == "old"
    assert await reads.read(2, "k", new) == "new"
    assert calls == ["new", "old", "old"]


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL's triggers (CI runs it)")
async def test_every_kept_table_bumps_the_counter_on_postgresql(db: Database) -> None:
    await seed_school(db)
    async with db.engine.begin() as connection:
        triggered = set(
            (
                await connection.execute(
                    text(
                        "SELECT tgrelid::regclass::text FROM pg_trigger "
                        "WHERE tgname LIKE '%\\_kept\\_reads\\_version'"
                    )
                )
            ).scalars()
        )
    assert {t.strip('"') for t in triggered} >= kept_tables()

    async def version() -> int:
        async with db.engine.begin() as connection:
            found = await connection.scalar(text(f"SELECT version FROM {KEPT_VERSION_TABLE}"))
        return int(found)

    before = await version()
    async with db.engine.begin() as connection:  # one statement on each kept table
        for table in sorted(kept_tables()):
            await connection.execute(text(f'DELETE FROM "{table}" WHERE false'))
    assert await version() == before + len(kept_tables())
