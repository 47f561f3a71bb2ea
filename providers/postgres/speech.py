"""The speech repository: recordings waiting for transcription, the phrase cache, spoken replies.

Audio lives in PostgreSQL (bytea): a recording commits in the same transaction as its task (no
file without a task, no task without its file), the API and the speech workers need no shared
disk (they are separate containers), and clips are small (the upload limit is a few MiB).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from domain.ports import UnitOfWork
from domain.speech import AudioFile, AudioFormat, Clip, SpokenAudio
from providers.postgres.uow import PostgresUnitOfWork

_PURGE = """
WITH files AS (
    DELETE FROM audio_files WHERE id IN (SELECT id FROM audio_files WHERE expires_at < $1 LIMIT 5000)
    RETURNING 1
), clips AS (
    DELETE FROM speech_clips c WHERE c.task_id IN (
        SELECT c2.task_id FROM speech_clips c2 JOIN tasks t ON t.id = c2.task_id
        WHERE t.status IN ('succeeded', 'cancelled') OR c2.created_at < $2 LIMIT 5000)
    RETURNING 1
), cold AS (
    DELETE FROM speech_cache s WHERE s.key IN (
        SELECT s2.key FROM speech_cache s2 WHERE s2.used_at < $3
          AND NOT EXISTS (SELECT 1 FROM audio_files f WHERE f.cache_key = s2.key AND f.expires_at >= $1)
        LIMIT 5000)
    RETURNING 1
)
SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM clips) + (SELECT count(*) FROM cold)
"""


class PostgresSpeechRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add_clip(self, clip: Clip) -> None:
        await self._conn.execute(
            """INSERT INTO speech_clips (task_id, user_id, format, audio, seconds)
               VALUES ($1, $2, $3, $4, $5)""",
            clip.task_id,
            clip.user_id,
            clip.format.value,
            clip.audio,
            clip.seconds,
        )

    async def clip(self, task_id: uuid.UUID) -> Clip | None:
        row = await self._conn.fetchrow(
            "SELECT task_id, user_id, format, audio, seconds FROM speech_clips WHERE task_id = $1", task_id
        )
        if row is None:
            return None
        return Clip(row["task_id"], row["user_id"], AudioFormat(row["format"]), row["audio"], row["seconds"])

    async def cached(self, key: str) -> str | None:
        media_type: str | None = await self._conn.fetchval(
            "UPDATE speech_cache SET used_at = now() WHERE key = $1 RETURNING media_type", key
        )
        return media_type

    async def cache(self, key: str, text: str, spoken: SpokenAudio) -> None:
        voice = spoken.voice
        await self._conn.execute(
            """INSERT INTO speech_cache (key, text, engine, voice, language, rate, media_type, audio)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (key) DO UPDATE SET used_at = now()""",
            key,
            text,
            voice.engine,
            voice.name,
            voice.language,
            voice.rate,
            spoken.media_type,
            spoken.audio,
        )

    async def add_audio_file(
        self, audio_id: uuid.UUID, user_id: uuid.UUID, key: str, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            """INSERT INTO audio_files (id, user_id, cache_key, expires_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (id) DO UPDATE
               SET expires_at = greatest(audio_files.expires_at, EXCLUDED.expires_at)""",
            audio_id,
            user_id,
            key,
            expires_at,
        )

    async def attach_audio(self, task_id: uuid.UUID, user_id: uuid.UUID, reply: str, audio_url: str) -> bool:
        status = await self._conn.execute(
            """UPDATE tasks
               SET result = coalesce(result, '{}'::jsonb) || jsonb_build_object('audio_url', $4::text),
                   updated_at = now()
               WHERE id = $1 AND user_id = $2 AND reply = $3""",
            task_id,
            user_id,
            reply,
            audio_url,
        )
        return bool(status.endswith(" 1"))

    async def audio_file(self, audio_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> AudioFile | None:
        row = await self._conn.fetchrow(
            """SELECT f.id, f.user_id, c.media_type, c.audio, f.expires_at
               FROM audio_files f JOIN speech_cache c ON c.key = f.cache_key
               WHERE f.id = $1 AND f.user_id = $2 AND f.expires_at > $3""",
            audio_id,
            user_id,
            now,
        )
        if row is None:
            return None
        return AudioFile(row["id"], row["user_id"], row["media_type"], row["audio"], row["expires_at"])

    async def purge(self, now: datetime, clip_retention_seconds: float, cache_seconds: float) -> int:
        clips_before = now - timedelta(seconds=clip_retention_seconds)
        cache_before = now - timedelta(seconds=cache_seconds)
        return int(await self._conn.fetchval(_PURGE, now, clips_before, cache_before))


def speech_repository(uow: UnitOfWork) -> PostgresSpeechRepository:
    """The repository on the unit of work's connection (the SpeechRepositories port)."""
    assert isinstance(uow, PostgresUnitOfWork)
    return PostgresSpeechRepository(uow.conn)
