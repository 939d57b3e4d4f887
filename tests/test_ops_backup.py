"""`scripts/backup-restore-check`: a district database dumped with pg_dump -Fc, restored into a
fresh database, and every table's row count compared (PostgreSQL only, like the database it
backs up)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from models.db.engine import Database
from models.roster.tables import Guardian, Student
from tests.helpers.database import postgres_url
from tests.helpers.factories import seed_school

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "backup-restore-check"

on_postgres = pytest.mark.skipif(postgres_url() is None, reason="pg_dump backs up PostgreSQL")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False
    )


async def _count(db: Database, table: type[Student] | type[Guardian]) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


@on_postgres
async def test_a_seeded_school_restores_with_every_tables_row_count_equal(
    db: Database, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is missing: install postgresql-client (.ci/run does)")
    await seed_school(db)
    students, guardians = await _count(db, Student), await _count(db, Guardian)
    dump = tmp_path / "district.dump"

    done = await asyncio.to_thread(_run, "-o", str(dump), db.url)

    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line}
    assert lines["public.student"] == [str(students), str(students)]
    assert lines["public.guardian"] == [str(guardians), str(guardians)]
    assert students > 0 and guardians > 0
    assert "equal row counts after restore" in done.stdout
    assert dump.stat().st_size > 0  # the backup is kept where -o said


async def test_a_sqlite_database_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    done = await asyncio.to_thread(_run, f"sqlite:///{tmp_path / 'jiafang.db'}")

    assert done.returncode == 2
    assert "only PostgreSQL" in done.stderr
