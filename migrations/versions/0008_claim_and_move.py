"""claim and move: an update's dedupe insert and its conversation move as one call (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00.000000

An update that only moves a conversation on sends these two writes and nothing else. On
PostgreSQL they become one statement, in a transaction of its own: one round trip instead of
BEGIN, two statements and COMMIT (`models.db.update_tx`, `models.conversations.store`).

The function moves the conversation only if the update is new, then records the update, and
returns 0; or 1 if the update was handled before, 2 if the conversation moved meanwhile, having
changed nothing. A redelivery handled at the same moment elsewhere makes the insert fail on the
unique key, which undoes the move with it. Its parameters are the two statements' own, in
order: a change to either statement needs a migration replacing the function.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
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


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS claim_update_and_move_conversation("
        "text, text, timestamptz, text, text, json, json, timestamptz, integer, integer, integer)"
    )
