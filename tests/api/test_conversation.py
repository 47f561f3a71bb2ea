"""Conversations through the real local parser: questions for missing slots, read-back and
confirmation by endpoint and by "yes"/"no", low confidence never acting, parse without effects."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from api.app import create_app
from domain.intents import ACTIONS
from providers.intent_classifier import IntentClassifier
from providers.local_intents import LocalIntentParser
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import new_user
from tests.helpers import count

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday; 10:00 in Stockholm


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
async def chat(settings: Settings, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, dataclasses.replace(providers, clock=FixedClock()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            headers = await new_user(http, timezone="Europe/Stockholm")
            http.headers.update(headers)
            yield http


async def say(chat: httpx.AsyncClient, text: str, conversation: str | None = None, **headers: str) -> dict:  # type: ignore[type-arg]
    body = {"text": text} | ({"conversation_id": conversation} if conversation else {})
    response = await chat.post("/v1/messages", json=body, headers=headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    task = (await chat.get(accepted["status_url"])).json()
    return accepted | {"task": task}


async def test_missing_slot_is_asked_then_filled_then_checked_by_the_skill(chat: httpx.AsyncClient) -> None:
    first = await say(chat, "book a table at Luigi's tomorrow at 7pm")
    assert first["intent"] == "book_restaurant"
    assert first["status"] == "needs_input" and first["task"]["reply"] == "For how many people?"
    second = await say(chat, "four", first["conversation_id"])
    assert second["task_id"] == first["task_id"]
    assert second["status"] == "queued"  # the booking skill checks, holds and reads back
    expected = {"venue": "Luigi's", "party_size": 4, "start": "2026-11-24T19:00:00+01:00"}
    assert second["task"]["slots"] == expected
    events = (await chat.get(f"/v1/tasks/{first['task_id']}/events")).json()
    assert [e["to_status"] for e in events] == ["needs_input", "queued"]


async def test_read_back_then_yes_queues_and_no_cancels(chat: httpx.AsyncClient) -> None:
    asked = await say(chat, "remind me to call the pharmacy tomorrow at 10am")
    assert asked["intent"] == "set_reminder" and asked["status"] == "awaiting_confirmation"
    assert asked["task"]["reply"] == "Remind you to call the pharmacy tomorrow (Tue 24 Nov) at 10:00?"
    yes = await say(chat, "yes please", asked["conversation_id"])
    assert yes["task_id"] == asked["task_id"] and yes["status"] == "queued"
    other = await say(chat, "remind me to water the plants tomorrow at 6pm")
    no = await say(chat, "no", other["conversation_id"])
    assert no["task_id"] == other["task_id"] and no["status"] == "cancelled"
    events = (await chat.get(f"/v1/tasks/{asked['task_id']}/events")).json()
    assert [e["to_status"] for e in events] == ["awaiting_confirmation", "queued"]


async def test_read_backs_speak_to_the_person_and_say_the_repeat(chat: httpx.AsyncClient) -> None:
    """The read-back says "your" for the person's "my", and a repeat as the confirmation will."""
    pills = await say(chat, "remind me to take my heart pills every day at 8am")
    assert pills["status"] == "awaiting_confirmation"
    assert pills["task"]["reply"] == "Remind you to take your heart pills every day at 08:00?"
    note = await say(chat, "tell my son I'll be there at five")
    assert note["task"]["reply"] == 'Send your son this message: "I\'ll be there at five"?'


async def test_everyday_reminder_wording_is_read_back_not_asked_again(chat: httpx.AsyncClient) -> None:
    """Someone who says "don't let me miss my pills" has said what; asking it again would be a
    needless second turn for the people this is for."""
    pills = await say(chat, "don't let me miss my pills at lunchtime")
    assert pills["intent"] == "set_reminder" and pills["status"] == "awaiting_confirmation"
    assert pills["task"]["reply"] == "Remind you about your pills today (Mon 23 Nov) at 12:00?"
    tablets = await say(chat, "tell me at five to take my tablets")
    assert tablets["task"]["reply"] == "Remind you to take your tablets today (Mon 23 Nov) at 17:00?"
    assert tablets["task"]["slots"]["medicine"] == "tablets"


async def test_a_long_reminder_is_read_back_cut_at_a_word(chat: httpx.AsyncClient) -> None:
    """What is read from a 4,000-character message must fit its slot; it is read back, not failed."""
    errands = ", ".join(["post the letters and pick up the dry cleaning"] * 40)
    asked = await say(chat, f"remind me to {errands} tomorrow at 10am")
    assert asked["status"] == "awaiting_confirmation", asked
    what = asked["task"]["slots"]["what"]
    assert 400 < len(what) <= 500 and what.startswith("post the letters and pick up")


