"""family profile and tag proposal: a household's situation as fields, and 留守 tag changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "family_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=True),
        sa.Column("school_age_children", sa.Integer(), nullable=True),
        sa.Column("parents_work", sa.String(length=20), nullable=True),
        sa.Column("carer", sa.String(length=20), nullable=True),
        sa.Column("housing", sa.String(length=20), nullable=True),
        sa.Column("parents_away", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("student_id"),
    )
    with op.batch_alter_table("family_profile", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_family_profile_school_id"), ["school_id"], unique=False
        )
    op.create_table(
        "tag_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=20), nullable=False),
        sa.Column("add", sa.Boolean(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["proposed_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tag_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_proposal_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tag_proposal_student_id"), ["student_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tag_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_proposal_student_id"))
        batch_op.drop_index(batch_op.f("ix_tag_proposal_school_id"))
    op.drop_table("tag_proposal")
    with op.batch_alter_table("family_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_profile_school_id"))
    op.drop_table("family_profile")
