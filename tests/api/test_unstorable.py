"""Values PostgreSQL cannot store (NUL characters, lone surrogates, numbers out of range) are the
client's bad input: a 422 problem, never a 500, and nothing is stored."""

from __future__ import annotations

import httpx

ADMIN = {"Authorization": "Bearer test-admin-token"}


async def test_nul_and_lone_surrogates_are_422_and_change_nothing(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    bodies = [
        b'{"text": "hello\\u0000there"}',
        b'{"text": "hello \\ud832 there"}',
    ]
    for body in bodies:
        response = await client.post(
            "/v1/messages", content=body, headers={**auth, "content-type": "application/json"}
        )
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/tasks", headers=auth)).json()["items"] == []
    contact = b'{"name": "An\\u0000na", "webhook_url": "https://example.com/hook"}'
    response = await client.post(
        "/v1/contacts", content=contact, headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert (await client.get("/v1/contacts", headers=auth)).json() in ([], {"items": []})


async def test_a_venue_with_a_nul_in_its_name_is_refused(client: httpx.AsyncClient) -> None:
    venue = {
        "name": "Lu\u0000igi",
        "kind": "restaurant",
        "resources": [{"name": "t1", "capacity": 4}],
    }
    response = await client.post("/v1/admin/venues", json=venue, headers=ADMIN)
    assert response.status_code == 422, response.text


async def test_an_id_that_names_nothing_is_422_not_500(client: httpx.AsyncClient) -> None:
    venue = {
        "name": "Nobody's Bistro",
        "kind": "restaurant",
        "owner_user_id": "00000000-0000-0000-0000-000000000001",
        "resources": [{"name": "t1", "capacity": 4}],
    }
    response = await client.post("/v1/admin/venues", json=venue, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert "does not exist" in response.json()["detail"]


async def test_a_malformed_multipart_body_is_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    fields = {f"f{n}": "x" for n in range(20)}
    response = await client.post(
        "/v1/knowledge/documents", data=fields, files={"file": ("a.txt", b"hi")}, headers=auth
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