async def test_confirm_endpoint_queues_once(chat: httpx.AsyncClient) -> None:
    note = await say(chat, "tell my son I'll be there at five")
    assert note["intent"] == "notify_family" and note["status"] == "awaiting_confirmation"
    assert note["task"]["slots"] == {"contact": "my son", "message": "I'll be there at five"}
    confirmed = await chat.post(f"/v1/tasks/{note['task_id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "queued"
    twice = await chat.post(f"/v1/tasks/{note['task_id']}/confirm")
    assert twice.status_code == 409
    late_cancel = await chat.post(f"/v1/tasks/{note['task_id']}/cancel")
    assert late_cancel.status_code in (200, 409)  # queued may still be cancelled; running may not


async def test_undo_goes_to_the_booking_skill_at_once(chat: httpx.AsyncClient) -> None:
    undo = await say(chat, "undo that")
    assert undo["intent"] == "cancel_booking" and undo["status"] == "queued"


async def test_cancel_endpoint_and_others_tasks(chat: httpx.AsyncClient) -> None:
    note = await say(chat, "tell my daughter I'll be late for dinner")
    assert note["intent"] == "notify_family"
    assert note["status"] == "awaiting_confirmation", note["task"]
    cancelled = await chat.post(f"/v1/tasks/{note['task_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    stranger = await new_user(chat)
    for action in ("confirm", "cancel"):
        response = await chat.post(f"/v1/tasks/{note['task_id']}/{action}", headers=stranger)
        assert response.status_code == 404


async def test_a_new_request_supersedes_the_question(chat: httpx.AsyncClient) -> None:
    first = await say(chat, "book a table at Luigi's tomorrow at 7pm")
    assert first["status"] == "needs_input"
    other = await say(chat, "what's the weather like in Stockholm today", first["conversation_id"])
    assert other["task_id"] != first["task_id"] and other["intent"] not in ACTIONS
    old = (await chat.get(f"/v1/tasks/{first['task_id']}")).json()
    assert old["status"] == "cancelled"


@pytest.mark.parametrize(
    "text",
    [
        "does luigi's take reservations",
        "set an alarm for 7 tomorrow",
        "what's the weather like today",
        "call my daughter",
        "hello, how are you?",
        "thanks a lot",
        "add lunch with bob to my calendar on friday",
    ],
)
async def test_non_actions_never_become_actions(chat: httpx.AsyncClient, text: str) -> None:
    said = await say(chat, text)
    assert said["intent"] not in ACTIONS
    assert said["status"] == "queued"
    assert said["task"]["slots"] == {} or said["intent"] == "ask_question"


async def test_reminders_skip_confirmation_when_the_user_says_so(chat: httpx.AsyncClient) -> None:
    asked = await say(chat, "remind me to take my heart pills every morning at 8")
    assert asked["intent"] == "set_reminder" and asked["status"] == "awaiting_confirmation"
    assert asked["task"]["slots"]["recurrence"].startswith("FREQ=DAILY")
    me = await chat.patch("/v1/me", json={"confirm_reminders": False})
    assert me.status_code == 200 and me.json()["confirm_reminders"] is False
    direct = await say(chat, "remind me to take my heart pills every morning at 8")
    assert direct["status"] == "queued"


async def test_follow_up_with_idempotency_key_is_applied_once(chat: httpx.AsyncClient) -> None:
    booking = await say(chat, "remind me to take my insulin tomorrow at 9pm")
    assert booking["status"] == "awaiting_confirmation"
    conv = booking["conversation_id"]
    yes1 = await say(chat, "yes", conv, **{"Idempotency-Key": "yes-1"})
    yes2 = await say(chat, "yes", conv, **{"Idempotency-Key": "yes-1"})
    assert yes1["task_id"] == yes2["task_id"] == booking["task_id"]
    listed = (await chat.get("/v1/tasks")).json()["items"]
    assert len(listed) == 1


async def test_parse_has_no_side_effects_and_is_reproducible(chat: httpx.AsyncClient) -> None:
    body = {"text": "book a table for four at Luigi's tomorrow at seven", "now": "2026-11-23T10:00:00+01:00"}
    first = await chat.post("/v1/parse", json=body)
    second = await chat.post("/v1/parse", json=body)
    assert first.status_code == 200 and first.json() == second.json()
    parsed = first.json()
    assert parsed["intent"] == "book_restaurant" and parsed["parser"] == "local"
    assert parsed["slots"] == {"venue": "Luigi's", "party_size": 4, "start": "2026-11-24T19:00:00+01:00"}
    assert parsed["missing"] == [] and 0 < parsed["confidence"] <= 1
    assert (await chat.get("/v1/tasks")).json()["items"] == []
    bad = await chat.post("/v1/parse", json={"text": "hi", "now": "2026-11-23T10:00:00"})
    assert bad.status_code == 422


@pytest.fixture
async def doubtful_chat(settings: Settings, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    """The real local parser with a threshold no message reaches: every action is in doubt."""
    classifier = IntentClassifier.load()
    classifier.threshold = 2.0  # above any probability, even a rounded 1.0
    doubtful = dataclasses.replace(providers, clock=FixedClock(), parser=LocalIntentParser(classifier))
    app = create_app(settings, doubtful)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            http.headers.update(await new_user(http, timezone="Europe/Stockholm"))
            yield http


async def test_a_doubtful_request_is_asked_about_and_a_yes_carries_it_on(
    doubtful_chat: httpx.AsyncClient,
) -> None:
    """Unsure of "remind me ...", the assistant asks about that one action; the yes makes the first
    message the request, which is read back before anything is set."""
    asked = await say(doubtful_chat, "remind me to call the pharmacy tomorrow at 10am")
    assert asked["intent"] == "none" and asked["status"] == "needs_input"
    assert asked["task"]["reply"] == "Did you want me to set a reminder?"
    conv = asked["conversation_id"]
    yes = await say(doubtful_chat, "yes", conv)
    assert yes["task_id"] != asked["task_id"] and yes["intent"] == "set_reminder"
    assert yes["status"] == "awaiting_confirmation"
    assert yes["task"]["reply"] == "Remind you to call the pharmacy tomorrow (Tue 24 Nov) at 10:00?"
    assert yes["task"]["slots"]["what"] == "call the pharmacy"
    closed = (await doubtful_chat.get(f"/v1/tasks/{asked['task_id']}")).json()
    assert closed["status"] == "cancelled"
    confirmed = await say(doubtful_chat, "yes please", conv)
    assert confirmed["task_id"] == yes["task_id"] and confirmed["status"] == "queued"


async def test_a_doubtful_request_does_nothing_on_a_no_or_something_else(
    doubtful_chat: httpx.AsyncClient,
) -> None:
    asked = await say(doubtful_chat, "cancel my booking at Luigi's tomorrow")
    assert asked["status"] == "needs_input"
    assert asked["task"]["reply"] == "Did you want me to cancel a booking?"
    no = await say(doubtful_chat, "no", asked["conversation_id"])
    assert no["task_id"] == asked["task_id"] and no["status"] == "cancelled"
    assert no["task"]["reply"] == "All right. What would you like me to do?"
    again = await say(doubtful_chat, "tell my son I'll be late")
    other = await say(doubtful_chat, "what's the weather like", again["conversation_id"])
    assert other["task_id"] != again["task_id"] and other["intent"] not in ACTIONS
    items = (await doubtful_chat.get("/v1/tasks")).json()["items"]
    assert {item["intent"] for item in items} <= {"none", "ask_question"}  # no action without a yes


async def test_the_yes_to_a_doubtful_request_is_spoken_once(
    doubtful_chat: httpx.AsyncClient, providers: Providers
) -> None:
    first = {"text": "remind me to water the plants tomorrow at 6pm", "speak": True}
    asked = (await doubtful_chat.post("/v1/messages", json=first)).json()
    yes = {"text": "yes", "conversation_id": asked["conversation_id"], "speak": True}
    carried = (await doubtful_chat.post("/v1/messages", json=yes)).json()
    assert carried["status"] == "awaiting_confirmation"
    for task_id in (asked["task_id"], carried["task_id"]):
        spoken = await count(
            providers,
            "SELECT count(*) FROM tasks WHERE kind = 'speak_reply' AND input->>'for_task' = $1",
            task_id,
        )
        assert spoken == 1


async def test_a_swedish_speaker_hears_questions_and_read_backs_in_swedish(chat: httpx.AsyncClient) -> None:
    """Composed replies (read-backs with their dates) carry their Swedish; the person's setting
    picks it. The person's own words are quoted as they said them."""
    me = await chat.patch("/v1/me", json={"language": "sv"})
    assert me.status_code == 200 and me.json()["language"] == "sv"
    asked = await say(chat, "remind me to call the pharmacy tomorrow at 10am")
    assert asked["status"] == "awaiting_confirmation"
    read_back = "Ska jag påminna dig om att call the pharmacy i morgon (tis 24 nov) kl. 10:00?"
    assert asked["task"]["reply"] == read_back
    missing = await say(chat, "book a table at Luigi's tomorrow at 7pm")
    assert missing["task"]["reply"] == "För hur många personer?"
    yes = await say(chat, "ja", asked["conversation_id"])
    assert yes["status"] == "queued" and yes["task"]["reply"] == "Okej, jag ordnar det."
