"""Documents in, answers out: upload, ingest on the answer lane, answer with sources, replace,
delete, and tenants that never see each other's documents."""

from __future__ import annotations

import uuid

import httpx

from domain.knowledge import Embedder, KnowledgeIndex, KnowledgeRepositories
from domain.knowledge_services import (
    DONT_KNOW,
    NO_DOCUMENTS,
    STILL_READING,
    AnswerPorts,
    KnowledgeAnswer,
    answer_question,
)
from domain.skills import SkillContext
from domain.skills.knowledge import warm_up
from providers.qdrant_index import QdrantKnowledgeIndex
from providers.wiring import Providers
from tests.conftest import ADMIN_TOKEN, new_user, running_worker
from tests.knowledge.conftest import ask, upload, wait_task

CLINIC_FAQ = """# Riverside Clinic FAQ

## Opening hours
The clinic is open Monday to Friday from 8 am to 5 pm. On Saturdays the nurse's desk is open
from 9 am to noon. We are closed on Sundays and public holidays.

## Repeat prescriptions
Ask for a repeat prescription at least three working days before your medicine runs out.
You can ask at the front desk, by phone, or through the patient app.

## Parking
There are six free parking spaces for disabled visitors next to the main entrance.
"""

BREAD = """# Simple soda bread

## Ingredients
You need 500 g of plain flour, one teaspoon of bicarbonate of soda, one teaspoon of salt and
400 ml of buttermilk.

## Baking
Bake the loaf at 200 degrees Celsius for about 40 minutes, until it sounds hollow when tapped.
"""


