"""Skills of the `notify` lane: a person's message to a family member, notifications that other
parts of Errand queue (escalations, booking notices) for the contacts who agreed to them, and pushes
to the person's own app webhook (reminders).

The contact a person names is looked up among their own contacts when the task runs; an unknown or
ambiguous name makes the task ask, never guess. Replies say plainly what was done.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain.app_webhooks import APP_PUSH_KIND, app_notice_of, deliver_to_app
from domain.contacts import TOPICS, Contact, Topic, resolve_contact, who_question
from domain.errors import PermanentError
from domain.intents import Intent
from domain.notify import (
    NOTIFY_CONTACT_KIND,
    NOTIFY_FAMILY_KIND,
    NOTIFY_LANE,
    DeliveryPorts,
    DeliveryResult,
    Notice,
    Verdict,
    consent_refusal,
    deliver,
)
from domain.notify_ports import ContactsUnitOfWorkFactory, WebhookSender
from domain.skills import Skill, SkillContext
from domain.slots import Slots
from domain.tasks import Outcome, Task
from domain.webhooks import DELIVERY_RETRY
from domain.wording import Said, said

TIMEOUT_SECONDS = 60.0
"""Above the longest send the settings allow (30 s) plus the database work around it."""


def _contacts_uow(ctx: SkillContext) -> ContactsUnitOfWorkFactory:
    return ctx.port(ContactsUnitOfWorkFactory)  # mypy#4717: a Protocol as key


def _ports(ctx: SkillContext) -> DeliveryPorts:
    sender: WebhookSender = ctx.port(WebhookSender)
    if ctx.clock is None:
        raise LookupError("the notify skills need a clock")
    return DeliveryPorts(
        uow=_contacts_uow(ctx),
        sender=sender,
        clock=ctx.clock,
        send_timeout_seconds=sender.timeout_seconds,
    )


async def _contacts(task: Task, ctx: SkillContext) -> list[Contact]:
    async with _contacts_uow(ctx)() as uow:
        return await uow.contacts.of_user(task.user_id)


def _family_reply(result: DeliveryResult, name: str) -> Said:
    if result.verdict is Verdict.SENT:
        return said(f"I sent your message to {name}.", f"Jag har skickat ditt meddelande till {name}.")
    if result.verdict is Verdict.RETRY:
        return said(
            f"I couldn't reach {name} just now. I'll keep trying.",
            f"Jag kom inte fram till {name} just nu. Jag fortsätter att försöka.",
        )
    return said(
        f"I'm sorry, I couldn't deliver your message to {name}.",
        f"Förlåt, jag kunde inte få fram ditt meddelande till {name}.",
    )


def _no_consent_reply(name: str) -> Said:
    return said(
        f"{name} hasn't agreed to get messages from me, so I didn't send it.",
        f"{name} har inte sagt ja till att få meddelanden från mig, så jag skickade det inte.",
    )


async def notify_family(task: Task, ctx: SkillContext) -> Outcome:
    """The person's confirmed message (slots `contact`, `message`) to the contact they named."""
    slots = Slots.model_validate(task.slots)
    text = (slots.message or "").strip()
    if not text:
        return Outcome.needs_input("What should I tell them?", result={"ask": "message"})
    contacts = await _contacts(task, ctx)
    resolution = resolve_contact(slots.contact, contacts)
    contact = resolution.contact
    if contact is None:
        options = [c.label for c in resolution.candidates]
        return Outcome.needs_input(who_question(resolution), result={"ask": "contact", "options": options})
    notice = Notice(task, contact.id, "messages", text)
    result = await deliver(notice, ports=_ports(ctx))
    if result.verdict is Verdict.NO_CONSENT:
        return consent_refusal(notice, contact, _no_consent_reply(contact.name))
    if result.verdict is Verdict.NO_CONTACT:  # removed between the lookup and the send
        others = resolve_contact(None, [c for c in contacts if c.id != contact.id])
        return Outcome.needs_input(who_question(others), result={"ask": "contact"})
    return replace(result.outcome, reply=_family_reply(result, contact.name))


def _system_notice(task: Task) -> Notice:
    """The notice a notification task carries; PermanentError when its input is not one."""
    topic = task.input.get("topic")
    text = str(task.input.get("text") or "").strip()
    try:
        contact_id = uuid.UUID(str(task.input.get("contact_id")))
    except ValueError as exc:
        raise PermanentError("a notification task needs a contact_id") from exc
    if topic not in TOPICS or not text:
        raise PermanentError("a notification task needs a topic and a text")
    details = task.input.get("details")
    if details is not None and not isinstance(details, dict):
        raise PermanentError("a notification task's details are an object")
    valid: Topic = topic
    return Notice(task, contact_id, valid, text, details)


async def notify_contact(task: Task, ctx: SkillContext) -> Outcome:
    """A notification queued by `notify_contacts`: to one contact, if they still consent."""
    result = await deliver(_system_notice(task), ports=_ports(ctx))
    return result.outcome


async def notify_app(task: Task, ctx: SkillContext) -> Outcome:
    """A push queued by `push_to_app`: to the person's own app webhook, if they still have one."""
    return await deliver_to_app(task, app_notice_of(task), ports=_ports(ctx))


NOTIFY_FAMILY = Skill(
    name=NOTIFY_FAMILY_KIND,
    lane=NOTIFY_LANE,
    handler=notify_family,
    retry=DELIVERY_RETRY,
    timeout_seconds=TIMEOUT_SECONDS,
)
NOTIFY_CONTACT = Skill(
    name=NOTIFY_CONTACT_KIND,
    lane=NOTIFY_LANE,
    handler=notify_contact,
    retry=DELIVERY_RETRY,
    timeout_seconds=TIMEOUT_SECONDS,
)

NOTIFY_APP = Skill(
    name=APP_PUSH_KIND,
    lane=NOTIFY_LANE,
    handler=notify_app,
    retry=DELIVERY_RETRY,
    timeout_seconds=TIMEOUT_SECONDS,
)

SKILLS = [NOTIFY_FAMILY, NOTIFY_CONTACT, NOTIFY_APP]
ROUTES: dict[str, str] = {Intent.NOTIFY_FAMILY: NOTIFY_FAMILY.name}
