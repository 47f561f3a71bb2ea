"""The user repository."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from domain.users import User


class PostgresUserRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, user: User, token_hash: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO users (id, token_hash, timezone, name) VALUES ($1, $2, $3, $4)",
            user.id,
            token_hash,
            user.timezone,
            user.name,
        )

    async def by_token_hash(self, token_hash: bytes) -> User | None:
        row = await self._conn.fetchrow(
            "SELECT id, timezone, name, settings FROM users WHERE token_hash = $1", token_hash
        )
        return _user(row) if row else None

    async def update(self, user: User) -> None:
        await self._conn.execute(
            "UPDATE users SET timezone = $2, name = $3, settings = settings || $4 WHERE id = $1",
            user.id,
            user.timezone,
            user.name,
            {"confirm_reminders": user.confirm_reminders, "language": user.language, "speak": user.speak},
        )

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await self._conn.fetchrow(
            "SELECT id, timezone, name, settings FROM users WHERE id = $1", user_id
        )
        return _user(row) if row else None


def _user(row: Any) -> User:
    settings = row["settings"] or {}
    return User(
        id=row["id"],
        timezone=row["timezone"],
        name=row["name"],
        confirm_reminders=bool(settings.get("confirm_reminders", True)),
        language=settings.get("language"),
        speak=bool(settings.get("speak", False)),
    )
