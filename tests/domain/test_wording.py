"""Composed replies in Swedish: read-backs, schedules, reminders. Each composing function writes the
English and the Swedish side by side (`domain.wording.Said`); `localize` picks one at the edge."""

from __future__ import annotations

import copy
import pickle
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.conversation import read_back
from domain.intents import Intent
from domain.recurrence import check_schedule
from domain.reminders import (
    DayRecord,
    DueReminder,
    EscalationPolicy,
    FiringRules,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderStatus,
    due_text,
    list_reply,
    plan_firing,
    reprompt_text,
    set_reply,
    took_today_sentence,
)
from domain.slot_extraction import extract_slots
from domain.slots import Slots
from domain.speech import localize
from domain.wording import Said, both_and, contact_sv, detect_language, said, you_form_sv

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Stockholm


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=STOCKHOLM)


def test_a_said_is_its_english_and_carries_its_swedish_through_copies() -> None:
    reply = said("Book it?", "Boka det?")
    assert reply == "Book it?" and isinstance(reply, str) and reply.sv == "Boka det?"
    for copied in (copy.deepcopy(reply), pickle.loads(pickle.dumps(reply))):
        assert isinstance(copied, Said) and copied.sv == "Boka det?"
    assert localize(reply, "sv") == ("Boka det?", "sv")
    english, language = localize(reply, "en")
    assert (english, language) == ("Book it?", "en") and type(english) is str
    assert both_and([said("a table", "ett bord"), "Anna", said("a cake", "en tårta")]).sv == (
        "ett bord, Anna och en tårta"
    )


@pytest.mark.parametrize(
    ("intent", "slots", "english", "swedish"),
    [
        (
            Intent.BOOK_RESTAURANT,
            Slots(venue="Luigi's", party_size=4, start=_at(24, 19)),
            "Book a table for 4 at Luigi's, tomorrow (Tue 24 Nov) at 19:00?",
            "Boka ett bord för 4 på Luigi's, i morgon (tis 24 nov) kl. 19:00?",
        ),
        (
            Intent.BOOK_APPOINTMENT,
            Slots(venue="Bella Hair", service="haircut", start=_at(27, 10, 30)),
            "Book a haircut at Bella Hair, on Friday (27 Nov) at 10:30?",
            "Boka en tid för haircut på Bella Hair, på fredag (27 nov) kl. 10:30?",
        ),
        (
            Intent.BOOK_APPOINTMENT,
            Slots(venue="the dentist", start=_at(23, 15)),
            "Book an appointment at the dentist, today (Mon 23 Nov) at 15:00?",
            "Boka en tid på the dentist, i dag (mån 23 nov) kl. 15:00?",
        ),
        (
            Intent.CANCEL_BOOKING,
            Slots(venue="Luigi's"),
            "Cancel your booking at Luigi's?",
            "Avboka din bokning på Luigi's?",
        ),
        (
            Intent.CANCEL_BOOKING,
            Slots(start=datetime(2026, 12, 7, 19, tzinfo=STOCKHOLM)),
            "Cancel your booking on Mon 7 Dec at 19:00?",
            "Avboka din bokning mån 7 dec kl. 19:00?",
        ),
        (
            Intent.CANCEL_BOOKING,  # a day said without a time: the whole day, and no "at 00:00"
            Slots(start=_at(27, 0), end=_at(28, 0)),
            "Cancel your booking on Friday (27 Nov)?",
            "Avboka din bokning på fredag (27 nov)?",
        ),
        (
            Intent.SET_REMINDER,
            Slots(
                what="take my insulin",
                start=_at(23, 18, 30),
                recurrence="FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4",
            ),
            "Remind you to take your insulin every day at 08:00 and 18:30?",
            "Ska jag påminna dig om att take your insulin varje dag kl. 08:00 och 18:30?",
        ),
        (
            Intent.NOTIFY_FAMILY,
            Slots(contact="my daughter", message="I'm home safe"),
            'Send your daughter this message: "I\'m home safe"?',
            'Skicka det här meddelandet till din dotter: "I\'m home safe"?',
        ),
        (
            Intent.SET_REMINDER,
            Slots(what="take my heart pills", dose="2 tablets", start=_at(24, 8), recurrence="FREQ=DAILY"),
            "Remind you to take your heart pills (2 tablets) every day at 08:00?",
            "Ska jag påminna dig om att take your heart pills (2 tablets) varje dag kl. 08:00?",
        ),
        (
            Intent.SET_REMINDER,
            Slots(what="ta mina hjärttabletter", start=_at(24, 8), recurrence="FREQ=WEEKLY;BYDAY=MO,TH"),
            "Remind you about ta mina hjärttabletter every Monday and Thursday at 08:00?",
            "Ska jag påminna dig om att ta dina hjärttabletter varje måndag och torsdag kl. 08:00?",
        ),
    ],
    ids=[
        "table",
        "service",
        "appointment",
        "cancel-venue",
        "cancel-day",
        "cancel-whole-day",
        "two-times",
        "notify",
        "pills",
        "swedish-words",
    ],
)
def test_read_backs_in_both_languages(intent: Intent, slots: Slots, english: str, swedish: str) -> None:
    reply = read_back(intent, slots, NOW, "Europe/Stockholm")
    assert reply == english
    assert localize(reply, "sv") == (swedish, "sv")


