"""What the local parser does with a classifier's label and confidence: never guess an action.

Pure: the classifier (providers) scores, this decides. An action the person did not ask for
(booking a table when they asked whether the restaurant takes bookings) costs far more than
asking them back, so a doubtful action becomes NONE with `unsure` set, and a request we
cannot serve (`other_action`: alarms, calls, calendars, takeaways) becomes NONE with
`unsupported` set, so the assistant says "I can't do that yet" instead of doing something
nearby.
"""

from __future__ import annotations

from domain.intents import ACTIONS, Intent

OTHER_ACTION = "other_action"
"""Training-only label of requests we do not serve; never leaves this module as an Intent."""

GUARDED = ACTIONS | {Intent.LIST_REMINDERS, Intent.BOOKING_STATUS}
"""Intents acted on only above the threshold: the actions, plus the look-ups, which still
read the person's bookings and reminders back and would be a confusing answer to small talk."""


def decide(label: str, probability: float, threshold: float) -> tuple[Intent, bool, bool]:
    """(intent, unsupported, unsure) for the classifier's top label and its probability."""
    if label == OTHER_ACTION:
        return Intent.NONE, True, False
    intent = Intent(label)
    if intent in GUARDED and probability < threshold:
        return Intent.NONE, False, True
    return intent, False, False
