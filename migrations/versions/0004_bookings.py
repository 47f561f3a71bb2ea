"""Bookings: venues, their resources, and the booking ledger that cannot double-book.

The ledger's exclusion constraint (btree_gist) lets no two held or confirmed bookings of one
resource overlap, whatever the application does; one live booking per task makes booking runs
idempotent.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        CREATE TABLE venues (
            id               uuid PRIMARY KEY,
            slug             text NOT NULL UNIQUE,
            name             text NOT NULL,
            kind             text NOT NULL CHECK (kind IN ('restaurant', 'salon', 'clinic')),
            aliases          text[] NOT NULL DEFAULT '{}',
            timezone         text NOT NULL,
            hours            jsonb NOT NULL,
            services         jsonb NOT NULL DEFAULT '{}'::jsonb,
            default_minutes  integer NOT NULL CHECK (default_minutes > 0),
            slot_minutes     integer NOT NULL DEFAULT 30 CHECK (slot_minutes > 0),
            provider         text NOT NULL DEFAULT 'local' CHECK (provider IN ('local', 'google', 'webhook')),
            provider_config  jsonb NOT NULL DEFAULT '{}'::jsonb,
            owner_user_id    uuid REFERENCES users(id) ON DELETE CASCADE,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE venue_resources (
            id           uuid PRIMARY KEY,
            venue_id     uuid NOT NULL REFERENCES venues(id) ON DELETE CASCADE,
            name         text NOT NULL,
            kind         text NOT NULL,
            capacity     integer NOT NULL CHECK (capacity >= 1),
            calendar_id  text,
            UNIQUE (venue_id, name)
        );

        CREATE TABLE bookings (
            id                 uuid PRIMARY KEY,
            ref                text NOT NULL UNIQUE,
            user_id            uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            task_id            uuid NOT NULL,
            venue_id           uuid NOT NULL REFERENCES venues(id),
            resource_id        uuid NOT NULL REFERENCES venue_resources(id),
            party_size         integer NOT NULL CHECK (party_size >= 1),
            service            text,
            starts_at          timestamptz NOT NULL,
            ends_at            timestamptz NOT NULL,
            status             text NOT NULL
                               CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired', 'released')),
            hold_expires_at    timestamptz,
            confirming         boolean NOT NULL DEFAULT false,
            external_id        text,
            venue_answer       text CHECK (venue_answer IN ('confirmed', 'refused')),
            cancelled_by_task  uuid,
            created_at         timestamptz NOT NULL DEFAULT now(),
            confirmed_at       timestamptz,
            cancelled_at       timestamptz,
            updated_at         timestamptz NOT NULL DEFAULT now(),
            CHECK (ends_at > starts_at),
            -- No double booking, ever: enforced here, not by checking first.
            CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
                resource_id WITH =, tstzrange(starts_at, ends_at) WITH &&
            ) WHERE (status IN ('held', 'confirmed'))
        );
        -- One live booking per task: a re-run of a booking task finds its own hold.
        CREATE UNIQUE INDEX bookings_one_live_per_task ON bookings (task_id)
            WHERE status IN ('held', 'confirmed');
        CREATE INDEX bookings_task ON bookings (task_id, created_at DESC);
        CREATE INDEX bookings_user ON bookings (user_id, starts_at);
        CREATE INDEX bookings_user_confirmed ON bookings (user_id, confirmed_at DESC)
            WHERE status = 'confirmed';
        CREATE INDEX bookings_stale_holds ON bookings (hold_expires_at) WHERE status = 'held';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE bookings; DROP TABLE venue_resources; DROP TABLE venues;")
