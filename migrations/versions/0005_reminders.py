"""Reminders: reminders with their next due time, the occurrence ledger, escalation steps, ladders.

The scheduler's queries stay proportional to what is due, not to how many reminders exist: each
claims through a partial index holding only the rows it may act on (active reminders by next due
time, pending escalation steps by due time, pending occurrences by the time they count as missed).
Uniqueness is enforced in SQL: one occurrence per (reminder, due instant), one row per (occurrence,
step), one reminder per set_reminder task, one family alert per (occurrence, step).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE reminders (
            id               uuid PRIMARY KEY,
            user_id          uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            conversation_id  uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            source_task_id   uuid UNIQUE,
            what             text NOT NULL,
            medicine         text,
            dose             text,
            first_at         timestamptz NOT NULL,
            rrule            text,
            timezone         text NOT NULL,
            escalate         boolean NOT NULL DEFAULT false,
            status           text NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'paused', 'finished', 'deleted')),
            next_due_at      timestamptz,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now()
        ) WITH (fillfactor = 80);
        -- What the scheduler claims: only active reminders with a next occurrence.
        CREATE INDEX reminders_due ON reminders (next_due_at)
            WHERE status = 'active' AND next_due_at IS NOT NULL;
        CREATE INDEX reminders_user ON reminders (user_id, created_at) WHERE status <> 'deleted';

        CREATE TABLE reminder_occurrences (
            id           uuid PRIMARY KEY,
            reminder_id  uuid NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
            user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            due_at       timestamptz NOT NULL,
            status       text NOT NULL CHECK (status IN ('pending', 'taken', 'late', 'missed')),
            reason       text,
            fired_at     timestamptz,
            late_at      timestamptz,
            miss_at      timestamptz,
            acked_at     timestamptz,
            task_id      uuid,
            -- Never twice, whatever the id: also the ledger's index by reminder and time.
            CONSTRAINT reminder_occurrences_once UNIQUE (reminder_id, due_at)
        ) WITH (fillfactor = 80);
        CREATE INDEX reminder_occurrences_user ON reminder_occurrences (user_id, due_at DESC);
        -- Fired, unacknowledged doses, by the time they count as missed.
        CREATE INDEX reminder_occurrences_to_miss ON reminder_occurrences (miss_at)
            WHERE status = 'pending';

        CREATE TABLE reminder_escalations (
            occurrence_id  uuid NOT NULL REFERENCES reminder_occurrences(id) ON DELETE CASCADE,
            step           smallint NOT NULL,
            action         text NOT NULL CHECK (action IN ('reprompt', 'family')),
            contacts       jsonb NOT NULL DEFAULT '[]'::jsonb,
            due_at         timestamptz NOT NULL,
            state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled')),
            task_id        uuid,
            done_at        timestamptz,
            PRIMARY KEY (occurrence_id, step)
        );
        CREATE INDEX reminder_escalations_due ON reminder_escalations (due_at) WHERE state = 'pending';

        CREATE TABLE reminder_policies (
            user_id               uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            steps                 jsonb NOT NULL,
            missed_after_seconds  integer NOT NULL,
            updated_at            timestamptz NOT NULL DEFAULT now()
        );

        -- The default FamilyAlerts provider's record: the family slice delivers from here (or
        -- replaces the provider). One alert per (occurrence, step).
        CREATE TABLE reminder_family_alerts (
            id             uuid PRIMARY KEY,
            user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            reminder_id    uuid NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
            occurrence_id  uuid NOT NULL REFERENCES reminder_occurrences(id) ON DELETE CASCADE,
            step           smallint NOT NULL,
            text           text NOT NULL,
            contacts       jsonb NOT NULL DEFAULT '[]'::jsonb,
            created_at     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (occurrence_id, step)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE reminder_family_alerts; DROP TABLE reminder_policies; DROP TABLE reminder_escalations; "
        "DROP TABLE reminder_occurrences; DROP TABLE reminders;"
    )
