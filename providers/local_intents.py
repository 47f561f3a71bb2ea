"""The local intent parser, the embedded default: offline, deterministic, no API key.

A linear classifier over TF-IDF features (trained at build time, shipped in models/) picks the
intent; when it is unsure, a second model that also sees the message's MiniLM sentence vector
decides; a confidence threshold turns a doubtful action into a question; rules and the time
resolver in domain/ fill the slots.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from domain.intent_policy import decide
from domain.intents import Intent, ParsedIntent
from domain.slot_extraction import extract_slots
from domain.slots import missing_slots
from providers.intent_classifier import IntentClassifier


class LocalIntentParser:
    name = "local"

    def __init__(self, classifier: IntentClassifier) -> None:
        self._classifier = classifier

    async def parse(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent:
        """The first model runs on the event loop (~0.05 ms); the sentence vector, when the second
        model is asked, in a thread (ONNX Runtime releases the GIL), so other requests go on."""
        classifier = self._classifier
        first = classifier.first_pass(text)
        probabilities = first.probabilities
        if classifier.embed is not None and classifier.wants_second(first):
            embedding = await asyncio.to_thread(classifier.embed, text)
            probabilities = classifier.second_pass(first, embedding)
        return self._parsed(text, probabilities, now=now, timezone=timezone)

    def warm_up(self) -> None:
        """Load the sentence model now (~0.3-0.6 s): otherwise the first message the first model is
        unsure of waits for it (554 ms once in the API)."""
        if self._classifier.embed is not None:
            self._classifier.embed("warm up")

    def parse_now(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent:
        """Synchronous, for scripts and benchmarks: the same answer as `parse`."""
        return self._parsed(text, self._classifier.probabilities(text).tolist(), now=now, timezone=timezone)

    def _parsed(self, text: str, probabilities: list[float], *, now: datetime, timezone: str) -> ParsedIntent:
        label, probability, _ = self._classifier.decided(probabilities)
        intent, unsupported, unsure = decide(label, probability, self._classifier.threshold)
        slots = extract_slots(intent, text, now, timezone)
        return ParsedIntent(
            intent=intent,
            confidence=round(probability, 4),
            parser=self.name,
            slots=slots.present(),
            missing=missing_slots(intent, slots),
            unsupported=unsupported,
            unsure=unsure,
            candidate=label if intent is Intent.NONE and label != Intent.NONE.value else None,
        )
