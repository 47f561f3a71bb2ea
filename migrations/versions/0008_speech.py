"""Speech: voice messages waiting for transcription, the phrase cache of spoken replies, and the
spoken replies each user may download.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- A voice message, stored with its transcribe task; deleted once transcribed.
        CREATE TABLE speech_clips (
            task_id     uuid PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
            user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            format      text NOT NULL CHECK (format IN ('wav', 'flac', 'ogg', 'mp3', 'm4a')),
            audio       bytea NOT NULL,
            seconds     real NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX speech_clips_age ON speech_clips (created_at);

        -- One synthesized phrase per (text, engine and voice, language, speed): key is their hash.
        CREATE TABLE speech_cache (
            key         text PRIMARY KEY,
            text        text NOT NULL,
            engine      text NOT NULL,
            voice       text NOT NULL,
            language    text NOT NULL,
            rate        real NOT NULL,
            media_type  text NOT NULL,
            audio       bytea NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            used_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX speech_cache_used ON speech_cache (used_at);

        -- A spoken reply: its owner may download it (GET /v1/audio/{id}) until it expires.
        CREATE TABLE audio_files (
            id          uuid PRIMARY KEY,
            user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            cache_key   text NOT NULL REFERENCES speech_cache(key) ON DELETE CASCADE,
            created_at  timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz NOT NULL
        );
        CREATE INDEX audio_files_expiry ON audio_files (expires_at);
        CREATE INDEX audio_files_key ON audio_files (cache_key);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE audio_files; DROP TABLE speech_cache; DROP TABLE speech_clips;")
