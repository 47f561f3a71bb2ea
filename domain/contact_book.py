"""Use cases of a person's contacts: add, list, change, remove, rotate a webhook secret.

The webhook URL is checked (shape and where it resolves) whenever it is set, and again at every
send (DNS may change). A secret is returned once, by `add_contact` and `rotate_secret`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.contacts import MAX_CONTACTS, Contact, Topic, canonical_relation
from domain.errors import Conflict, InvalidInput, NotFound
from domain.ids import uuid7
from domain.notify_ports import ContactsUnitOfWork, DestinationGuard
from domain.ports import Clock
from domain.users import User
from domain.webhooks import new_secret, valid_secret

MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class ContactDraft:
    name: str
    webhook_url: str
    relation: str | None = None
    consents: frozenset[Topic] = frozenset()
    secret: str | None = None
    """A `whsec_` secret of the receiver's choosing; one is made when None."""


@dataclass(frozen=True, slots=True)
class ContactChanges:
    """Fields left None stay as they are; an empty relation clears it."""

    name: str | None = None
    relation: str | None = None
    webhook_url: str | None = None
    consents: Mapping[Topic, bool] = field(default_factory=dict)
    """Only the topics named change."""


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    secret: str
    previous_valid_until: datetime
    """Until then, deliveries carry a signature with the old secret as well."""


def _valid_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("a contact needs a name")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"a contact's name has at most {MAX_NAME} characters")
    return cleaned


async def add_contact(
    user: User, draft: ContactDraft, *, uow: ContactsUnitOfWork, guard: DestinationGuard, clock: Clock
) -> tuple[Contact, str]:
    """The new contact and its webhook secret (shown once). InvalidInput for a bad name, secret or
    URL (including one that resolves to a refused address); Conflict past MAX_CONTACTS."""
    name = _valid_name(draft.name)
    secret = valid_secret(draft.secret) if draft.secret is not None else new_secret()
    url = draft.webhook_url.strip()
    await guard.check(url)
    if await uow.contacts.count(user.id) >= MAX_CONTACTS:
        raise Conflict(f"you have {MAX_CONTACTS} contacts already; remove one first")
    now = clock.now()
    contact = Contact(
        id=uuid7(),
        user_id=user.id,
        name=name,
        relation=canonical_relation(draft.relation),
        webhook_url=url,
        consents=draft.consents,
        created_at=now,
        updated_at=now,
    )
    await uow.contacts.add(contact, secret)
    return contact, secret


async def get_contact(user: User, contact_id: uuid.UUID, *, uow: ContactsUnitOfWork) -> Contact:
    """NotFound for a missing contact and for another user's alike."""
    contact = await uow.contacts.get(user.id, contact_id)
    if contact is None:
        raise NotFound("contact not found")
    return contact


async def list_contacts(user: User, *, uow: ContactsUnitOfWork) -> list[Contact]:
    return await uow.contacts.of_user(user.id)


async def update_contact(
    user: User,
    contact_id: uuid.UUID,
    changes: ContactChanges,
    *,
    uow: ContactsUnitOfWork,
    guard: DestinationGuard,
) -> Contact:
    contact = await get_contact(user, contact_id, uow=uow)
    url = changes.webhook_url.strip() if changes.webhook_url is not None else contact.webhook_url
    if url != contact.webhook_url:
        await guard.check(url)
    consents = set(contact.consents)
    for topic, allowed in changes.consents.items():
        if allowed:
            consents.add(topic)
        else:
            consents.discard(topic)
    updated = replace(
        contact,
        name=_valid_name(changes.name) if changes.name is not None else contact.name,
        relation=canonical_relation(changes.relation) if changes.relation is not None else contact.relation,
        webhook_url=url,
        consents=frozenset(consents),
    )
    saved = await uow.contacts.update(updated)
    if saved is None:  # removed meanwhile
        raise NotFound("contact not found")
    return saved


async def delete_contact(user: User, contact_id: uuid.UUID, *, uow: ContactsUnitOfWork) -> None:
    """Removes the contact, its secret and its delivery log; notifications still queued for it
    end without being sent."""
    if not await uow.contacts.delete(user.id, contact_id):
        raise NotFound("contact not found")


async def rotate_secret(
    user: User, contact_id: uuid.UUID, *, uow: ContactsUnitOfWork, grace_seconds: float
) -> RotatedSecret:
    """A new secret, returned once. The old one keeps signing (alongside) for `grace_seconds`, so the
    receiver can switch without missing a delivery."""
    secret = new_secret()
    until = await uow.contacts.rotate_secret(user.id, contact_id, secret, grace_seconds)
    if until is None:
        raise NotFound("contact not found")
    return RotatedSecret(secret, until)