@pytest.mark.parametrize(
    ("rule", "english", "swedish"),
    [
        (None, "tomorrow at 08:00", "i morgon kl. 08:00"),
        (
            "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0",
            "every day at 08:00 and 20:00",
            "varje dag kl. 08:00 och 20:00",
        ),
        ("FREQ=DAILY;INTERVAL=2", "every 2 days at 08:00", "varannan dag kl. 08:00"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday at 08:00", "varje vardag kl. 08:00"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
            "every other week on Monday at 08:00",
            "varannan vecka på måndag kl. 08:00",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            "on the 1st and 15th of every month at 08:00",
            "den 1 och 15 varje månad kl. 08:00",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "on the last day of every month at 08:00",
            "den sista dagen varje månad kl. 08:00",
        ),
        (
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
            "every year on 24 December at 08:00",
            "varje år den 24 december kl. 08:00",
        ),
        ("FREQ=HOURLY;INTERVAL=3", "every 3 hours", "var 3:e timme"),
        ("FREQ=DAILY;BYDAY=MO,WE", "on a repeating schedule", "enligt ett återkommande schema"),
    ],
)
def test_schedules_in_both_languages(rule: str | None, english: str, swedish: str) -> None:
    schedule = check_schedule(_at(24, 8), rule, "Europe/Stockholm", 1)
    described = schedule.describe(NOW)
    assert (described, described.sv) == (english, swedish)


def test_a_far_one_off_says_its_date_and_year() -> None:
    described = check_schedule(
        datetime(2027, 1, 4, 9, tzinfo=STOCKHOLM), None, "Europe/Stockholm", 1
    ).describe(NOW)
    assert (described, described.sv) == ("on Mon 4 Jan 2027 at 09:00", "mån 4 jan 2027 kl. 09:00")


def _reminder(
    what: str, medicine: str | None = None, dose: str | None = None, rule: str = "FREQ=DAILY"
) -> Reminder:
    schedule = check_schedule(_at(24, 8), rule, "Europe/Stockholm", 1)
    return Reminder(
        id=uuid.UUID(int=1),
        user_id=uuid.UUID(int=2),
        conversation_id=uuid.UUID(int=3),
        what=what,
        medicine=medicine,
        dose=dose,
        schedule=schedule,
        status=ReminderStatus.ACTIVE,
        next_due_at=schedule.first_at,
        escalate=bool(medicine),
    )


def test_reminder_words_in_both_languages() -> None:
    pills = _reminder("take my heart pills", "heart pills", "2 tablets")
    mine = _reminder("ta mina hjärttabletter")
    dentist = _reminder("the dentist", rule="FREQ=WEEKLY;BYDAY=TH")
    assert set_reply(mine, NOW).sv == "Jag påminner dig om att ta dina hjärttabletter varje dag kl. 08:00."
    assert set_reply(dentist, NOW).sv == "Jag påminner dig om the dentist varje torsdag kl. 08:00."
    assert due_text(mine).sv == "Dags att ta dina hjärttabletter."
    assert (
        due_text(dentist) == "Reminder: the dentist." and due_text(dentist).sv == "Påminnelse: the dentist."
    )
    assert reprompt_text(mine, _at(24, 8)).sv == (
        "Jag vill bara höra om det blev gjort: påminnelsen kl. 08:00, att ta dina hjärttabletter."
    )
    paused = replace(dentist, status=ReminderStatus.PAUSED)
    listed = list_reply([mine, paused], NOW)
    assert listed.sv == (  # type: ignore[attr-defined]
        "Du har 2 påminnelser: ta dina hjärttabletter varje dag kl. 08:00; "
        "och the dentist varje torsdag kl. 08:00 (pausad)."
    )
    assert list_reply([], NOW) == "You have no reminders."  # a fixed reply: the dictionary has it
    assert localize(list_reply([], NOW), "sv")[0] == "Du har inga påminnelser."
    assert set_reply(pills, NOW) == "I'll remind you to take your heart pills (2 tablets) every day at 08:00."


