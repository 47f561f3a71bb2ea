"""Grounded answers: the real openai client against a local fake server; the rest is real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.knowledge_services import DONT_KNOW
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import Services, make_settings, running_worker
from tests.knowledge.conftest import ask, upload
from tests.knowledge.test_answers import CLINIC_FAQ
from tests.providers.fake_openai import FakeOpenAI, Reply, fake_openai, tool_reply


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as server:
        yield server


@pytest.fixture
def settings(services: Services, tmp_path: Path, fake: FakeOpenAI) -> Settings:
    return make_settings(services, data_dir=tmp_path, llm_base_url=fake.base_url, llm_timeout_seconds=2)


async def test_the_llm_answers_from_the_passages_and_cites_them(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str], fake: FakeOpenAI
) -> None:
    written = "On Saturdays the nurse's desk is open from 9 am to noon [1]."
    fake.script(tool_reply({"known": True, "answer": written, "cited": [1]}))
    async with running_worker(providers):
        doc = await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        task = await ask(client, providers, auth, "When is the clinic open on Saturday?")
    assert task["reply"] == written
    assert task["result"]["mode"] == "llm"
    assert [(s["document_id"], s["heading"]) for s in task["result"]["sources"]] == [
        (doc["id"], "Riverside Clinic FAQ > Opening hours")
    ]
    [request] = fake.requests
    system, user = request["messages"]
    assert user == {"role": "user", "content": "When is the clinic open on Saturday?"}
    assert "[1] Riverside Clinic FAQ > Opening hours\n" in system["content"]
    assert "9 am to noon" in system["content"]
    assert request["tool_choice"]["function"]["name"] == "record_answer"


async def test_when_the_passages_do_not_say_the_llm_answer_is_i_dont_know(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str], fake: FakeOpenAI
) -> None:
    fake.script(tool_reply({"known": False, "answer": "I don't know.", "cited": []}))
    async with running_worker(providers):
        await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        task = await ask(client, providers, auth, "Is the clinic open late on Thursdays for blood tests?")
    assert task["reply"] == DONT_KNOW
    assert task["result"] == {"kind": "answer", "mode": "llm", "sources": []}


async def test_an_llm_that_fails_leaves_the_passages_as_the_answer(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str], fake: FakeOpenAI
) -> None:
    fake.script(*[Reply(status=503, raw=b'{"error": "overloaded"}')] * 3)
    async with running_worker(providers):
        await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        task = await ask(client, providers, auth, "How do I get a repeat prescription?")
    assert task["status"] == "succeeded"
    assert task["result"]["mode"] == "extractive"
    assert "three working days" in task["reply"]
    assert task["result"]["sources"][0]["heading"] == "Riverside Clinic FAQ > Repeat prescriptions"
    assert len(fake.requests) == 3  # tenacity's attempts, then the fallback
