"""The pure rules of the notify slice: naming a contact, safe destinations, retries, signatures."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from domain.contacts import Contact, canonical_relation, contacts_named, resolve_contact, who_question
from domain.errors import InvalidInput
from domain.notify_ports import WebhookRequest
from domain.tasks import TaskStatus, decide_failure
from domain.webhooks import (
    DELIVERY_RETRY,
    AttemptResult,
    SendReport,
    address_allowed,
    delivery_id,
    judge,
    new_secret,
    notification_task_id,
    parse_destination,
    valid_secret,
)
from providers.webhooks import signature_header

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
USER = uuid.uuid4()


def contact(name: str, relation: str | None) -> Contact:
    return Contact(
        uuid.uuid4(), USER, name, canonical_relation(relation), "https://x.test/", frozenset(), NOW, NOW
    )


ANNA = contact("Anna Svensson", "daughter")
TOM = contact("Tom", "son")
MUM = contact("Greta", "mum")
LEO = contact("Leo", "grandson")
EVA = contact("Eva", "granddaughter")
BOOK = [ANNA, TOM, MUM, LEO]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("my daughter", ANNA),
        ("daughter", ANNA),
        ("Anna", ANNA),
        ("anna", ANNA),
        ("ANNA SVENSSON", ANNA),
        ("my daughter Anna", ANNA),
        ("Anna, my daughter", ANNA),
        ("my son", TOM),
        ("tom", TOM),
        ("mum", MUM),
        ("mom", MUM),
        ("my mother", MUM),
        ("Mummy", MUM),
        ("my grandson", LEO),
        ("my grandchild", LEO),
        ("my son-in-law", None),
        ("Anna saying", None),
        ("my dad", None),
        ("Bob", None),
        ("", None),
        (None, None),
    ],
)
def test_a_phrase_names_one_of_the_persons_own_contacts_or_none(
    phrase: str | None, expected: Contact | None
) -> None:
    assert resolve_contact(phrase, BOOK).contact == expected


def test_two_matches_are_never_guessed_between() -> None:
    book = [ANNA, contact("Beth", "daughter"), LEO, EVA]
    daughters = resolve_contact("my daughter", book)
    assert daughters.contact is None
    assert [c.name for c in daughters.candidates] == ["Anna Svensson", "Beth"]
    assert (
        who_question(daughters)
        == "Who should I send it to? You have: Anna Svensson (daughter), Beth (daughter)."
    )
    grandchildren = resolve_contact("my grandchild", book)
    assert grandchildren.contact is None and len(grandchildren.candidates) == 2
    assert resolve_contact("Beth", book).contact == book[1]


def test_an_unknown_name_offers_every_contact_and_no_contacts_says_so() -> None:
    unknown = resolve_contact("my neighbour", BOOK)
    assert unknown.contact is None
    assert who_question(unknown).startswith(
        "Who should I send it to? You have: Anna Svensson (daughter), Tom (son)"
    )
    assert "no contacts yet" in who_question(resolve_contact("Anna", []))


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("Mum", "mother"), ("mom", "mother"), ("Dad", "father"), ("son in law", "son-in-law"),
     ("Neighbor", "neighbour"), ("godmother", "godmother"), ("  ", None), (None, None)],
)  # fmt: skip
def test_relations_are_kept_in_one_canonical_word(given: str | None, canonical: str | None) -> None:
    assert canonical_relation(given) == canonical


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.5.4", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.7", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::5", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::", False),
        ("not-an-ip", False),
    ],
)
def test_only_public_unicast_addresses_are_allowed(address: str, allowed: bool) -> None:
    assert address_allowed(address, allow_private=False) is allowed


@pytest.mark.parametrize(("address", "allowed"), [("127.0.0.1", True), ("10.0.0.1", True), ("::1", True),
                                                  ("224.0.0.1", False), ("0.0.0.0", False)])  # fmt: skip
def test_the_operator_setting_opens_private_ranges_but_never_multicast(address: str, allowed: bool) -> None:
    assert address_allowed(address, allow_private=True) is allowed


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http://user:pw@example.com/",
     "https://user@example.com/", "http:///nohost", "example.com/hook", "http://example.com:99999/",
     "https://" + "a" * 2050 + ".com/"],
)  # fmt: skip
def test_malformed_or_credentialed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        parse_destination(url)


def test_a_url_names_its_host_and_port() -> None:
    assert parse_destination("https://Hooks.Example.com./in").host == "Hooks.Example.com".lower()
    assert parse_destination("http://[2001:db8::1]:8080/").port == 8080
    assert parse_destination("https://x.example/").port == 443


@pytest.mark.parametrize(
    ("report", "result"),
    [
        (SendReport(200, None, 1.0), AttemptResult.DELIVERED),
        (SendReport(204, None, 1.0), AttemptResult.DELIVERED),
        (SendReport(500, None, 1.0), AttemptResult.FAILED),
        (SendReport(503, None, 1.0), AttemptResult.FAILED),
        (SendReport(429, None, 1.0), AttemptResult.FAILED),
        (SendReport(408, None, 1.0), AttemptResult.FAILED),
        (SendReport(None, "timeout", 1.0), AttemptResult.FAILED),
        (SendReport(None, "connection error: ConnectError", 1.0), AttemptResult.FAILED),
        (SendReport(400, None, 1.0), AttemptResult.REJECTED),
        (SendReport(404, None, 1.0), AttemptResult.REJECTED),
        (SendReport(410, None, 1.0), AttemptResult.REJECTED),
        (SendReport(301, None, 1.0), AttemptResult.REJECTED),
        (SendReport(None, "refused: private", 0.1, refused=True), AttemptResult.REFUSED),
    ],
)
def test_what_an_answer_means(report: SendReport, result: AttemptResult) -> None:
    assert judge(report) is result


def test_retries_follow_the_svix_schedule_then_dead_letter() -> None:
    rng = random.Random(7)
    waits = [DELIVERY_RETRY.delay(attempt, rng) for attempt in range(1, 8)]
    for wait, planned in zip(waits, (5, 300, 1800, 7200, 18000, 36000, 36000), strict=True):
        assert planned * 0.9 <= wait <= planned
    assert DELIVERY_RETRY.max_attempts == 8
    error = ConnectionError("down")
    assert (
        decide_failure(error, transient=True, attempt=7, policy=DELIVERY_RETRY).status is TaskStatus.RETRYING
    )
    assert (
        decide_failure(error, transient=True, attempt=8, policy=DELIVERY_RETRY).status
        is TaskStatus.DEAD_LETTERED
    )


def test_ids_are_derived_so_a_rerun_finds_the_same_delivery() -> None:
    task, who, source = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert delivery_id(task, who) == delivery_id(task, who) != delivery_id(task, uuid.uuid4())
    assert notification_task_id(source, who, "escalations") == notification_task_id(
        source, who, "escalations"
    )
    assert notification_task_id(source, who, "escalations") != notification_task_id(source, who, "bookings")


def test_secrets_are_whsec_base64_of_enough_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and valid_secret(secret) == secret
    for bad in ("abc", "whsec_!!!", "whsec_" + "QUJD", "whsec_"):
        with pytest.raises(InvalidInput):
            valid_secret(bad)


def test_during_a_rotation_both_secrets_sign_and_each_verifies_alone() -> None:
    old, new = new_secret(), new_secret()
    request = WebhookRequest("https://x.test/", "msg_1", '{"a":1}', (new, old))
    at = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature_header(request, at),
    }
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, headers) == {"a": 1}


def test_other_parts_of_errand_may_name_contacts_by_id_or_as_a_group() -> None:
    book = [ANNA, contact("Beth", "daughter"), TOM]
    assert contacts_named(str(TOM.id), book) == (TOM,)
    assert contacts_named("my daughter", book) == (ANNA, book[1])
    assert contacts_named("nobody", book) == ()
