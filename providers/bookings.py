"""The bookings slice's wiring (a PORT_MODULES entry): the ledger, and each venue's provider.

`local` venues need nothing beyond the ledger. `google` venues need a service account
(ERRAND_GOOGLE_CALENDAR_CREDENTIALS_FILE); without one their bookings fail closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from domain.bookings import (
    Booking,
    BookingPolicy,
    BookingProvider,
    BookingProviders,
    BookingStore,
    Interval,
    ProviderName,
    ProviderUnavailable,
    Venue,
)
from providers.postgres.bookings import PostgresBookingStore
from providers.settings import Settings


class LocalProvider:
    """Venues whose only calendar is the ledger: nothing to ask, nothing to place."""

    async def busy(self, venue: Venue, start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
        return {}

    async def place(self, venue: Venue, booking: Booking) -> str | None:
        return None

    async def withdraw(self, venue: Venue, booking: Booking) -> None:
        return None


class Unconfigured:
    """A provider this deployment cannot reach (no credentials): its venues fail closed."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _refuse(self) -> ProviderUnavailable:
        return ProviderUnavailable(f"the {self._name} booking provider is not configured")

    async def busy(self, venue: Venue, start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
        raise self._refuse()

    async def place(self, venue: Venue, booking: Booking) -> str | None:
        raise self._refuse()

    async def withdraw(self, venue: Venue, booking: Booking) -> None:
        raise self._refuse()


class ProviderDirectory:
    """Each venue's provider, by the name the venue's data gives."""

    def __init__(self, providers: Mapping[ProviderName, BookingProvider]) -> None:
        self._providers = dict(providers)

    def for_venue(self, venue: Venue) -> BookingProvider:
        return self._providers.get(venue.provider) or Unconfigured(venue.provider.value)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()


def booking_policy(settings: Settings) -> BookingPolicy:
    return BookingPolicy(
        hold=timedelta(minutes=settings.booking_hold_minutes),
        undo_window=timedelta(minutes=settings.booking_undo_minutes),
    )


def build_providers_by_name(
    settings: Settings, store: PostgresBookingStore
) -> dict[ProviderName, BookingProvider]:
    providers: dict[ProviderName, BookingProvider] = {ProviderName.LOCAL: LocalProvider()}
    if settings.google_calendar_credentials_file is not None:
        from providers.google_calendar import GoogleCalendarProvider

        providers[ProviderName.GOOGLE] = GoogleCalendarProvider.from_service_account(
            settings.google_calendar_credentials_file, timeout=settings.booking_provider_timeout_seconds
        )
    from providers.venue_webhooks import WebhookBookingProvider

    providers[ProviderName.WEBHOOK] = WebhookBookingProvider(
        store,
        timeout=settings.booking_provider_timeout_seconds,
        callback_base=settings.booking_callback_base_url,
    )
    return providers


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    store = PostgresBookingStore(pool)
    return {
        BookingStore: store,
        BookingProviders: ProviderDirectory(build_providers_by_name(settings, store)),
        BookingPolicy: booking_policy(settings),
    }
