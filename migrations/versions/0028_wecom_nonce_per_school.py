"""wecom nonce per school: a nonce is a replay only to the school's app that saw it

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 15:30:00.000000

`wecom_nonce` was unique on the nonce alone, so with several schools' WeCom apps on one database
a nonce one app used refused another app's callback that happened to carry the same one. It
takes the school's id and is unique per (school, nonce). The nonces kept (a quarter of an hour's
at most) belong to the first school, the one that ran before schools stood side by side; on a
database with no school they are dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Names SQLite's unnamed constraints get while a batch copies the table, so they can be dropped.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
FIRST_SCHOOL = "(SELECT MIN(id) FROM school)"


def _unique_on_nonce() -> str:
    """The name of the unique key on `nonce`: PostgreSQL's own, SQLite's from `NAMING`."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return "uq_wecom_nonce_nonce"
    for constraint in sa.inspect(bind).get_unique_constraints("wecom_nonce"):
        if list(constraint["column_names"]) == ["nonce"] and constraint["name"]:
            return str(constraint["name"])
    raise RuntimeError("wecom_nonce has no unique key on nonce")


def upgrade() -> None:
    with op.batch_alter_table("wecom_nonce") as batch_op:
        batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE wecom_nonce SET school_id = {FIRST_SCHOOL}")
    op.execute("DELETE FROM wecom_nonce WHERE school_id IS NULL")
    old = _unique_on_nonce()
    with op.batch_alter_table("wecom_nonce", naming_convention=NAMING) as batch_op:
        batch_op.alter_column("school_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_wecom_nonce_school_id", "school", ["school_id"], ["id"])
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint("uq_wecom_nonce_school_id_nonce", ["school_id", "nonce"])


def downgrade() -> None:
    """Back to nonces unique on their own: the same nonce kept for two schools is kept once."""
    op.execute(
        "DELETE FROM wecom_nonce WHERE id NOT IN (SELECT MIN(id) FROM wecom_nonce GROUP BY nonce)"
    )
    with op.batch_alter_table("wecom_nonce", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint("uq_wecom_nonce_school_id_nonce", type_="unique")
        batch_op.create_unique_constraint("uq_wecom_nonce_nonce", ["nonce"])
        batch_op.drop_constraint("fk_wecom_nonce_school_id", type_="foreignkey")
        batch_op.drop_column("school_id")