async def test_a_question_is_answered_from_the_document_with_its_sources(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    async with running_worker(providers):
        doc = await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        assert doc["status"] == "ready" and doc["chunks"] >= 3
        task = await ask(client, providers, auth, "When is the clinic open on Saturday?")
    assert task["status"] == "succeeded"
    assert "9 am to noon" in task["reply"]
    assert task["result"]["mode"] == "extractive"
    best = task["result"]["sources"][0]
    assert best["document_id"] == doc["id"]
    assert best["title"] == "Riverside Clinic FAQ"
    assert best["heading"] == "Riverside Clinic FAQ > Opening hours"
    assert best["score"] > 0.5


async def test_a_question_the_documents_do_not_answer_gets_i_dont_know(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    async with running_worker(providers):
        nothing_yet = await ask(client, providers, auth, "How do I reset my router?")
        await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        task = await ask(client, providers, auth, "Who won the football world cup in 1966?")
    assert nothing_yet["reply"] == NO_DOCUMENTS
    assert task["reply"] == DONT_KNOW
    assert task["result"] == {"kind": "answer", "mode": "none", "sources": []}


async def test_a_question_while_the_first_document_is_read_says_so_then_is_answered(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    """A fresh answer worker takes seconds to load its model before the first document is
    searchable; a question meanwhile hears that, not that nothing was added."""
    posted = await client.post(
        "/v1/knowledge/documents", json={"title": "Riverside Clinic FAQ", "content": CLINIC_FAQ}, headers=auth
    )
    assert posted.status_code == 202, posted.text  # no worker yet: the document waits to be read
    question = "When is the clinic open on Saturday?"
    early = await answer_now(providers, client, auth, question)
    assert early.reply == STILL_READING and early.sources == []
    async with running_worker(providers):
        await wait_task(client, auth, posted.json()["task_id"])
        later = await ask(client, providers, auth, question)
    assert "9 am to noon" in later["reply"]


async def answer_now(
    providers: Providers, client: httpx.AsyncClient, auth: dict[str, str], question: str
) -> KnowledgeAnswer:
    """The answer service itself, as the answer skill calls it (no worker involved)."""
    me = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    ports = AnswerPorts(
        embedder=providers.skill_ports[Embedder],  # type: ignore[arg-type]
        index=providers.skill_ports[KnowledgeIndex],  # type: ignore[arg-type]
    )
    repositories: KnowledgeRepositories = providers.skill_ports[KnowledgeRepositories]  # type: ignore[assignment]
    async with providers.uow() as uow:
        return await answer_question(me, question, documents=repositories(uow), ports=ports)


async def test_reingesting_a_changed_document_replaces_its_chunks(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    changed = CLINIC_FAQ.replace("six free parking spaces", "ten free parking spaces")
    async with running_worker(providers):
        first = await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        again = await client.post(
            "/v1/knowledge/documents",
            json={"title": "Riverside Clinic FAQ", "content": CLINIC_FAQ},
            headers=auth,
        )
        second = await upload(client, auth, "Riverside Clinic FAQ", changed)
        task = await ask(client, providers, auth, "How many parking spaces are there for disabled visitors?")
    assert again.status_code == 200 and again.json()["task_id"] is None  # identical: nothing to index
    assert second["id"] == first["id"] and second["version"] == first["version"] + 1
    assert "ten free parking spaces" in task["reply"] and "six" not in task["reply"]
    index = providers.skill_ports[KnowledgeIndex]
    assert isinstance(index, QdrantKnowledgeIndex)
    assert await _points(index, first["owner"]) == second["chunks"]


async def test_deleting_a_document_removes_its_chunks(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    async with running_worker(providers):
        doc = await upload(client, auth, "Soda bread", BREAD)
        await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ)
        deleted = await client.delete(f"/v1/knowledge/documents/{doc['id']}", headers=auth)
        assert deleted.status_code == 202
        assert (await wait_task(client, auth, deleted.json()["task_id"]))["status"] == "succeeded"
        task = await ask(client, providers, auth, "How long do I bake the soda bread?")
    assert (await client.get(f"/v1/knowledge/documents/{doc['id']}", headers=auth)).status_code == 404
    assert all(s["document_id"] != doc["id"] for s in task["result"]["sources"])
    index = providers.skill_ports[KnowledgeIndex]
    assert isinstance(index, QdrantKnowledgeIndex)
    listed = (await client.get("/v1/knowledge/documents", headers=auth)).json()["items"]
    assert [d["title"] for d in listed] == ["Riverside Clinic FAQ"]
    assert await _points(index, doc["owner"]) == listed[0]["chunks"]


async def test_tenants_never_see_each_others_documents_and_members_read_their_organisation(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    other = await new_user(client)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    editor_id = (await client.get("/v1/me", headers=auth)).json()["id"]
    reader_id = (await client.get("/v1/me", headers=other)).json()["id"]
    async with running_worker(providers):
        mine = await upload(client, auth, "Soda bread", BREAD)
        refused = await client.post(
            "/v1/knowledge/documents",
            json={"title": "FAQ", "content": CLINIC_FAQ, "org": "riverside"},
            headers=auth,
        )
        assert refused.status_code == 404  # not an editor of that organisation (yet)
        stranger = await ask(client, providers, other, "How long do I bake the soda bread?")
        for user_id, role in ((editor_id, "editor"), (reader_id, "reader")):
            put = await client.put(
                f"/v1/admin/knowledge/orgs/riverside/members/{user_id}", json={"role": role}, headers=admin
            )
            assert put.status_code == 204, put.text
        clinic = await upload(client, auth, "Riverside Clinic FAQ", CLINIC_FAQ, org="riverside")
        member = await ask(client, providers, other, "When is the clinic open on Saturday?")
        forbidden = await client.delete(f"/v1/knowledge/documents/{clinic['id']}", headers=other)
    assert stranger["reply"] == NO_DOCUMENTS
    assert (await client.get(f"/v1/knowledge/documents/{mine['id']}", headers=other)).status_code == 404
    assert clinic["owner"] == "org:riverside"
    assert member["result"]["sources"][0]["document_id"] == clinic["id"]
    assert all(s["document_id"] != mine["id"] for s in member["result"]["sources"])
    assert forbidden.status_code == 404  # a reader may not delete


async def _points(index: QdrantKnowledgeIndex, tenant: str) -> int:
    def count() -> int:
        client = index._open()
        return client.count(index.collection(tenant), exact=True).count

    return await index._run(count)


async def test_an_answer_worker_loads_its_model_early_once_there_are_documents(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    ctx = SkillContext("w-test", providers.uow, providers.clock, providers.skill_ports)
    async with running_worker(providers):
        await upload(client, auth, "Soda bread", BREAD)
    assert await warm_up(ctx) is True
    bare = SkillContext("w-test", providers.uow, providers.clock, {})
    assert await warm_up(bare) is False  # no knowledge wired: nothing to load
