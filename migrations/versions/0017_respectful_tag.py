"""student tags: the special type 智障 is written 智力障碍

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STUDENT = sa.table("student", sa.column("tags", sa.String))


def _rename(old: str, new: str) -> None:
    op.execute(
        _STUDENT.update()
        .where(_STUDENT.c.tags.contains(old))
        .values(tags=sa.func.replace(_STUDENT.c.tags, old, new))
    )


def upgrade() -> None:
    _rename("智障", "智力障碍")


def downgrade() -> None:
    _rename("智力障碍", "智障")
