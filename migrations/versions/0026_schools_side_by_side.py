"""schools side by side: one bot per school on one database

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 11:53:41.256241

What one school's bot writes about its messengers and its jobs gets the school's id, and the
unique keys take it in, so that several schools' bots (`bot run` once per school, each with
its own SCHOOL_NAME) share one database without meeting:

* `outbox` (school_id, key), `job_run` (school_id, job, slot),
* `conversation` and `channel_account` (school_id, channel, external_id): the same Telegram user
  in two schools' bots is two accounts and two conversations,
* `inbound_seen` (school_id, channel, update_key) and `wecom_inbox` (school_id, update_key): two
  schools' Telegram bots number their updates alike, a WeCom userid is unique only in its corp,
* `draft`'s owner index (school_id, channel, external_id); an index on visit (school_id,
  visit_date) for the district figures and the digests.

Existing rows belonged to the one school that ran: a conversation and an outbox row take the
school of the channel account they name where there is one, every other row the first school
(the lowest id; a draft has its school already). On a database with no school nothing can own
the rows (failed job runs are all there can be), and they are dropped. APScheduler's stored
jobs are dropped too: each school's bot stores its own under its school's name when it starts.

PostgreSQL's `claim_update_and_move_conversation` (0008) takes the school first now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Names SQLite's unnamed constraints get while a batch copies the table, so they can be dropped.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}

#: (table, the unique key before, the unique key after).
KEYS = [
    ("outbox", ["key"], ["school_id", "key"]),
    ("job_run", ["job", "slot"], ["school_id", "job", "slot"]),
    ("conversation", ["channel", "external_id"], ["school_id", "channel", "external_id"]),
    ("inbound_seen", ["channel", "update_key"], ["school_id", "channel", "update_key"]),
    ("wecom_inbox", ["update_key"], ["school_id", "update_key"]),
    ("channel_account", ["channel", "external_id"], ["school_id", "channel", "external_id"]),
]
#: Tables that get the column (channel_account and draft have it already).
NEW_COLUMN = ["outbox", "job_run", "conversation", "inbound_seen", "wecom_inbox"]
#: Tables whose column is indexed on its own (the unique key leads with it elsewhere).
INDEXED = {"outbox", "job_run"}

OLD_FUNCTION_ARGS = (
    "text, text, timestamptz, text, text, json, json, timestamptz, integer, integer, integer"
)
NEW_FUNCTION_ARGS = "integer, " + OLD_FUNCTION_ARGS

FUNCTION = """
CREATE FUNCTION claim_update_and_move_conversation(
    p_school_id integer, p_channel text, p_update_key text, p_seen_at timestamptz,
    p_flow text, p_state text, p_draft json, p_choices json, p_updated_at timestamptz,
    p_version integer, p_conversation_id integer, p_seen_version integer
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation
       SET flow = p_flow, state = p_state, draft = p_draft, choices = p_choices,
           updated_at = p_updated_at, version = p_version
     WHERE id = p_conversation_id AND version = p_seen_version
       AND NOT EXISTS (
           SELECT 1 FROM inbound_seen
            WHERE school_id = p_school_id AND channel = p_channel AND update_key = p_update_key
       );
    IF NOT FOUND THEN
        IF EXISTS (
            SELECT 1 FROM inbound_seen
             WHERE school_id = p_school_id AND channel = p_channel AND update_key = p_update_key
        ) THEN
            RETURN 1;
        END IF;
        RETURN 2;
    END IF;
    INSERT INTO inbound_seen (school_id, channel, update_key, seen_at)
    VALUES (p_school_id, p_channel, p_update_key, p_seen_at);
    RETURN 0;
END
$$
"""

OLD_FUNCTION = """
CREATE FUNCTION claim_update_and_move_conversation(
    p_channel text, p_update_key text, p_seen_at timestamptz,
    p_flow text, p_state text, p_draft json, p_choices json, p_updated_at timestamptz,
    p_version integer, p_conversation_id integer, p_seen_version integer
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation
       SET flow = p_flow, state = p_state, draft = p_draft, choices = p_choices,
           updated_at = p_updated_at, version = p_version
     WHERE id = p_conversation_id AND version = p_seen_version
       AND NOT EXISTS (
           SELECT 1 FROM inbound_seen WHERE channel = p_channel AND update_key = p_update_key
       );
    IF NOT FOUND THEN
        IF EXISTS (
            SELECT 1 FROM inbound_seen WHERE channel = p_channel AND update_key = p_update_key
        ) THEN
            RETURN 1;
        END IF;
        RETURN 2;
    END IF;
    INSERT INTO inbound_seen (channel, update_key, seen_at)
    VALUES (p_channel, p_update_key, p_seen_at);
    RETURN 0;
END
$$
"""

FIRST_SCHOOL = "(SELECT MIN(id) FROM school)"
#: The school of the channel account a row names, where it names one.
FROM_ACCOUNT = {
    "conversation": (
        "(SELECT MIN(a.school_id) FROM channel_account a "
        "WHERE a.channel = conversation.channel AND a.external_id = conversation.external_id)"
    ),
    "outbox": (
        "(SELECT MIN(a.school_id) FROM channel_account a "
        "WHERE a.channel = outbox.channel AND a.chat_id = outbox.chat_id)"
    ),
}


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of `table`'s unique key on `columns`: PostgreSQL's own, SQLite's from `NAMING`
    (the batch copy names it so)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return f"uq_{table}_{'_'.join(columns)}"
    for constraint in sa.inspect(bind).get_unique_constraints(table):
        if list(constraint["column_names"]) == columns and constraint["name"]:
            return str(constraint["name"])
    raise RuntimeError(f"{table} has no unique key on {columns}")


def _backfill(table: str) -> None:
    source = FROM_ACCOUNT.get(table)
    value = f"COALESCE({source}, {FIRST_SCHOOL})" if source else FIRST_SCHOOL
    op.execute(f"UPDATE {table} SET school_id = {value} WHERE school_id IS NULL")
    # Only on a database without a school: nothing can own these rows (records, no data).
    op.execute(f"DELETE FROM {table} WHERE school_id IS NULL")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in NEW_COLUMN:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        _backfill(table)
    for table, before, after in KEYS:
        old = _unique_name(table, before)
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            if table in NEW_COLUMN:
                batch_op.alter_column("school_id", existing_type=sa.Integer(), nullable=False)
                batch_op.create_foreign_key(
                    f"fk_{table}_school_id", "school", ["school_id"], ["id"]
                )
            if table in INDEXED:
                batch_op.create_index(f"ix_{table}_school_id", ["school_id"], unique=False)
            batch_op.drop_constraint(old, type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_{'_'.join(after)}", after)
    with op.batch_alter_table("draft") as batch_op:
        batch_op.drop_index("ix_draft_owner")
        batch_op.create_index(
            "ix_draft_owner", ["school_id", "channel", "external_id"], unique=False
        )
    with op.batch_alter_table("visit") as batch_op:
        batch_op.create_index("ix_visit_school_date", ["school_id", "visit_date"], unique=False)
    op.execute("DELETE FROM apscheduler_jobs")
    if postgres:
        op.execute(
            f"DROP FUNCTION IF EXISTS claim_update_and_move_conversation({OLD_FUNCTION_ARGS})"
        )
        op.execute(FUNCTION)


def downgrade() -> None:
    """Back to one school's keys: rows of any school but the first are dropped (the keys
    without the school cannot hold two schools' rows)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            f"DROP FUNCTION IF EXISTS claim_update_and_move_conversation({NEW_FUNCTION_ARGS})"
        )
        op.execute(OLD_FUNCTION)
    op.execute("DELETE FROM apscheduler_jobs")
    with op.batch_alter_table("visit") as batch_op:
        batch_op.drop_index("ix_visit_school_date")
    with op.batch_alter_table("draft") as batch_op:
        batch_op.drop_index("ix_draft_owner")
        batch_op.create_index("ix_draft_owner", ["channel", "external_id"], unique=False)
    for table, before, after in reversed(KEYS):
        if table in NEW_COLUMN:
            op.execute(f"DELETE FROM {table} WHERE school_id <> {FIRST_SCHOOL}")
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_{'_'.join(after)}", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_{'_'.join(before)}", before)
            if table in INDEXED:
                batch_op.drop_index(f"ix_{table}_school_id")
            if table in NEW_COLUMN:
                batch_op.drop_constraint(f"fk_{table}_school_id", type_="foreignkey")
                batch_op.drop_column("school_id")
