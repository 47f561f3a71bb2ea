"""The core: users, conversations, tasks (the outbox), task events.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NAMES = ["queued", "running", "succeeded", "retrying", "dead_lettered", "needs_input"]
_NAMES += ["awaiting_confirmation", "cancelled"]
STATUSES = ", ".join(f"'{name}'" for name in _NAMES)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id          uuid PRIMARY KEY,
            token_hash  bytea NOT NULL UNIQUE,
            timezone    text NOT NULL DEFAULT 'UTC',
            name        text,
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE conversations (
            id          uuid PRIMARY KEY,
            user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            state       jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX conversations_user ON conversations (user_id);
        """
    )
    op.execute(
        f"""
        CREATE TABLE tasks (
            id               uuid PRIMARY KEY,
            user_id          uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            conversation_id  uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            kind             text NOT NULL,
            lane             text NOT NULL,
            intent           text NOT NULL,
            slots            jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            input            jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            parser           text,
            status           text NOT NULL CHECK (status IN ({STATUSES})),
            reply            text,
            result           jsonb,
            error            jsonb,
            attempts         integer NOT NULL DEFAULT 0,
            max_attempts     integer NOT NULL DEFAULT 5,
            not_before       timestamptz NOT NULL DEFAULT now(),
            publish_after    timestamptz NOT NULL DEFAULT now(),
            published_at     timestamptz,
            lease_owner      text,
            lease_expires_at timestamptz,
            idempotency_key  text,
            request_hash     text,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT tasks_idempotency UNIQUE (user_id, idempotency_key)
        ) WITH (fillfactor = 80);
        -- The caller's pages, newest first (ids are UUIDv7, so id order is creation order).
        CREATE INDEX tasks_user_page ON tasks (user_id, id DESC);
        -- The outbox: what the relay must still publish, by when.
        CREATE INDEX tasks_unpublished ON tasks (publish_after) WHERE published_at IS NULL;
        -- Queued long after publication: republished in case the broker lost the entry.
        CREATE INDEX tasks_queued_published ON tasks (published_at) WHERE status = 'queued';
        -- Leases to recover when a worker died holding a task.
        CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE status = 'running';
        CREATE INDEX tasks_dead_letters ON tasks (id DESC) WHERE status = 'dead_lettered';

        CREATE TABLE task_events (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            task_id      uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            at           timestamptz NOT NULL DEFAULT clock_timestamp(),
            from_status  text,
            to_status    text NOT NULL,
            reason       text NOT NULL,
            attempt      integer NOT NULL DEFAULT 0
        );
        CREATE INDEX task_events_task ON task_events (task_id, id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE task_events; DROP TABLE tasks; DROP TABLE conversations; DROP TABLE users;")
