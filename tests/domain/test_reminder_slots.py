"""What a reminder is about, however it is asked for: the parser knows these are reminders, and the
conversation must not ask "what should I remind you about?" of someone who has just said it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.conversation import read_back
from domain.intents import Intent
from domain.slot_extraction import extract_slots
from domain.slots import Slots, missing_slots

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ZONE = "Europe/London"


@pytest.mark.parametrize(
    ("text", "what", "medicine"),
    [
        ("remind me to take my heart pills every morning at 8", "take my heart pills", "heart pills"),
        ("remind me to take my water pills at 8", "take my water pills", "water pills"),
        ("remind me to buy milk, eggs and bread tomorrow at 9", "buy milk, eggs and bread", None),
        ("remind me to take my pills at 8 and tell my daughter if I forget", "take my pills", "pills"),
        ("don't let me miss my pills at lunchtime", "my pills", "pills"),
        ("tell me at five to take my tablets", "take my tablets", "tablets"),
        ("don't let me forget to feed the cat tonight", "feed the cat", None),
        ("give me a shout at seven to put the kettle on", "put the kettle on", None),
        ("give me a nudge about the bins on wednesday at 7", "the bins", None),
        ("make sure i take my statin every night at ten", "take my statin", "statin"),
        ("make sure I remember my hearing aid tomorrow at 9", "my hearing aid", None),
        ("help me remember to phone the council tomorrow at 11", "phone the council", None),
        ("jog my memory about the gas man at nine tomorrow", "the gas man", None),
        ("ping me tomorrow at noon about my prescription", "my prescription", None),
        ("i need a heads-up at half eight to catch the bus", "catch the bus", None),
        ("can you tell me at 9 to use my eye drops please", "use my eye drops", "eye drops"),
        ("could you mention my eye drops at 10pm every night", "my eye drops", "eye drops"),
        ("i mustn't forget my water tablet at lunchtime", "my water tablet", "water tablet"),
        ("let me know at five that it's time for my insulin", "my insulin", "insulin"),
        ("in twenty minutes tell me to take the washing out", "take the washing out", None),
        ("i'll forget otherwise, so tell me at 3 to phone the bank", "phone the bank", None),
        ("remember to tell me to take my warfarin at six", "take my warfarin", "warfarin"),
        ("memo for tomorrow at eight: take the bin out", "take the bin out", None),
        ("a shout at nine for my pills please", "my pills", "pills"),
        ("put in a reminder for me to feed the fish at six", "feed the fish", None),
        ("i'd like a reminder at 7 to tell me to ring the garage", "ring the garage", None),
        ("could you tell me later on to lock up, at 10pm", "lock up", None),
        ("the window cleaner comes on friday at 10, remind me", "the window cleaner comes", None),
        ("i've got my flu jab on tuesday at 11 so can you remind me", "my flu jab", None),
        ("it's bin day tomorrow at 7, please remind me", "bin day", None),
        ("set a reminder take statin 10pm", "take statin", "statin"),
        ("ring the council first thing tomorrow, remind me", "ring the council", None),
    ],
)
def test_the_thing_to_remember_is_read_from_everyday_wording(
    text: str, what: str, medicine: str | None
) -> None:
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert (slots.what, slots.medicine) == (what, medicine), text
    assert slots.start is not None, text
    assert "what" not in missing_slots(Intent.SET_REMINDER, slots), text


@pytest.mark.parametrize(
    "text",
    [
        "tell me at nine",
        "remind me about it tomorrow at 10",
        "give me a nudge later",
        "remind me at 8",
        "can you remind me at 8",
        "oh, please remind me tomorrow at 9",
        "remind me the day before, on friday at 10",
    ],
)
def test_nothing_named_is_still_asked_for(text: str) -> None:
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert slots.what is None, slots
    assert "what" in missing_slots(Intent.SET_REMINDER, slots)


def test_the_dose_is_kept_apart_from_the_medicine() -> None:
    slots = extract_slots(Intent.SET_REMINDER, "tell me to take 2 tablets of my aspirin at 8", NOW, ZONE)
    assert (slots.dose, slots.what) == ("2 tablets", "take 2 tablets of my aspirin")


def test_the_read_back_says_the_pills_not_a_question() -> None:
    slots = extract_slots(Intent.SET_REMINDER, "don't let me miss my pills at lunchtime", NOW, ZONE)
    assert str(read_back(Intent.SET_REMINDER, slots, NOW, ZONE)).startswith("Remind you about your pills ")


@pytest.mark.parametrize("intent", list(Intent))
def test_words_from_a_long_message_stay_within_the_slot_limits(intent: Intent) -> None:
    """A 4,000-character message is allowed; what is read from it must still be valid slots."""
    padding = " ".join(["and also the blue folder"] * 150)
    text = f"remind me to take my pills {padding} tomorrow at 8, and tell my daughter that {padding}"
    slots = extract_slots(intent, text, NOW, ZONE)
    assert Slots.model_validate(slots.model_dump()) == slots
    if intent is Intent.SET_REMINDER:
        assert slots.what is not None and 400 < len(slots.what) <= 500
        assert slots.what.startswith("take my pills and also") and f"{slots.what} " in text, "cut at a word"


def test_a_word_that_ends_at_the_limit_is_kept() -> None:
    what = "take " + "y" * 495
    slots = extract_slots(Intent.SET_REMINDER, f"remind me to {what} more tomorrow at 9", NOW, ZONE)
    assert slots.what == what


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("i have the chiropodist on thursday at 2 so remind me the day before", "2026-11-25T14:00:00+00:00"),
        ("remind me an hour before my hair appointment tomorrow at 11", "2026-11-23T10:00:00+00:00"),
        ("remind me to take the cake out in 40 minutes", "2026-11-22T10:40:00+00:00"),
        ("the taxi comes at 3 tomorrow, remind me half an hour before", "2026-11-23T14:30:00+00:00"),
        ("remind me 2 days early about mum's birthday on the 30th at 9", "2026-11-28T09:00:00+00:00"),
        ("i have the dentist on thursday at 2, remind me the night before", "2026-11-25T20:00:00+00:00"),
    ],
)
def test_a_reminder_asked_for_ahead_of_the_time_comes_that_much_earlier(text: str, start: str) -> None:
    """ "remind me the day before" a Thursday appointment means Wednesday: reminding on Thursday
    would be too late for what the person asked."""
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert slots.start == datetime.fromisoformat(start), text
    assert slots.what and "before" not in slots.what and "early" not in slots.what, text


@pytest.mark.parametrize(
    ("text", "start", "rule", "what"),
    [
        (
            "remind me every tuesday to put the bins out, the night before",
            "2026-11-23T20:00:00+00:00",
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=20;BYMINUTE=0",
            "put the bins out",
        ),
        (
            "the bins go out every tuesday, remind me the day before at 7pm",
            "2026-11-23T19:00:00+00:00",
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=19;BYMINUTE=0",
            "the bins go out",
        ),
        (
            "remind me 10 minutes before every day at 8am to take my pills",
            "2026-11-23T07:50:00+00:00",
            "FREQ=DAILY;BYHOUR=7;BYMINUTE=50",
            "take my pills",
        ),
        (
            "remind me half an hour before my tablets at 9 each morning and 9 at night",
            "2026-11-22T20:30:00+00:00",
            "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=30",
            "my tablets",
        ),
    ],
)
def test_a_repeating_reminder_asked_for_ahead_comes_that_much_earlier_every_time(
    text: str, start: str, rule: str, what: str
) -> None:
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert (slots.start, slots.recurrence, slots.what) == (datetime.fromisoformat(start), rule, what)


def test_a_repeating_reminder_that_cannot_be_moved_keeps_the_time_said() -> None:
    """08:00 and 08:30 less 10 minutes is not one BYHOUR x BYMINUTE rule: the read-back shows the
    times said, and the person can say no."""
    slots = extract_slots(
        Intent.SET_REMINDER, "remind me 10 minutes before 8:00 and 8:30 every day", NOW, ZONE
    )
    assert slots.recurrence == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0,30"


@pytest.mark.parametrize(
    ("text", "start"),
    [
        # the lead's "morning" is the reminder's, not the event's: 3 is 15:00, never 03:00
        ("my grandson is coming on saturday at 3, remind me in the morning", "2026-11-28T09:00:00+00:00"),
        ("my grandson is coming on saturday at 11, remind me in the morning", "2026-11-28T09:00:00+00:00"),
        ("the plumber comes on friday at 2, remind me that morning", "2026-11-27T09:00:00+00:00"),
        ("remind me on the day, my hospital appointment is on the 3rd at 10:30", "2026-12-03T09:00:00+00:00"),
        ("dentist at 9 on thursday, remind me the night before", "2026-11-25T20:00:00+00:00"),
        # no earlier than the thing itself, and a morning said alone is just a time
        ("the taxi comes at 7 tomorrow, remind me in the morning", "2026-11-23T07:00:00+00:00"),
        ("remind me in the morning to call the bank", "2026-11-23T09:00:00+00:00"),
    ],
)
def test_a_reminder_on_the_morning_of_the_day_comes_that_morning(text: str, start: str) -> None:
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert slots.start == datetime.fromisoformat(start), text


@pytest.mark.parametrize(
    ("text", "what", "words"),
    [
        (
            "i have the dentist on thursday at 2, remind me the night before",
            "the dentist on thursday at 2",
            "Remind you on Wednesday (25 Nov) at 20:00 about the dentist on thursday at 2?",
        ),
        (
            "my grandson is coming on saturday at 3, remind me in the morning",
            "my grandson is coming on saturday at 3",
            "Remind you on Saturday (28 Nov) at 09:00 that your grandson is coming on saturday at 3?",
        ),
        (
            "remind me on the day before my eye test on friday at 10",
            "my eye test on friday at 10",
            "Remind you on Thursday (26 Nov) at 10:00 about your eye test on friday at 10?",
        ),
        (
            "bin day is every tuesday morning, remind me the day before",
            "bin day",  # not "bin day is": the time was cut from after "is"
            "Remind you about bin day every Monday at 09:00?",
        ),
        (  # a repeating thing needs no time in its words: every Tuesday says it
            "the bins go out every tuesday, remind me the night before",
            "the bins go out",
            "Remind you that the bins go out every Monday at 20:00?",
        ),
    ],
)
def test_a_reminder_ahead_of_a_one_off_still_says_when_the_thing_is(text: str, what: str, words: str) -> None:
    """It rings at another time than the thing it is about, so it must say when the thing is."""
    slots = extract_slots(Intent.SET_REMINDER, text, NOW, ZONE)
    assert slots.what == what
    assert read_back(Intent.SET_REMINDER, slots, NOW, ZONE) == words
