"""The local intent parser, the embedded default: offline, deterministic, no API key.

A linear classifier over TF-IDF features (trained at build time, shipped in models/) picks the
intent; a confidence threshold turns a doubtful action into a question; rules and the time
resolver in domain/ fill the slots.
"""

from __future__ import annotations

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
        return self.parse_now(text, now=now, timezone=timezone)

    def parse_now(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent:
        """Synchronous: it costs well under a millisecond, so it runs on the event loop."""
        label, probability, _ = self._classifier.predict(text)
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
