"""Conversations: user settings, and the index that finds a conversation's pending task.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE users ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;
        -- The task waiting for the person's answer (a missing slot, or a yes/no) in a conversation.
        CREATE INDEX tasks_pending_in_conversation ON tasks (conversation_id, id DESC)
            WHERE status IN ('needs_input', 'awaiting_confirmation');
        -- Idempotency keys of follow-up messages, which advance an existing task instead of
        -- creating one (a first message's key lives on its task row).
        CREATE TABLE message_receipts (
            user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            key           text NOT NULL,
            request_hash  text NOT NULL,
            task_id       uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            created_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, key)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE message_receipts; DROP INDEX tasks_pending_in_conversation; "
        "ALTER TABLE users DROP COLUMN settings;"
    )
