"""The caller's family contacts, their webhook secrets, and the webhook delivery log with replay."""

from __future__ import annotations

import uuid
from typing import Annotated, cast

from fastapi import APIRouter, Query, Response

from api.contact_schemas import (
    ContactCreated,
    ContactIn,
    ContactOut,
    ContactPatch,
    DeliveryOut,
    DeliveryPage,
    SecretOut,
)
from api.deps import JsonOnly, ProvidersDep, UserDep
from api.routes.messages import ERRORS
from api.routes.tasks import decode_cursor, encode_cursor
from domain.contact_book import (
    ContactChanges,
    ContactDraft,
    add_contact,
    delete_contact,
    get_contact,
    list_contacts,
    rotate_secret,
    update_contact,
)
from domain.notify import list_deliveries, replay_delivery
from domain.notify_ports import ContactsUnitOfWorkFactory, DestinationGuard
from providers.wiring import Providers

router = APIRouter(tags=["contacts"], prefix="/v1/contacts")


def contacts_uow(providers: Providers) -> ContactsUnitOfWorkFactory:
    """Contacts ride on the wiring's skill ports (providers.webhooks.build), shared with the workers."""
    return cast(ContactsUnitOfWorkFactory, providers.skill_ports[ContactsUnitOfWorkFactory])


def destination_guard(providers: Providers) -> DestinationGuard:
    return cast(DestinationGuard, providers.skill_ports[DestinationGuard])


@router.post("", status_code=201, response_model=ContactCreated, responses=ERRORS, dependencies=[JsonOnly])
async def create(body: ContactIn, user: UserDep, providers: ProvidersDep) -> ContactCreated:
    """Add a contact. The answer holds the webhook secret, once; the URL must reach a public address."""
    consents = frozenset(topic for topic, allowed in body.consents.given().items() if allowed)
    draft = ContactDraft(body.name, body.webhook_url, body.relation, consents, body.secret)
    async with contacts_uow(providers)() as uow:
        contact, secret = await add_contact(
            user, draft, uow=uow, guard=destination_guard(providers), clock=providers.clock
        )
    return ContactCreated(**ContactOut.of(contact).model_dump(), secret=secret)


@router.get("", response_model=list[ContactOut], responses=ERRORS)
async def read_all(user: UserDep, providers: ProvidersDep) -> list[ContactOut]:
    """The caller's contacts, oldest first (secrets are never shown again)."""
    async with contacts_uow(providers)() as uow:
        contacts = await list_contacts(user, uow=uow)
    return [ContactOut.of(c) for c in contacts]


@router.get("/{contact_id}", response_model=ContactOut, responses=ERRORS)
async def read_one(contact_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> ContactOut:
    async with contacts_uow(providers)() as uow:
        return ContactOut.of(await get_contact(user, contact_id, uow=uow))


@router.patch("/{contact_id}", response_model=ContactOut, responses=ERRORS, dependencies=[JsonOnly])
async def patch(
    contact_id: uuid.UUID, body: ContactPatch, user: UserDep, providers: ProvidersDep
) -> ContactOut:
    """Change a contact; consents not named stay as they are. A new URL is checked like a first one."""
    changes = ContactChanges(
        name=body.name,
        relation=body.relation,
        webhook_url=body.webhook_url,
        consents=body.consents.given() if body.consents else {},
    )
    async with contacts_uow(providers)() as uow:
        contact = await update_contact(user, contact_id, changes, uow=uow, guard=destination_guard(providers))
    return ContactOut.of(contact)


@router.delete("/{contact_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(contact_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> Response:
    """Remove a contact with its secret and delivery log; queued notifications to it are not sent."""
    async with contacts_uow(providers)() as uow:
        await delete_contact(user, contact_id, uow=uow)
    return Response(status_code=204)


@router.post("/{contact_id}/rotate-secret", response_model=SecretOut, responses=ERRORS)
async def rotate(contact_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> SecretOut:
    """A new signing secret, shown once. The old one keeps signing alongside it for a grace period."""
    grace = providers.settings.webhooks_secret_grace_seconds
    async with contacts_uow(providers)() as uow:
        rotated = await rotate_secret(user, contact_id, uow=uow, grace_seconds=grace)
    return SecretOut.of(rotated)


@router.get("/{contact_id}/deliveries", response_model=DeliveryPage, responses=ERRORS)
async def read_deliveries(
    contact_id: uuid.UUID,
    user: UserDep,
    providers: ProvidersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DeliveryPage:
    """Webhook deliveries to this contact, newest first, each with every attempt."""
    async with contacts_uow(providers)() as uow:
        items, next_id = await list_deliveries(
            user, contact_id, limit=limit, cursor=decode_cursor(cursor), uow=uow
        )
    return DeliveryPage(items=[DeliveryOut.of(d) for d in items], next_cursor=encode_cursor(next_id))


@router.post(
    "/{contact_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=DeliveryOut,
    responses=ERRORS,
)
async def replay(
    contact_id: uuid.UUID, delivery_id: uuid.UUID, user: UserDep, providers: ProvidersDep
) -> DeliveryOut:
    """Send a dead delivery again with fresh attempts. 409 if it succeeded or is still retrying."""
    async with contacts_uow(providers)() as uow:
        delivery = await replay_delivery(
            user, contact_id, delivery_id, uow=uow, queue=providers.streams, dlq=providers.streams
        )
    return DeliveryOut.of(delivery)
