"""student head: who became each student's head teacher, and when (roster imports)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:50:00.000000

"Newly taken over" students (暑假期间,对新接班学生遍访一次) are those whose head teacher changed in
the school year; the roster keeps only the current head, so each import records the changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "student_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("head_teacher_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["head_teacher_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("student_head", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_student_head_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_student_head_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("student_head", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_student_head_student_id"))
        batch_op.drop_index(batch_op.f("ix_student_head_school_id"))
    op.drop_table("student_head")
