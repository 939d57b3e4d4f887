"""Roster reads kept while no other connection has written (`models.db.unchanged_reads`).

The picker keeps the teacher's classes, a class's page and the chosen student between updates;
a roster change committed anywhere else must be seen by the very next update. These run on
SQLite (where the reads are kept) and on PostgreSQL (where every read goes to the database).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlmodel import select

from models.db.engine import Database
from models.db.unchanged_reads import UnchangedReads
from models.roster.tables import Student
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import chat_as


async def set_active(db: Database, name: str, active: bool) -> None:
    async with db.session() as session:
        student = (await session.exec(select(Student).where(Student.name == name))).one()
        student.active = active
        session.add(student)


async def test_a_student_taken_off_the_roster_elsewhere_cannot_be_picked_next(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班")
    assert "张小明" in user.labels
    # Another process (its own engine and connections) imports a roster without 张小明.
    other = Database(db.url)
    try:
        await set_active(other, "张小明", False)
    finally:
        await other.dispose()

    await user.press("张小明")

    assert "不能选择这位学生" in user.text
    assert "张小明" not in user.labels


async def test_a_roster_change_in_this_process_is_seen_at_the_next_update(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps("/visit", "三(2)班")
    await set_active(db, "张小明", False)  # another connection of the same process
    await user.send("/visit")
    await user.press("三(2)班")
    assert "张小明" not in user.labels

    await set_active(db, "张小明", True)
    await user.send("/visit")
    await user.press("三(2)班")
    assert "张小明" in user.labels


async def test_kept_reads_last_until_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "reads.db"
    here = sqlite3.connect(path, isolation_level=None)
    there = sqlite3.connect(path, isolation_level=None)
    here.execute("CREATE TABLE t (x INTEGER)")
    reads = UnchangedReads(here)
    calls: list[int] = []

    async def read() -> int:
        calls.append(1)
        return len(calls)

    assert await reads.read("k", read) == 1
    assert await reads.read("k", read) == 1  # kept
    here.execute("INSERT INTO t VALUES (1)")  # its own writes do not count
    assert await reads.read("k", read) == 1
    there.execute("INSERT INTO t VALUES (2)")  # another connection's commit does
    assert await reads.read("k", read) == 2
    assert await reads.read("other", read) == 3
    here.close()
    there.close()
