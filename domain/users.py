"""Users and their bearer tokens. Tokens are random; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    timezone: str = "UTC"
    name: str | None = None
    confirm_reminders: bool = True
    """Read reminders back and wait for a yes before setting them (the default), or set them at once."""
    language: str | None = None
    """`en` or `sv`: the language of replies and voices; None: detected from each message."""
    speak: bool = False
    """Synthesize every reply (an `audio_url` in the task's result), not only when a message asks."""


def new_token() -> str:
    """256 random bits, URL-safe; a prefix makes leaked tokens easy to spot in secret scanners."""
    return "ert_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    """A fast hash is right here: the token has 256 bits of entropy, so nothing can be guessed."""
    return hashlib.sha256(token.encode()).digest()


def valid_timezone(name: str) -> str:
    """The IANA name, checked; raises InvalidInput for an unknown zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Stockholm'"
        ) from exc
    return name
