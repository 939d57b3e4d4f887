"""survey findings: what a survey found that the school must follow (a misconduct answer, low
satisfaction), the cause of a ledger item or a key-visit duty

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 05:05:56.756027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["school_class.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["survey_question.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "key", name="uq_survey_finding_key"),
    )
    with op.batch_alter_table("survey_finding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_finding_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_finding_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_finding_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_finding_school_id"))
    op.drop_table("survey_finding")
