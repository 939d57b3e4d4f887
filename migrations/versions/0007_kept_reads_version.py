"""kept reads version: PostgreSQL's change counter of the tables whose reads updates keep

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00.000000

Updates keep the student picker's roster reads across updates while these tables are unchanged
(`models.db.unchanged_reads`). On SQLite, `PRAGMA data_version` says when another connection has
committed; PostgreSQL has no such thing, so a statement-level trigger on each of them bumps one
counter. `tests/test_unchanged_reads.py` checks that every table some `KeptReads` declares has
its trigger: a table added there needs a migration adding it here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables `models.roster.scope.ROSTER_READS` reads.
TABLES = ("student", "school_class", "teaching", "student_group", "group_member", "group_coach")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE kept_reads_version ("
        " id integer PRIMARY KEY CHECK (id = 1),"
        " version bigint NOT NULL)"
    )
    op.execute("INSERT INTO kept_reads_version (id, version) VALUES (1, 0)")
    op.execute(
        "CREATE FUNCTION bump_kept_reads_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE kept_reads_version SET version = version + 1 WHERE id = 1; "
        "RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f'CREATE TRIGGER "{table}_kept_reads_version" '
            f'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_kept_reads_version()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_kept_reads_version" ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS bump_kept_reads_version()")
    op.execute("DROP TABLE IF EXISTS kept_reads_version")
