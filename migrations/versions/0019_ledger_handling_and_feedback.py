"""ledger handling and feedback: an item's classification, owner, due date and outcome; parents'
feedback and complaints

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:41:19.745595
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("about", sa.String(length=20), nullable=False),
        sa.Column("about_class_id", sa.Integer(), nullable=True),
        sa.Column("about_staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("photo_channel", sa.String(length=16), nullable=False),
        sa.Column("photo_ref", sa.String(length=256), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["about_class_id"],
            ["school_class.id"],
        ),
        sa.ForeignKeyConstraint(
            ["about_staff_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardian.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ledger_item_id"],
            ["ledger_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_guardian_id"), ["guardian_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_school_id"), ["school_id"], unique=False)

    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("class_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("follow_every_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_to", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_ledger_item_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_ledger_item_school_status", ["school_id", "status"], unique=False)
        batch_op.create_foreign_key("fk_ledger_item_class_id", "school_class", ["class_id"], ["id"])
        batch_op.create_foreign_key("fk_ledger_item_owner_id", "staff", ["owner_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ledger_item_owner_id", type_="foreignkey")
        batch_op.drop_constraint("fk_ledger_item_class_id", type_="foreignkey")
        batch_op.drop_index("ix_ledger_item_school_status")
        batch_op.drop_index(batch_op.f("ix_ledger_item_owner_id"))
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("last_progress_at")
        batch_op.drop_column("first_response_at")
        batch_op.drop_column("escalated_to")
        batch_op.drop_column("follow_every_days")
        batch_op.drop_column("due_on")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("kind")
        batch_op.drop_column("class_id")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_school_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_guardian_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))

    op.drop_table("feedback")
