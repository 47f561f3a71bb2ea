"""The user repository."""

from __future__ import annotations

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
            "SELECT id, timezone, name FROM users WHERE token_hash = $1", token_hash
        )
        return User(id=row["id"], timezone=row["timezone"], name=row["name"]) if row else None
