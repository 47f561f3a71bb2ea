"""Replies to messages that need no action: small talk, and questions answered from the person's
knowledge bases (domain.skills.knowledge).

Replies are short and plain and never blame the person.
"""

from __future__ import annotations

import re

from domain.conversation import UNSUPPORTED_REPLY, UNSURE_REPLY
from domain.intents import Intent
from domain.skills import Skill, SkillContext
from domain.skills.knowledge import answer as knowledge_answer
from domain.skills.knowledge import knowledge_wired
from domain.tasks import Lane, Outcome, RetryPolicy, Task

# Swedish greetings and thanks too: the reply is put in the person's language afterwards
# (domain.skills.speech.finish_reply).
_GREETING = re.compile(r"^\s*(hi|hello|hey|hej|hallå|good (morning|afternoon|evening))\b", re.IGNORECASE)
_THANKS = re.compile(r"\b(thanks|thank you|tack)\b", re.IGNORECASE)


def small_talk_reply(text: str) -> str:
    if _GREETING.search(text):
        return "Hello! How can I help you today?"
    if _THANKS.search(text):
        return "You're welcome."
    return "I'm here. I can't do that yet, but you can ask me again any time."


async def answer(task: Task, ctx: SkillContext) -> Outcome:
    text = str(task.input.get("text", ""))
    if task.input.get("unsupported"):
        reply = UNSUPPORTED_REPLY
    elif task.input.get("unsure"):
        reply = UNSURE_REPLY
    elif task.intent == Intent.ASK_QUESTION and knowledge_wired(ctx):
        found = await knowledge_answer(task, ctx)
        sources = [p.source() for p in found.sources]
        return Outcome.succeeded(
            reply=found.reply, result={"kind": "answer", "mode": found.mode, "sources": sources}
        )
    elif task.intent == Intent.ASK_QUESTION:
        reply = "I don't know the answer to that yet."
    elif task.intent == Intent.NONE:
        reply = small_talk_reply(text)
    else:
        reply = "I can't do that yet."
    return Outcome.succeeded(reply=reply, result={"kind": "reply"})


ANSWER = Skill(
    name="answer",
    lane=Lane.ANSWER,
    handler=answer,
    retry=RetryPolicy(max_attempts=3, base_seconds=0.5, cap_seconds=10.0),
    timeout_seconds=20.0,
)


SKILLS = [ANSWER]
ROUTES: dict[str, str] = {Intent.NONE: ANSWER.name, Intent.ASK_QUESTION: ANSWER.name}
