"""The local parser's async path: the second opinion's sentence vector is computed off the event
loop, and the answer is the same as the blocking path's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np

from domain.intents import Intent
from providers.local_intents import LocalIntentParser
from providers.settings import Settings
from providers.wiring import build_classifier

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_the_sentence_vector_is_computed_off_the_event_loop() -> None:
    classifier = build_classifier(Settings())
    embed = classifier.embed
    assert embed is not None
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def recording(text: str) -> np.ndarray:
        threads.append(threading.get_ident())
        return embed(text)

    classifier.embed = recording
    parser = LocalIntentParser(classifier)
    text = "forget about the restaurant booking"
    parsed = await parser.parse(text, now=NOW, timezone="Europe/Stockholm")
    assert threads and loop_thread not in threads
    assert parsed.intent is Intent.CANCEL_BOOKING
    assert parsed == parser.parse_now(text, now=NOW, timezone="Europe/Stockholm")

    threads.clear()
    plain = await parser.parse("book a table for four at luigi's tomorrow at seven", now=NOW, timezone="UTC")
    assert plain.intent is Intent.BOOK_RESTAURANT
    assert threads == []
