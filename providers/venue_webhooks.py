"""Venues that take bookings by webhook: a signed request to the venue's URL (Standard Webhooks).

The venue answers at once (`{"status": "confirmed" | "refused" | "pending"}`) or, when pending,
later by a signed callback to `/v1/venue-callbacks/{booking_id}`, which the ledger records; the
booking task retries meanwhile (fail closed) and finds the answer. The `webhook-id` is the
booking id, so the venue can drop a retry it has already seen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import orjson

from domain.bookings import Booking, Interval, ProviderUnavailable, SlotTaken, Venue
from domain.errors import NotAuthenticated, PermanentError
from providers.postgres.bookings import PostgresBookingStore

TOLERANCE_SECONDS = 300
"""A callback signed longer ago than this (or this far ahead) is refused: replays are useless."""


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256>`."""
    mac = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, msg_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Raises NotAuthenticated unless the headers carry a fresh, valid signature of `body`."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        raise NotAuthenticated("missing webhook signature headers")
    if abs((now if now is not None else time.time()) - int(stamp)) > TOLERANCE_SECONDS:
        raise NotAuthenticated("webhook timestamp too old or too new")
    expected = sign(secret, msg_id, int(stamp), body)
    offered = headers.get("webhook-signature", "").split()
    if not any(hmac.compare_digest(expected, sig) for sig in offered):
        raise NotAuthenticated("bad webhook signature")


class WebhookBookingProvider:
    def __init__(
        self,
        store: PostgresBookingStore,
        *,
        timeout: float,
        callback_base: str,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._store = store
        self._callback_base = callback_base.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def busy(self, venue: Venue, start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
        return {}  # the venue is asked when the booking is placed

    async def place(self, venue: Venue, booking: Booking) -> str | None:
        answer = await self._store.venue_answer(booking.id)
        if answer is None:
            payload = {
                "type": "booking.requested",
                "booking": _booking_json(booking),
                "callback_url": f"{self._callback_base}/v1/venue-callbacks/{booking.id}",
            }
            answer = _answer_of(await self._send(venue, booking, payload))
        if answer == "confirmed":
            return booking.ref
        if answer == "refused":
            raise SlotTaken(f"{venue.name} refused the booking")
        raise ProviderUnavailable(f"waiting for {venue.name} to answer")

    async def withdraw(self, venue: Venue, booking: Booking) -> None:
        await self._send(venue, booking, {"type": "booking.cancelled", "booking": _booking_json(booking)})

    async def _send(self, venue: Venue, booking: Booking, payload: dict[str, Any]) -> httpx.Response:
        url, secret = venue.provider_config.get("url"), venue.provider_config.get("secret")
        if not url or not secret:
            raise PermanentError(f"{venue.name} has no webhook url or secret configured")
        body = orjson.dumps(payload)
        msg_id = f"{booking.id}:{payload['type']}"
        try:
            response = await self._client.post(
                url, content=body, headers=signed_headers(secret, msg_id, body)
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{venue.name} unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"{venue.name} answered {response.status_code}")
        if response.status_code >= 400 and response.status_code not in (404, 410):
            raise PermanentError(f"{venue.name} rejected the request ({response.status_code})")
        return response


def _answer_of(response: httpx.Response) -> str:
    if response.status_code == 202:
        return "pending"
    try:
        status = orjson.loads(response.content).get("status")
    except (orjson.JSONDecodeError, AttributeError):
        status = None
    return status if status in ("confirmed", "refused") else "pending"


def _booking_json(booking: Booking) -> dict[str, Any]:
    return {
        "id": str(booking.id),
        "ref": booking.ref,
        "resource_id": str(booking.resource_id),
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "party_size": booking.party_size,
        "service": booking.service,
    }
