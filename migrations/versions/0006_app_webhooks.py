"""The person's own app webhook: where reminders are pushed, signed like the family's webhooks.

One per user. Its deliveries share the family's delivery log (`webhook_deliveries`, with its
attempts and its one-success index), so retries, the log and "never twice" work the same way; a
delivery belongs to a contact or to an app webhook, never both.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE app_webhooks (
            id                     uuid PRIMARY KEY,
            user_id                uuid NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
            url                    text NOT NULL,
            -- As for contacts: kept to sign, never returned after creation or rotation.
            secret                 text NOT NULL,
            previous_secret        text,
            previous_secret_until  timestamptz,
            created_at             timestamptz NOT NULL DEFAULT now(),
            updated_at             timestamptz NOT NULL DEFAULT now()
        );

        ALTER TABLE webhook_deliveries
            ALTER COLUMN contact_id DROP NOT NULL,
            ADD COLUMN app_webhook_id uuid REFERENCES app_webhooks(id) ON DELETE CASCADE,
            ADD CONSTRAINT webhook_deliveries_one_endpoint
                CHECK ((contact_id IS NULL) <> (app_webhook_id IS NULL));
        CREATE INDEX webhook_deliveries_app ON webhook_deliveries (app_webhook_id, created_at DESC, id DESC)
            WHERE app_webhook_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM webhook_deliveries WHERE app_webhook_id IS NOT NULL;
        ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_one_endpoint,
            DROP COLUMN app_webhook_id, ALTER COLUMN contact_id SET NOT NULL;
        DROP TABLE app_webhooks;
        """
    )
