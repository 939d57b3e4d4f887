"""ledger: the problem ledger 问题台账, its items and their append-only history

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id"),
    )
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_item_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_item_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_item_student_id"), ["student_id"], unique=False
        )
    op.create_table(
        "ledger_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["ledger_item.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_event_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_event_item_id"))
    op.drop_table("ledger_event")
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_item_student_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_item_school_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_item_created_at"))
    op.drop_table("ledger_item")
