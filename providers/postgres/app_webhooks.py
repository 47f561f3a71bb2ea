"""The person's own app webhook in PostgreSQL (one row per user).

As for contacts, the secrets are read only by `signing_target`, for the sender.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from domain.notify_ports import AppSigningTarget, AppWebhook

_COLUMNS = "id, user_id, url, created_at, updated_at"


def _webhook(row: Any) -> AppWebhook:
    return AppWebhook(
        id=row["id"],
        user_id=row["user_id"],
        url=row["url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class PostgresAppWebhookRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, user_id: uuid.UUID) -> AppWebhook | None:
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM app_webhooks WHERE user_id = $1", user_id)
        return _webhook(row) if row else None

    async def add(self, webhook: AppWebhook, secret: str) -> AppWebhook | None:
        row = await self._conn.fetchrow(
            f"""INSERT INTO app_webhooks (id, user_id, url, secret, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $5)
                ON CONFLICT (user_id) DO NOTHING RETURNING {_COLUMNS}""",
            webhook.id,
            webhook.user_id,
            webhook.url,
            secret,
            webhook.created_at,
        )
        return _webhook(row) if row else None

    async def set_url(self, user_id: uuid.UUID, url: str) -> AppWebhook | None:
        row = await self._conn.fetchrow(
            f"UPDATE app_webhooks SET url = $2, updated_at = now() WHERE user_id = $1 RETURNING {_COLUMNS}",
            user_id,
            url,
        )
        return _webhook(row) if row else None

    async def delete(self, user_id: uuid.UUID) -> bool:
        deleted = await self._conn.fetchval(
            "DELETE FROM app_webhooks WHERE user_id = $1 RETURNING id", user_id
        )
        return deleted is not None

    async def rotate_secret(self, user_id: uuid.UUID, secret: str, grace_seconds: float) -> datetime | None:
        until: datetime | None = await self._conn.fetchval(
            """UPDATE app_webhooks SET previous_secret = secret, secret = $2,
                                       previous_secret_until = now() + make_interval(secs => $3),
                                       updated_at = now()
               WHERE user_id = $1 RETURNING previous_secret_until""",
            user_id,
            secret,
            grace_seconds,
        )
        return until

    async def signing_target(self, user_id: uuid.UUID) -> AppSigningTarget | None:
        row = await self._conn.fetchrow(
            f"""SELECT {_COLUMNS}, secret,
                       CASE WHEN previous_secret_until > now() THEN previous_secret END AS previous
                FROM app_webhooks WHERE user_id = $1""",
            user_id,
        )
        if row is None:
            return None
        secrets = (row["secret"],) + ((row["previous"],) if row["previous"] else ())
        return AppSigningTarget(_webhook(row), secrets)
