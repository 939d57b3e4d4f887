"""parent_message: a parent's own message to the school (a leave to confirm, or a message)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parent_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("head_teacher_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leave_from", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("absence_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=500), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["absence_id"], ["absence.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["guardian_id"], ["guardian.id"]),
        sa.ForeignKeyConstraint(["head_teacher_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("parent_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_parent_message_guardian_id"), ["guardian_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_parent_message_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_parent_message_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_parent_message_student_id"), ["student_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("parent_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parent_message_student_id"))
        batch_op.drop_index(batch_op.f("ix_parent_message_sent_at"))
        batch_op.drop_index(batch_op.f("ix_parent_message_school_id"))
        batch_op.drop_index(batch_op.f("ix_parent_message_guardian_id"))
    op.drop_table("parent_message")
