"""Replies of the family message, the contact question and the extractive knowledge answer, in
English and in Swedish (domain.wording.Said, picked by domain.speech.localize)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.contacts import Contact, canonical_relation, resolve_contact, who_question
from domain.knowledge import Passage
from domain.knowledge_services import extractive_answer
from domain.notify import DeliveryResult, Verdict
from domain.skills.notify import _family_reply, _no_consent_reply
from domain.speech import localize
from domain.tasks import Outcome
from domain.wording import Said

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
USER = uuid.uuid4()


def contact(name: str, relation: str | None) -> Contact:
    return Contact(
        uuid.uuid4(), USER, name, canonical_relation(relation), "https://x.test/", frozenset(), NOW, NOW
    )


def both(reply: str, en: str, sv: str) -> None:
    assert isinstance(reply, Said)
    assert reply == en and str(reply) == en
    assert reply.sv == sv
    assert localize(reply, "sv") == (sv, "sv")
    assert localize(reply, "en") == (en, "en")
    assert type(localize(reply, "sv")[0]) is str


@pytest.mark.parametrize(
    ("verdict", "en", "sv"),
    [
        (
            Verdict.SENT,
            "I sent your message to Anna.",
            "Jag har skickat ditt meddelande till Anna.",
        ),
        (
            Verdict.RETRY,
            "I couldn't reach Anna just now. I'll keep trying.",
            "Jag kom inte fram till Anna just nu. Jag fortsätter att försöka.",
        ),
        (
            Verdict.FAILED,
            "I'm sorry, I couldn't deliver your message to Anna.",
            "Förlåt, jag kunde inte få fram ditt meddelande till Anna.",
        ),
    ],
)
def test_the_family_message_reply_is_said_in_both_languages(verdict: Verdict, en: str, sv: str) -> None:
    both(_family_reply(DeliveryResult(verdict, Outcome.succeeded()), "Anna"), en, sv)


def test_a_contact_without_consent_is_explained_in_both_languages() -> None:
    both(
        _no_consent_reply("Anna"),
        "Anna hasn't agreed to get messages from me, so I didn't send it.",
        "Anna har inte sagt ja till att få meddelanden från mig, så jag skickade det inte.",
    )


def test_the_contact_question_lists_relations_in_swedish_where_it_can() -> None:
    book = [
        contact("Anna Svensson", "daughter"),
        contact("Tom", "son"),
        contact("Greta", "mum"),
        contact("Leo", "grandson"),
        contact("Ulf", "uncle"),
        contact("Bo", None),
    ]
    both(
        who_question(resolve_contact("my neighbour", book)),
        "Who should I send it to? You have: Anna Svensson (daughter), Tom (son), Greta (mother), "
        "Leo (grandson), Ulf (uncle), Bo.",
        "Vem ska jag skicka det till? Du har: Anna Svensson (dotter), Tom (son), Greta (mamma), "
        "Leo (barnbarn), Ulf (uncle), Bo.",
    )


def test_the_contact_question_counts_the_contacts_it_leaves_out() -> None:
    book = [contact(name, "friend") for name in ("Ann", "Bo", "Cia", "Dan", "Eva", "Fia", "Gun", "Hans")]
    both(
        who_question(resolve_contact("my daughter", book)),
        "Who should I send it to? You have: Ann (friend), Bo (friend), Cia (friend), Dan (friend), "
        "Eva (friend), Fia (friend) and 2 more.",
        "Vem ska jag skicka det till? Du har: Ann (vän), Bo (vän), Cia (vän), Dan (vän), "
        "Eva (vän), Fia (vän) och 2 till.",
    )


def test_a_relation_of_several_words_is_kept_as_stored() -> None:
    assert contact("Kim", "best friend").label_sv == "Kim (best friend)"


def test_no_contacts_stays_a_fixed_reply() -> None:
    question = who_question(resolve_contact("Anna", []))
    assert not isinstance(question, Said)
    assert question == "Who should I send it to? You have no contacts yet: add one in the app, then tell me."


def passage(title: str, heading: str, text: str) -> Passage:
    return Passage(uuid.uuid4(), title, heading, text, 0.9, 0)


def test_an_extractive_answer_quotes_the_passages_under_a_swedish_lead() -> None:
    found = extractive_answer(
        [
            passage("Pill guide", "Pill guide > Morning", "Take the blue pill with breakfast."),
            passage("Hemtjänst", "", "Personalen kommer klockan nio."),
        ]
    )
    assert found.mode == "extractive"
    both(
        found.reply,
        "From \u201cPill guide > Morning\u201d: Take the blue pill with breakfast.\n\n"
        "From \u201cHemtjänst\u201d: Personalen kommer klockan nio.",
        "Från \u201dPill guide > Morning\u201d: Take the blue pill with breakfast.\n\n"
        "Från \u201dHemtjänst\u201d: Personalen kommer klockan nio.",
    )