@pytest.mark.parametrize(
    ("what", "english"),
    [
        ("the bins go out", "I'll remind you that the bins go out every Monday at 08:00."),
        ("my grandson is coming", "I'll remind you that your grandson is coming every Monday at 08:00."),
        ("the dentist", "I'll remind you about the dentist every Monday at 08:00."),
        ("my eye drops", "I'll remind you about your eye drops every Monday at 08:00."),
        ("put the bins out", "I'll remind you to put the bins out every Monday at 08:00."),
        # a thing with its own time: the reminder's time first, so the two are not read as one
        (
            "the dentist on thursday at 2",
            "I'll remind you every Monday at 08:00 about the dentist on thursday at 2.",
        ),
    ],
)
def test_a_thing_said_as_a_sentence_is_read_back_with_that(what: str, english: str) -> None:
    """ "Remind you about the bins go out" reads oddly to anyone; "that" fits a sentence."""
    reminder = _reminder(what, rule="FREQ=WEEKLY;BYDAY=MO")
    assert set_reply(reminder, NOW) == english
    slots = Slots(what=what, start=reminder.schedule.first_at, recurrence="FREQ=WEEKLY;BYDAY=MO")
    assert read_back(Intent.SET_REMINDER, slots, NOW, "Europe/Stockholm") == (
        english.replace("I'll remind", "Remind").removesuffix(".") + "?"
    )


def test_did_i_take_it_answers_in_swedish_and_stays_careful_about_double_doses() -> None:
    pills = _reminder("take my heart pills", "heart pills")
    taken = Occurrence(
        id=uuid.UUID(int=9),
        reminder_id=pills.id,
        user_id=pills.user_id,
        due_at=_at(24, 8),
        status=OccurrenceStatus.TAKEN,
        acked_at=_at(24, 8, 5),
    )
    assert took_today_sentence(DayRecord(pills, [taken], [])).sv == (
        "Ja, du tog heart pills i dag kl. 08:05. Du behöver inte ta den igen nu."
    )
    missing = replace(taken, status=OccurrenceStatus.PENDING, acked_at=None)
    assert took_today_sentence(DayRecord(pills, [missing], [])).sv == (
        "Jag har inget som visar att du har tagit heart pills i dag; den skulle tas kl. 08:00. "
        "Om du är osäker, titta i din dosett innan du tar mer."
    )


RULES = FiringRules(catch_up=timedelta(minutes=30), backlog=100)


@pytest.mark.parametrize(
    ("what", "setting", "shown", "reply"),
    [
        ("take my heart pills", None, "en", "Time to take your heart pills."),
        ("take my heart pills", "sv", "sv", "Dags att take your heart pills."),
        ("ta mina hjärttabletter", None, "sv", "Dags att ta dina hjärttabletter."),
        ("ta mina hjärttabletter", "en", "en", "Reminder: ta mina hjärttabletter."),
    ],
)
def test_a_delivered_reminder_speaks_the_owners_language(
    what: str, setting: str | None, shown: str, reply: str
) -> None:
    """The app shows a delivery task's `reply` as soon as the scheduler makes it: it is in the
    owner's language already (their setting, else the language the reminder was written in)."""
    reminder = _reminder(what)
    plan = plan_firing(DueReminder(reminder, EscalationPolicy(), setting), _at(24, 8, 1), RULES)
    task = plan.occurrences[0].task
    assert task is not None and task.reply == reply and task.input["language"] == shown
    assert type(task.reply) is str  # stored as plain text


def test_swedish_helpers() -> None:
    assert you_form_sv("ring mig när jag har ätit min mat") == "ring dig när du har ätit din mat"
    assert contact_sv("my daughter") == "din dotter" and contact_sv("Anna") == "Anna"
    assert contact_sv("my grandson") == "ditt barnbarn"
    assert detect_language("påminn mig att ta medicinen") == "sv"
    assert detect_language("remind me to take my pills") == "en"


def test_every_fixed_reply_has_its_swedish() -> None:
    from domain.bookings import ProviderUnavailable
    from domain.conversation import CHECKING_REPLY, MORE_PLEASE, QUESTIONS
    from domain.knowledge_services import DONT_KNOW, NO_DOCUMENTS, STILL_READING
    from domain.speech import SWEDISH

    fixed = [*QUESTIONS.values(), MORE_PLEASE, CHECKING_REPLY, DONT_KNOW, NO_DOCUMENTS, STILL_READING]
    fixed.append(ProviderUnavailable.reply)
    assert [text for text in fixed if text not in SWEDISH] == []
    assert all(localize(text, "sv")[1] == "sv" for text in fixed)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "remind me to take my inhaler morning and night",
            "Remind you to take your inhaler every day at 09:00 and 20:00?",
        ),
        (
            "remind me to take my pills tomorrow at breakfast and at dinner",
            "Remind you to take your pills tomorrow at 08:00 and 19:00?",
        ),
    ],
)
def test_each_dose_listed_is_in_the_read_back(text: str, words: str) -> None:
    """Said from the message to the question: both times are read back, so neither is dropped unseen."""
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    slots = extract_slots(Intent.SET_REMINDER, text, now, "Europe/Stockholm")
    assert read_back(Intent.SET_REMINDER, slots, now, "Europe/Stockholm") == words
