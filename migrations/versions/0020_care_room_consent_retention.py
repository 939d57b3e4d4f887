"""care room, consent and retention: care cases and their chronology; guardians' consent; retention
runs; the student an audit entry concerns; when a student left or was erased. On PostgreSQL the
audit log becomes append-only: a trigger refuses every UPDATE, and every DELETE but the retention
job's (which sets jiafang.audit_purge for its transaction).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:16:52.618049
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('jiafang.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retention_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_run_ran_at"), ["ran_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_retention_run_school_id"), ["school_id"], unique=False)

    op.create_table(
        "guardian_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardian.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guardian_id", "version"),
    )
    with op.batch_alter_table("guardian_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guardian_consent_guardian_id"), ["guardian_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_guardian_consent_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "care_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("intake", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("referred_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("referred_by_guardian_id", sa.Integer(), nullable=True),
        sa.Column("noticed", sa.String(length=2000), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("basic_info", sa.String(length=2000), nullable=False),
        sa.Column("problem", sa.String(length=2000), nullable=False),
        sa.Column("background", sa.String(length=2000), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_support", sa.String(length=500), nullable=False),
        sa.Column("plan_study", sa.String(length=500), nullable=False),
        sa.Column("plan_daily", sa.String(length=500), nullable=False),
        sa.Column("plan_who", sa.String(length=100), nullable=False),
        sa.Column("plan_every_days", sa.Integer(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eval_student", sa.String(length=2000), nullable=False),
        sa.Column("eval_teacher", sa.String(length=2000), nullable=False),
        sa.Column("eval_parents", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["referred_by_guardian_id"],
            ["guardian.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_staff_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("care_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_case_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_care_case_referred_by_staff_id"), ["referred_by_staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_care_case_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_case_student_id"), ["student_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_case_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "care_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("problem", sa.String(length=2000), nullable=False),
        sa.Column("measures", sa.String(length=2000), nullable=False),
        sa.Column("effect", sa.String(length=2000), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["care_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("care_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_entry_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_entry_school_id"), ["school_id"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("student_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_student_id"), ["student_id"], unique=False)

    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    student = sa.table("student", sa.column("active", sa.Boolean), sa.column("left_at"))
    op.execute(student.update().where(student.c.active.is_(False)).values(left_at=sa.func.now()))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("left_at")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_student_id"))
        batch_op.drop_column("student_id")

    with op.batch_alter_table("care_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_entry_school_id"))
        batch_op.drop_index(batch_op.f("ix_care_entry_case_id"))

    op.drop_table("care_entry")
    with op.batch_alter_table("care_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_case_worker_id"))
        batch_op.drop_index(batch_op.f("ix_care_case_student_id"))
        batch_op.drop_index(batch_op.f("ix_care_case_school_id"))
        batch_op.drop_index(batch_op.f("ix_care_case_referred_by_staff_id"))
        batch_op.drop_index(batch_op.f("ix_care_case_opened_at"))

    op.drop_table("care_case")
    with op.batch_alter_table("guardian_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardian_consent_school_id"))
        batch_op.drop_index(batch_op.f("ix_guardian_consent_guardian_id"))

    op.drop_table("guardian_consent")
    with op.batch_alter_table("retention_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_run_school_id"))
        batch_op.drop_index(batch_op.f("ix_retention_run_ran_at"))

    op.drop_table("retention_run")
