"""The unit of work: the one way to a database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from providers.postgres.tasks import PostgresTaskRepository
from providers.postgres.users import PostgresUserRepository


class PostgresUnitOfWork:
    """A pooled connection and its repositories.

    Single statements commit on their own (each is written to be atomic); use cases that need
    several statements to commit together wrap them in `transaction()` (commit on clean exit,
    roll back on error).
    """

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.users = PostgresUserRepository(conn)
        self.tasks = PostgresTaskRepository(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self.conn.transaction():
            yield


class PostgresUnitOfWorkFactory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PostgresUnitOfWork]:
        async with self._pool.acquire() as conn:
            yield PostgresUnitOfWork(conn)
