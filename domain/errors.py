"""Errors the core raises. They name what went wrong, never an HTTP status: api/errors.py maps them."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(DomainError):
    title = "Not authenticated"


class NotFound(DomainError):
    """Also raised for other users' data, so that its existence is not revealed."""

    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class InvalidInput(DomainError):
    title = "Invalid input"


class RateLimited(DomainError):
    """The caller spent their request budget; `retry_after` seconds from now they may go on."""

    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency the request needs is down; the client may retry later."""

    title = "Service unavailable"


class TransientError(DomainError):
    """A failure worth retrying: timeouts, connection errors, 5xx from a provider."""

    title = "Temporary failure"


class PermanentError(DomainError):
    """A failure that a retry cannot fix (bad slots, a refusal): the task fails at once."""

    title = "Permanent failure"
