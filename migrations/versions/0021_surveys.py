"""surveys: forms and their questions (built-in templates and schools' copies), surveys sent to
a drawn sample of families, the families drawn, and their answers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:49:21.325560
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("copied_from", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("template_key", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["copied_from"], ["survey_form.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "template_key", name="uq_survey_form_template"),
    )
    with op.batch_alter_table("survey_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_form_school_id"), ["school_id"], unique=False)

    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("audience_ids", sa.String(length=500), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["form_id"], ["survey_form.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_form_id"), ["form_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_school_id"), ["school_id"], unique=False)
        batch_op.create_index("ix_survey_school_status", ["school_id", "status"], unique=False)

    op.create_table(
        "survey_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prompt", sa.String(length=500), nullable=False),
        sa.Column("options", sa.String(length=1000), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("misconduct", sa.Boolean(), nullable=False),
        sa.Column("counts_satisfaction", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["survey_form.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "position", name="uq_survey_question_position"),
    )
    with op.batch_alter_table("survey_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_question_form_id"), ["form_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_question_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "survey_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("household", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["class_id"], ["school_class.id"]),
        sa.ForeignKeyConstraint(["guardian_id"], ["guardian.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "household", name="uq_survey_recipient_household"),
    )
    with op.batch_alter_table("survey_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_recipient_class_id"), ["class_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_recipient_guardian_id"), ["guardian_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_recipient_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_recipient_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["survey_question.id"]),
        sa.ForeignKeyConstraint(["recipient_id"], ["survey_recipient.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "question_id", name="uq_survey_answer_recipient"),
    )
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_answer_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_survey_answer_survey_question", ["survey_id", "question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_answer_survey_question")
        batch_op.drop_index(batch_op.f("ix_survey_answer_school_id"))

    op.drop_table("survey_answer")
    with op.batch_alter_table("survey_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_recipient_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_recipient_school_id"))
        batch_op.drop_index(batch_op.f("ix_survey_recipient_guardian_id"))
        batch_op.drop_index(batch_op.f("ix_survey_recipient_class_id"))

    op.drop_table("survey_recipient")
    with op.batch_alter_table("survey_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_question_school_id"))
        batch_op.drop_index(batch_op.f("ix_survey_question_form_id"))

    op.drop_table("survey_question")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_school_status")
        batch_op.drop_index(batch_op.f("ix_survey_school_id"))
        batch_op.drop_index(batch_op.f("ix_survey_form_id"))

    op.drop_table("survey")
    with op.batch_alter_table("survey_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_form_school_id"))

    op.drop_table("survey_form")
