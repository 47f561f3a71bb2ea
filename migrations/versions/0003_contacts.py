"""Contacts: a user's family members, their webhook endpoints and consents; the webhook delivery log.

A delivery's id is its `webhook-id` (derived from the task and the contact), so a retry or a
duplicate run finds the row and never sends an event twice once it succeeded; every attempt is
logged, and at most one attempt per delivery may be a success.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE contacts (
            id                     uuid PRIMARY KEY,
            user_id                uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name                   text NOT NULL,
            relation               text,
            webhook_url            text NOT NULL,
            consents               text[] NOT NULL DEFAULT '{}'
                CHECK (consents <@ ARRAY['messages', 'escalations', 'bookings']::text[]),
            -- The HMAC keys: kept as given, because signing needs them; never returned after
            -- creation or rotation. The previous one signs too until previous_secret_until.
            secret                 text NOT NULL,
            previous_secret        text,
            previous_secret_until  timestamptz,
            created_at             timestamptz NOT NULL DEFAULT now(),
            updated_at             timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX contacts_user ON contacts (user_id, id);

        CREATE TABLE webhook_deliveries (
            id                uuid PRIMARY KEY,
            contact_id        uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            task_id           uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            event_type        text NOT NULL,
            body              text NOT NULL,
            status            text NOT NULL
                CHECK (status IN ('sending', 'succeeded', 'retrying', 'dead')),
            attempts          integer NOT NULL DEFAULT 0,
            sending_until     timestamptz,
            last_status_code  integer,
            last_error        text,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            delivered_at      timestamptz
        );
        CREATE INDEX webhook_deliveries_contact ON webhook_deliveries (contact_id, created_at DESC, id DESC);

        CREATE TABLE webhook_attempts (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id  uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
            attempt      integer NOT NULL,
            at           timestamptz NOT NULL DEFAULT clock_timestamp(),
            result       text NOT NULL CHECK (result IN ('delivered', 'failed', 'rejected', 'refused')),
            status_code  integer,
            error        text,
            duration_ms  double precision NOT NULL
        );
        CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
        -- An event is delivered once: a second success for one webhook-id cannot be recorded.
        CREATE UNIQUE INDEX webhook_attempts_one_success ON webhook_attempts (delivery_id)
            WHERE result = 'delivered';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries; DROP TABLE contacts;")
