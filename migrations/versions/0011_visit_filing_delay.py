"""visit filing delay: how late a visit was logged, and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("filed_days_late", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("late_reason", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("late_reason")
        batch_op.drop_column("filed_days_late")
