"""Uploads: files as multipart (PDF, HTML), and bad input answered with problem+json 4xx."""

from __future__ import annotations

import httpx

from providers.wiring import Providers
from tests.conftest import new_user, running_worker
from tests.knowledge.conftest import CORPUS, ask, wait_task
from tests.knowledge.pdf import tiny_pdf


async def test_pdf_and_html_files_are_ingested_and_answered_from(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    pdf = tiny_pdf(["Fasting blood tests", "Blood tests are taken on Tuesday mornings between 8 and 10."])
    async with running_worker(providers):
        sent = await client.post(
            "/v1/knowledge/documents",
            files={"file": ("blood-tests.pdf", pdf, "application/pdf")},
            data={"title": "Blood tests"},
            headers=auth,
        )
        assert sent.status_code == 202, sent.text
        assert (await wait_task(client, auth, sent.json()["task_id"]))["status"] == "succeeded"
        html = (CORPUS / "clinic_faq.html").read_bytes()
        page = await client.post(
            "/v1/knowledge/documents", files={"file": ("clinic_faq.html", html, "text/html")}, headers=auth
        )
        assert (await wait_task(client, auth, page.json()["task_id"]))["status"] == "succeeded"
        pdf_answer = await ask(client, providers, auth, "Which day are blood tests taken?")
        html_answer = await ask(client, providers, auth, "Can the doctor visit me at home?")
    assert sent.json()["document"]["media_type"] == "application/pdf"
    assert "Tuesday mornings" in pdf_answer["reply"]
    assert pdf_answer["result"]["sources"][0]["title"] == "Blood tests"
    assert "housebound" in html_answer["reply"]
    assert html_answer["result"]["sources"][0]["heading"].endswith("Can I get a home visit?")


async def test_a_broken_pdf_fails_its_task_and_the_document_says_why(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str]
) -> None:
    async with running_worker(providers):
        sent = await client.post(
            "/v1/knowledge/documents",
            files={"file": ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf")},
            headers=auth,
        )
        task = await wait_task(client, auth, sent.json()["task_id"])
    document = (
        await client.get(f"/v1/knowledge/documents/{sent.json()['document']['id']}", headers=auth)
    ).json()
    assert task["status"] == "dead_lettered"
    assert document["status"] == "failed" and "PDF could not be read" in document["error"]


async def test_bad_uploads_get_problem_details_not_500s(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    url = "/v1/knowledge/documents"
    cases = [
        (await client.post(url, content=b"hello", headers={**auth, "content-type": "text/plain"}), 415),
        (await client.post(url, json={"title": "x"}, headers=auth), 422),
        (await client.post(url, json={"title": "x", "content": "   "}, headers=auth), 422),
        (await client.post(url, json={"title": "x", "content": "y", "org": "Not A Slug"}, headers=auth), 422),
        (
            await client.post(
                url, content=b"{not json", headers={**auth, "content-type": "application/json"}
            ),
            422,
        ),
        (await client.post(url, files={"file": ("s.pptx", b"xx", "application/x-ppt")}, headers=auth), 422),
        (
            await client.post(url, data={"title": "no file"}, files={"other": ("a.md", b"x")}, headers=auth),
            422,
        ),
        (await client.post(url, json={"title": "x", "content": "y" * 70_000}, headers=auth), 413),
        (await client.post(url, json={"title": "x", "content": "y"}), 401),
        (await client.get(f"{url}/00000000-0000-0000-0000-000000000000", headers=auth), 404),
        (await client.delete(f"{url}/00000000-0000-0000-0000-000000000000", headers=auth), 404),
        (await client.get(url, params={"cursor": "!!"}, headers=auth), 422),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_documents_are_listed_newest_first_in_pages(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for n in range(3):
        sent = await client.post(
            "/v1/knowledge/documents", json={"title": f"Note {n}", "content": "x."}, headers=auth
        )
        assert sent.status_code == 202
    first = (await client.get("/v1/knowledge/documents", params={"limit": 2}, headers=auth)).json()
    rest = (
        await client.get(
            "/v1/knowledge/documents", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
        )
    ).json()
    assert [d["title"] for d in first["items"] + rest["items"]] == ["Note 2", "Note 1", "Note 0"]
    assert rest["next_cursor"] is None
    other = await new_user(client)
    assert (await client.get("/v1/knowledge/documents", headers=other)).json()["items"] == []
