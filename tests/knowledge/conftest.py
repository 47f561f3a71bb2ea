"""Knowledge tests: the real model (loaded once per session), real Qdrant local mode in a directory
of each test's own, real PostgreSQL and Redis; only the LLM is a local fake server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.ids import uuid7
from domain.intents import Intent
from domain.knowledge import Embedder
from domain.ports import Doorbell, NewTask
from domain.tasks import Lane
from providers.knowledge import build_embedder
from providers.minilm_embeddings import MiniLMEmbedder
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import Services, make_settings

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "knowledge" / "corpus"


class SharedEmbedder:
    """The session's model behind each test's providers (without `aclose`, so that closing one test's
    providers leaves the model loaded for the next)."""

    dimension = 384

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed(texts)


@pytest.fixture(scope="session")
def minilm() -> Iterator[MiniLMEmbedder]:
    """Built as a worker builds it (`build_embedder`): the ONNX export for questions and, on a CPU
    without bfloat16, for ingest batches too."""
    embedder = build_embedder(Settings())
    embedder.embed_sync(["warm up"])
    yield embedder
    asyncio.run(embedder.aclose())


@pytest.fixture
def settings(services: Services, tmp_path: Path) -> Settings:
    return make_settings(services, data_dir=tmp_path)


@pytest.fixture
async def providers(providers: Providers, minilm: MiniLMEmbedder) -> AsyncIterator[Providers]:
    providers.skill_ports[Embedder] = SharedEmbedder(minilm)
    yield providers


async def wait_task(client: httpx.AsyncClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    """The task once it has finished (succeeded, dead-lettered...), within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = await client.get(f"/v1/tasks/{task_id}", params={"wait": 5}, headers=auth)
        task: dict[str, Any] = response.json()
        if task["status"] in ("succeeded", "dead_lettered", "cancelled"):
            return task
    raise AssertionError(f"task {task_id} did not finish: {task}")


async def upload(
    client: httpx.AsyncClient, auth: dict[str, str], title: str, content: str, **extra: Any
) -> dict[str, Any]:
    """Upload a text document and wait for its ingestion; returns the document."""
    response = await client.post(
        "/v1/knowledge/documents", json={"title": title, "content": content, **extra}, headers=auth
    )
    assert response.status_code in (200, 202), response.text
    body: dict[str, Any] = response.json()
    if body["task_id"]:
        task = await wait_task(client, auth, body["task_id"])
        assert task["status"] == "succeeded", task
    document: dict[str, Any] = (
        await client.get(f"/v1/knowledge/documents/{body['document']['id']}", headers=auth)
    ).json()
    return document


async def ask(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str], question: str
) -> dict[str, Any]:
    """Ask as the person would after the parser labelled the message ask_question: an answer task
    inserted and published like POST /v1/messages does, run by the worker."""
    me = (await client.get("/v1/me", headers=auth)).json()
    skill = providers.registry.for_intent(Intent.ASK_QUESTION)
    task_id = uuid7()
    async with providers.uow() as uow:
        await uow.tasks.insert(
            NewTask(
                id=task_id,
                user_id=uuid.UUID(me["id"]),
                conversation_id=uuid7(),
                kind=skill.name,
                lane=Lane.ANSWER,
                intent=Intent.ASK_QUESTION.value,
                slots={"question": question},
                input={"text": question, "timezone": "UTC"},
                parser="test",
                max_attempts=3,
                idempotency_key=None,
                request_hash=None,
            )
        )
    await providers.streams.publish([Doorbell(task_id, Lane.ANSWER, skill.name)])
    return await wait_task(client, auth, str(task_id))
