"""Bearer-token authentication, with a short in-process cache so the hot path skips the database."""

from __future__ import annotations

import hmac
import time
import uuid

from domain.errors import NotAuthenticated
from domain.ports import UnitOfWorkFactory
from domain.users import User, hash_token


class TokenCache:
    """token hash -> (user, expiry). Bounded; a revoked token lives at most `ttl` seconds here."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[bytes, tuple[User, float]] = {}

    def get(self, key: bytes) -> User | None:
        hit = self._entries.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop a user's entries after their settings change (this process; others expire)."""
        for key in [k for k, (u, _) in self._entries.items() if u.id == user_id]:
            del self._entries[key]

    def put(self, key: bytes, user: User) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (user, time.monotonic() + self._ttl)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send 'Authorization: Bearer <token>'")
    return token.strip()


async def authenticate(authorization: str | None, *, cache: TokenCache, uow: UnitOfWorkFactory) -> User:
    """The user whose token this is. The lookup is by SHA-256 of the token, so timing reveals
    nothing about stored tokens."""
    key = hash_token(bearer_token(authorization))
    user = cache.get(key)
    if user is None:
        async with uow() as session:
            user = await session.users.by_token_hash(key)
        if user is None:
            raise NotAuthenticated("the token is not valid")
        cache.put(key, user)
    return user


def check_admin(authorization: str | None, admin_token: str | None) -> None:
    """Constant-time comparison; with no admin token configured, admin routes are closed."""
    token = bearer_token(authorization)
    if admin_token is None or not hmac.compare_digest(token.encode(), admin_token.encode()):
        raise NotAuthenticated("an admin token is required")
