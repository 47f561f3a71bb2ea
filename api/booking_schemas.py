"""Wire models of the bookings slice: venues as the admin API takes and shows them, and a person's
own bookings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from domain.booking_services import OwnBooking
from domain.venue_admin import ResourceSpec, VenueSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResourceIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(default=1, ge=1, le=100, description="Seats at a table; 1 for a chair or a room")
    kind: str = Field(default="table", min_length=1, max_length=40, description="table, chair, room")
    calendar_id: str | None = Field(
        default=None, max_length=300, description="Google: this resource's calendar"
    )


class VenueIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["restaurant", "salon", "clinic"]
    resources: list[ResourceIn] = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    hours: dict[str, list[list[str]]] | None = Field(
        default=None, description='{"mon": [["08:00", "23:00"]], ...}; default every day 08:00-23:00'
    )
    services: dict[str, int] = Field(default_factory=dict, description="Service name -> minutes")
    default_minutes: int | None = Field(default=None, ge=5, le=24 * 60)
    slot_minutes: int = Field(default=30, ge=5, le=240)
    provider: Literal["local", "google", "webhook"] = "local"
    provider_config: dict[str, str] = Field(
        default_factory=dict, description="google: calendar_id; webhook: url and secret"
    )
    owner_user_id: uuid.UUID | None = Field(
        default=None, description="Only this user may book it; null: everyone"
    )

    def spec(self) -> VenueSpec:
        return VenueSpec(
            name=self.name,
            kind=self.kind,
            resources=[ResourceSpec(r.name, r.capacity, r.kind, r.calendar_id) for r in self.resources],
            timezone=self.timezone,
            aliases=self.aliases,
            hours=self.hours,
            services=self.services,
            default_minutes=self.default_minutes,
            slot_minutes=self.slot_minutes,
            provider=self.provider,
            provider_config=self.provider_config,
            owner_user_id=self.owner_user_id,
        )


class ResourceOut(BaseModel):
    name: str
    kind: str
    capacity: int
    calendar_id: str | None


class VenueOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    aliases: list[str]
    timezone: str
    hours: dict[str, list[list[str]]]
    resources: list[ResourceOut]
    services: dict[str, int]
    default_minutes: int
    slot_minutes: int
    provider: str
    provider_config: dict[str, str] = Field(description="Secrets are never shown")
    owner_user_id: uuid.UUID | None


class VenueAnswerIn(Strict):
    status: Literal["confirmed", "refused"]


class BookingOut(BaseModel):
    id: uuid.UUID
    ref: str = Field(description="What the person quotes back, e.g. LT-4F2K")
    status: Literal["confirmed", "cancelled"]
    venue: str
    venue_id: uuid.UUID
    start: datetime = Field(description="In the caller's time zone")
    end: datetime
    party_size: int
    service: str | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, own: OwnBooking, timezone: str) -> BookingOut:
        b, zone = own.booking, ZoneInfo(timezone)
        return cls(
            id=b.id,
            ref=b.ref,
            status=b.status.value,
            venue=own.venue.name,
            venue_id=own.venue.id,
            start=b.starts_at.astimezone(zone),
            end=b.ends_at.astimezone(zone),
            party_size=b.party_size,
            service=b.service,
            confirmed_at=b.confirmed_at,
            cancelled_at=b.cancelled_at,
        )


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
