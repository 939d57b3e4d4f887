"""claim before move: the one-statement step records the update before it moves the conversation

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:00:00.000000

Every other path of an update records its key in `inbound_seen` first and moves the conversation
after (`models.db.update_tx` sends held writes in the order of the calls). The one-statement step
(0008, 0026) did the opposite: it moved the conversation, then inserted the key. With several
workers, the same update handled by two of them at once — one on each path — took the two row
locks in opposite orders and PostgreSQL ended one of them as a deadlock: the teacher saw an
error for a step that was in fact fine.

Now the function inserts the key first (ON CONFLICT DO NOTHING: a redelivery, committed or not
yet, returns 1 having changed nothing; an insert still in flight elsewhere is waited for), then
moves the conversation; if the conversation moved meanwhile it raises `no_data_found`, which
fails the statement and so undoes the insert with it (`DriverBatch.refused_by`). The arguments
are unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARGUMENTS = """
    p_school_id integer, p_channel text, p_update_key text, p_seen_at timestamptz,
    p_flow text, p_state text, p_draft json, p_choices json, p_updated_at timestamptz,
    p_version integer, p_conversation_id integer, p_seen_version integer
"""

FUNCTION = f"""
CREATE OR REPLACE FUNCTION claim_update_and_move_conversation({ARGUMENTS})
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbound_seen (school_id, channel, update_key, seen_at)
    VALUES (p_school_id, p_channel, p_update_key, p_seen_at)
    ON CONFLICT (school_id, channel, update_key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 1;
    END IF;
    UPDATE conversation
       SET flow = p_flow, state = p_state, draft = p_draft, choices = p_choices,
           updated_at = p_updated_at, version = p_version
     WHERE id = p_conversation_id AND version = p_seen_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation moved' USING ERRCODE = 'no_data_found';
    END IF;
    RETURN 0;
END
$$
"""

#: 0026's function: the conversation moved first, then the key inserted.
PREVIOUS = f"""
CREATE OR REPLACE FUNCTION claim_update_and_move_conversation({ARGUMENTS})
RETURNS integer LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PREVIOUS)
