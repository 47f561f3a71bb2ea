"""The local parser's async path: the second opinion's sentence vector is computed off the event
loop, and the answer is the same as the blocking path's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np

from api.app import create_app
from domain.intents import Intent
from domain.placeholder_parser import PlaceholderParser
from providers.fallback_parser import FallbackParser
from providers.local_intents import LocalIntentParser
from providers.minilm_onnx import LazyOnnxMiniLM
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


def _loaded(parser: LocalIntentParser) -> bool:
    embed = parser._classifier.embed
    assert embed is not None
    model: LazyOnnxMiniLM = embed.__self__  # type: ignore[attr-defined]
    return model._model is not None


def test_warm_up_loads_the_sentence_model_before_any_message() -> None:
    parser = LocalIntentParser(build_classifier(Settings()))
    assert not _loaded(parser)  # lazy: building the parser loads nothing
    FallbackParser(PlaceholderParser(), parser).warm_up()  # a chain warms every parser in it
    assert _loaded(parser)


async def test_the_api_warms_the_parser_up_at_start(settings: Settings) -> None:
    app = create_app(settings)  # its own providers, as `make run` and uvicorn start it
    async with app.router.lifespan_context(app):
        assert _loaded(app.state.providers.parser)
    cold = create_app(settings.model_copy(update={"intent_warm_up": False}))
    async with cold.router.lifespan_context(cold):
        assert not _loaded(cold.state.providers.parser)
