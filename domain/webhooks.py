"""Webhook rules, after the Standard Webhooks spec: ids, bodies, secrets, retries, safe destinations.

Pure: the HTTP client and DNS live in providers/webhooks.py; they ask this module what an answer
means and whether an address may be called.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import random
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson

from domain.contacts import Contact, Topic
from domain.errors import InvalidInput
from domain.tasks import RetryPolicy

NAMESPACE = uuid.UUID("6f1d3c0e-8c1a-5b7e-9a51-2f4e1f0c9d11")
"""Fixed namespace of Errand's derived ids: the same inputs give the same id on every machine."""


def delivery_id(task_id: uuid.UUID, contact_id: uuid.UUID) -> uuid.UUID:
    """The delivery's id and `webhook-id`: one per (task, contact), the same on every retry, so a
    re-run finds the delivery in the log and receivers can drop duplicates."""
    return uuid.uuid5(NAMESPACE, f"delivery:{task_id}:{contact_id}")


def notification_task_id(source_id: uuid.UUID, contact_id: uuid.UUID, topic: Topic) -> uuid.UUID:
    """The task that notifies one contact about one source event: asking twice inserts it once."""
    return uuid.uuid5(NAMESPACE, f"notify:{topic}:{source_id}:{contact_id}")


def notification_conversation_id(user_id: uuid.UUID, source_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"notify-conversation:{user_id}:{source_id}")


def app_delivery_id(task_id: uuid.UUID, app_webhook_id: uuid.UUID) -> uuid.UUID:
    """As `delivery_id`, for the person's own app webhook: the same on every retry of the task."""
    return uuid.uuid5(NAMESPACE, f"app-delivery:{task_id}:{app_webhook_id}")


def app_push_task_id(source_id: uuid.UUID, event_type: str) -> uuid.UUID:
    """The task that pushes one source event to the person's app: asking twice inserts it once."""
    return uuid.uuid5(NAMESPACE, f"app-push:{event_type}:{source_id}")


def envelope(event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    """The Standard Webhooks body (`type`, `timestamp`, `data`). Made once, at the first attempt,
    and resent byte for byte on retries, so the signature covers exactly what was first sent."""
    return orjson.dumps({"type": event_type, "timestamp": at.isoformat(), "data": data}).decode()


EVENT_TYPES: dict[Topic, str] = {
    "messages": "family.message",
    "escalations": "reminder.escalation",
    "bookings": "booking.notice",
}


@dataclass(frozen=True, slots=True)
class Event:
    """What one contact is told once."""

    delivery_id: uuid.UUID
    topic: Topic
    text: str
    contact: Contact
    sender_name: str | None
    at: datetime
    details: Mapping[str, Any] | None = None
    """Structured fields of what the text says (a booking's reference, venue and time...), for a
    receiving system; absent from the body when there are none."""

    @property
    def type(self) -> str:
        return EVENT_TYPES[self.topic]

    def body(self) -> str:
        """The JSON body, fixed at the first attempt and resent byte for byte on retries."""
        data: dict[str, Any] = {
            "delivery_id": str(self.delivery_id),
            "topic": self.topic,
            "text": self.text,
            "contact": {"id": str(self.contact.id), "name": self.contact.name},
            "from": {"name": self.sender_name},
        }
        if self.details:
            data["details"] = dict(self.details)
        return envelope(self.type, self.at, data)


# Secrets -------------------------------------------------------------------------------------

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A `whsec_` secret: base64 of 32 random bytes, as the spec's libraries expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def valid_secret(secret: str) -> str:
    """A secret the person brings: `whsec_` and base64 of 24 to 64 bytes (the spec's range)."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("a webhook secret is 'whsec_' followed by base64") from exc
    if not 24 <= len(key) <= 64:
        raise InvalidInput("a webhook secret holds between 24 and 64 bytes")
    return secret


# Retries -------------------------------------------------------------------------------------

DELIVERY_SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""Waits after failed attempts 1..7 (Svix's schedule): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
With the immediate first attempt, eight in all over about 27 hours."""


@dataclass(frozen=True, slots=True)
class ScheduledRetry(RetryPolicy):
    """A retry policy that follows a fixed schedule instead of doubling (jitter still applies, so a
    burst of failures does not come back at one instant)."""

    schedule: tuple[float, ...] = DELIVERY_SCHEDULE

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        if not self.schedule:
            return RetryPolicy.delay(self, attempt, rng)
        raw = self.schedule[min(max(attempt, 1), len(self.schedule)) - 1]
        draw = float((rng or random).random())
        return raw * (1 - self.jitter) + raw * self.jitter * draw


DELIVERY_RETRY = ScheduledRetry(max_attempts=len(DELIVERY_SCHEDULE) + 1, jitter=0.1)


# Attempts ------------------------------------------------------------------------------------


class AttemptResult(StrEnum):
    DELIVERED = "delivered"
    """A 2xx answer."""
    FAILED = "failed"
    """Worth retrying: 5xx, 408, 429, a timeout, a connection error."""
    REJECTED = "rejected"
    """The receiver said no (other 4xx) or redirected (3xx, never followed): no retry."""
    REFUSED = "refused"
    """Never sent: the destination is not allowed (private, loopback, …) or not a valid URL."""


RETRYABLE_4XX = frozenset({408, 429})
"""Request Timeout and Too Many Requests: 4xx that mean 'later', not 'never'."""


@dataclass(frozen=True, slots=True)
class SendReport:
    """What happened on the wire, as the sender saw it."""

    status_code: int | None
    error: str | None
    """'timeout', 'connection error: …', 'refused: …'; None when the receiver answered."""
    duration_ms: float
    refused: bool = False


def judge(report: SendReport) -> AttemptResult:
    if report.refused:
        return AttemptResult.REFUSED
    code = report.status_code
    if code is None or code >= 500 or code in RETRYABLE_4XX:
        return AttemptResult.FAILED
    if 200 <= code < 300:
        return AttemptResult.DELIVERED
    return AttemptResult.REJECTED


def describe(report: SendReport) -> str:
    """A short reason for logs and the task's error: 'HTTP 503', 'timeout'."""
    if report.status_code is not None:
        return f"HTTP {report.status_code}"
    return report.error or "no answer"


# Destinations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str
    """Without brackets for IPv6 literals."""
    port: int


MAX_URL_LENGTH = 2048


def parse_destination(url: str) -> Destination:
    """The URL's shape: http or https, a host, no credentials. Raises InvalidInput."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("the webhook URL is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidInput("the webhook URL must start with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("the webhook URL must not contain a user name or password")
    return Destination(scheme, _host(parts), port or (443 if scheme == "https" else 80))


def _host(parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host or any(ch.isspace() for ch in host):
        raise InvalidInput("the webhook URL has no host")
    return host


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), which decides where it goes."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Only public unicast addresses, unless the operator allows private ones (tests, intranets).

    Refused: private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT) and
    documentation ranges, in IPv4 and IPv6, also when an IPv6 address embeds an IPv4 one.
    """
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or (ip.is_global and not ip.is_reserved)
