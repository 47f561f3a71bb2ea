"""The knowledge index against a Qdrant server (ERRAND_QDRANT_URL): the real qdrant_client over REST
to a local fake server (tests/knowledge/fake_qdrant.py) backed by qdrant-client's own engine."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from qdrant_client.http.models import Distance, PayloadSchemaType

from domain.errors import PermanentError, TransientError
from domain.knowledge import Chunk, org_tenant
from providers.knowledge import knowledge_index
from providers.qdrant_index import QdrantKnowledgeIndex
from providers.settings import Settings
from tests.knowledge.fake_qdrant import FakeQdrant, fake_qdrant

# The index may be given a key over plain HTTP (a private network); the client warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection:UserWarning")

CLINIC, BAKERY = org_tenant("riverside"), org_tenant("bakery")
CLINIC_KB = "errandtest_kb_org_riverside"
CHUNKS = [
    Chunk(0, "FAQ > Hours", "Open 8 to 6 on weekdays."),
    Chunk(1, "FAQ > Parking", "Ten free parking spaces."),
    Chunk(2, "FAQ > Pets", "Guide dogs are welcome."),
]
VECTORS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.fixture
def fake() -> Iterator[FakeQdrant]:
    with fake_qdrant(api_key="secret") as server:
        yield server
        assert server.failures == []


@pytest.fixture
async def index(fake: FakeQdrant) -> AsyncIterator[QdrantKnowledgeIndex]:
    index = QdrantKnowledgeIndex(url=fake.url, api_key="secret", prefix="errandtest", dimension=3)
    yield index
    await index.aclose()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


async def test_replace_creates_a_collection_with_a_keyword_index_and_search_ranks_its_chunks(
    fake: FakeQdrant, index: QdrantKnowledgeIndex
) -> None:
    doc = uuid.uuid4()
    await index.replace(CLINIC, doc, 1, "Clinic FAQ", CHUNKS, VECTORS)
    query = [0.2, 0.9, 0.1]
    found = await index.search([CLINIC], query, limit=2)

    assert fake.calls() == [
        ("GET", f"/collections/{CLINIC_KB}/exists"),
        ("PUT", f"/collections/{CLINIC_KB}"),
        ("PUT", f"/collections/{CLINIC_KB}/index"),
        ("PUT", f"/collections/{CLINIC_KB}/points"),  # version 1: no stale chunks to delete
        ("POST", f"/collections/{CLINIC_KB}/points/query"),  # the collection is known by now
    ]
    upsert = next(r for r in fake.requests if r.path.endswith("/points"))
    assert upsert.query["wait"] == "true"
    params = fake.engine.get_collection(CLINIC_KB).config.params.vectors
    assert params.size == 3 and params.distance == Distance.DOT  # type: ignore[union-attr]
    assert fake.payload_indexes == {CLINIC_KB: {"document_id": PayloadSchemaType.KEYWORD}}
    assert [(p.chunk, p.heading, p.text) for p in found] == [
        (1, "FAQ > Parking", "Ten free parking spaces."),
        (0, "FAQ > Hours", "Open 8 to 6 on weekdays."),
    ]
    assert all(p.document_id == doc and p.title == "Clinic FAQ" for p in found)
    assert [p.score for p in found] == pytest.approx([cosine(query, VECTORS[1]), cosine(query, VECTORS[0])])


async def test_a_new_version_leaves_only_its_own_chunks_and_remove_drops_them(
    fake: FakeQdrant, index: QdrantKnowledgeIndex
) -> None:
    doc, other = uuid.uuid4(), uuid.uuid4()
    await index.replace(CLINIC, doc, 1, "Clinic FAQ", CHUNKS, VECTORS)
    await index.replace(CLINIC, other, 1, "Visitors", [Chunk(0, "", "Visiting is 2 to 4.")], [[1, 1, 1]])
    shorter = [Chunk(0, "FAQ > Hours", "Open 9 to 5."), Chunk(1, "FAQ > Parking", "Six spaces.")]
    await index.replace(CLINIC, doc, 2, "Clinic FAQ", shorter, VECTORS[:2])
    after_update = await index.search([CLINIC], [1.0, 1.0, 1.0], limit=10)
    await index.remove(CLINIC, doc)
    after_remove = await index.search([CLINIC], [1.0, 1.0, 1.0], limit=10)
    await index.remove(BAKERY, doc)  # no collection: nothing to delete, no error

    assert sorted(p.text for p in after_update if p.document_id == doc) == ["Open 9 to 5.", "Six spaces."]
    assert [p.text for p in after_update if p.document_id == other] == ["Visiting is 2 to 4."]
    assert [p.document_id for p in after_remove] == [other]
    deletes = [r for r in fake.requests if r.path.endswith("/points/delete")]
    assert len(deletes) == 2 and all(r.query["wait"] == "true" for r in deletes)
    assert fake.calls()[-1] == ("GET", "/collections/errandtest_kb_org_bakery/exists")


async def test_a_search_reads_only_the_collections_of_its_tenants(
    fake: FakeQdrant, index: QdrantKnowledgeIndex
) -> None:
    clinic_doc, bakery_doc = uuid.uuid4(), uuid.uuid4()
    await index.replace(CLINIC, clinic_doc, 1, "Clinic FAQ", CHUNKS[:1], VECTORS[:1])
    bread = [Chunk(0, "", "Bake 40 minutes.")]
    await index.replace(BAKERY, bakery_doc, 1, "Soda bread", bread, [[0.9, 0.1, 0.0]])

    clinic_only = await index.search([CLINIC], [1.0, 0.0, 0.0], limit=5)
    bakery_only = await index.search([BAKERY], [1.0, 0.0, 0.0], limit=5)
    both = await index.search([BAKERY, CLINIC], [1.0, 0.0, 0.0], limit=5)
    nobody = await index.search([org_tenant("empty")], [1.0, 0.0, 0.0], limit=5)

    assert [p.document_id for p in clinic_only] == [clinic_doc]
    assert [p.document_id for p in bakery_only] == [bakery_doc]
    assert [p.document_id for p in both] == [clinic_doc, bakery_doc]  # merged, best first
    assert nobody == []
    assert {r.path for r in fake.requests if r.path.endswith("/query")} == {
        f"/collections/{CLINIC_KB}/points/query",
        "/collections/errandtest_kb_org_bakery/points/query",
    }


async def test_every_request_carries_the_key_and_a_refused_key_is_a_permanent_error(
    fake: FakeQdrant, index: QdrantKnowledgeIndex
) -> None:
    await index.replace(CLINIC, uuid.uuid4(), 1, "Clinic FAQ", CHUNKS, VECTORS)
    await index.search([CLINIC], VECTORS[0], limit=1)
    assert fake.requests and all(r.headers.get("api-key") == "secret" for r in fake.requests)

    refused: list[BaseException | None] = []
    for key in ("wrong", None):
        other = QdrantKnowledgeIndex(url=fake.url, api_key=key, prefix="errandtest", dimension=3)
        try:
            with pytest.raises(PermanentError) as raised:
                await other.search([CLINIC], VECTORS[0], limit=1)
        finally:
            await other.aclose()
        refused.append(raised.value.__cause__)
    # No retry can fix a refused key: the task fails at once with a reason instead of backing off.
    assert all(isinstance(c, UnexpectedResponse) and c.status_code == 401 for c in refused)


async def test_an_unreachable_server_is_a_transient_error() -> None:
    with fake_qdrant() as fake:
        index = QdrantKnowledgeIndex(url=fake.url, api_key="secret", prefix="errandtest", dimension=3)
        await index.replace(CLINIC, uuid.uuid4(), 1, "Clinic FAQ", CHUNKS, VECTORS)
    try:  # the server is gone: connections are refused
        for call in (
            index.search([CLINIC], VECTORS[0], limit=1),
            index.replace(BAKERY, uuid.uuid4(), 1, "Soda bread", CHUNKS[:1], VECTORS[:1]),
        ):
            with pytest.raises(TransientError) as raised:
                await call
            assert isinstance(raised.value.__cause__, ResponseHandlingException)
    finally:
        await index.aclose()


async def test_settings_with_a_qdrant_url_build_an_index_on_that_server(
    fake: FakeQdrant, tmp_path: Path
) -> None:
    settings = Settings(
        qdrant_url=fake.url,
        qdrant_api_key="secret",  # type: ignore[arg-type]
        qdrant_collection_prefix="errandtest",
        data_dir=tmp_path,
    )
    index = knowledge_index(settings)
    try:
        vector = [1.0] + [0.0] * 383
        await index.replace(CLINIC, uuid.uuid4(), 1, "Clinic FAQ", CHUNKS[:1], [vector])
        found = await index.search([CLINIC], vector, limit=1)
    finally:
        await index.aclose()
    assert [p.text for p in found] == [CHUNKS[0].text]
    assert fake.engine.get_collection(CLINIC_KB).config.params.vectors.size == 384  # type: ignore[union-attr]
    assert all(r.headers.get("api-key") == "secret" for r in fake.requests)
    assert not (tmp_path / "qdrant").exists()  # nothing in local mode


async def test_a_collection_deleted_on_the_server_is_created_again_on_the_retry(
    fake: FakeQdrant, index: QdrantKnowledgeIndex
) -> None:
    await index.replace(CLINIC, uuid.uuid4(), 1, "Clinic FAQ", CHUNKS, VECTORS)
    with fake.lock:
        fake.engine.delete_collection(CLINIC_KB)
    document = uuid.uuid4()
    with pytest.raises(TransientError):
        await index.replace(CLINIC, document, 1, "Clinic FAQ", CHUNKS, VECTORS)
    assert [f for f in fake.failures if "404" in f or "exist" in f], fake.failures
    fake.failures.clear()  # the 404 was this test's point

    await index.replace(CLINIC, document, 1, "Clinic FAQ", CHUNKS, VECTORS)  # the task's retry
    found = await index.search([CLINIC], VECTORS[0], limit=5)
    assert {p.document_id for p in found} == {document}
