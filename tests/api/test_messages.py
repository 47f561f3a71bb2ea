"""POST /v1/messages and task reads: contract, idempotency, isolation, bad input."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import new_user


async def post(
    client: httpx.AsyncClient, auth: dict[str, str], body: object, **headers: str
) -> httpx.Response:
    return await client.post("/v1/messages", json=body, headers={**auth, **headers})


async def test_message_is_accepted_as_a_queued_task(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await post(client, auth, {"text": "hello there"})
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"task_id", "conversation_id", "status", "intent", "status_url"}
    assert body["status"] == "queued" and body["intent"] == "none"
    task = (await client.get(body["status_url"], headers=auth)).json()
    assert task["id"] == body["task_id"] and task["conversation_id"] == body["conversation_id"]
    assert set(task) == {
        "id",
        "conversation_id",
        "intent",
        "slots",
        "status",
        "reply",
        "result",
        "error",
        "attempts",
        "created_at",
        "updated_at",
    }
    events = (await client.get(f"{body['status_url']}/events", headers=auth)).json()
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in events] == [(None, "queued", "accepted")]


async def test_conversation_continues_with_its_id(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = (await post(client, auth, {"text": "hi"})).json()
    second = await post(client, auth, {"text": "and again", "conversation_id": first["conversation_id"]})
    assert second.status_code == 202 and second.json()["conversation_id"] == first["conversation_id"]


async def test_idempotency_key_replays_and_conflicts(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = await post(client, auth, {"text": "remind me"}, **{"Idempotency-Key": "k-1"})
    again = await post(client, auth, {"text": "remind me"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await post(client, auth, {"text": "something else"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    listed = (await client.get("/v1/tasks", headers=auth)).json()["items"]
    assert len([t for t in listed if t["id"] == first.json()["task_id"]]) == 1
    assert len(listed) == 1


async def test_idempotency_keys_are_per_user(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    other = await new_user(client)
    mine = await post(client, auth, {"text": "hi"}, **{"Idempotency-Key": "same"})
    theirs = await post(client, other, {"text": "hi"}, **{"Idempotency-Key": "same"})
    assert theirs.status_code == 202 and theirs.json()["task_id"] != mine.json()["task_id"]


async def test_other_users_tasks_and_conversations_are_not_found(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    mine = (await post(client, auth, {"text": "hi"})).json()
    other = await new_user(client)
    assert (await client.get(mine["status_url"], headers=other)).status_code == 404
    assert (await client.get(f"{mine['status_url']}/events", headers=other)).status_code == 404
    assert (await client.get(mine["status_url"] + "?wait=1", headers=other)).status_code == 404
    hijack = await post(client, other, {"text": "hi", "conversation_id": mine["conversation_id"]})
    assert hijack.status_code == 404
    assert (await client.get("/v1/tasks", headers=other)).json()["items"] == []
    missing = await client.get(f"/v1/tasks/{uuid.uuid4()}", headers=auth)
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"


async def test_list_pages_and_filters(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    ids = [(await post(client, auth, {"text": f"hello {n}"})).json()["task_id"] for n in range(5)]
    page1 = (await client.get("/v1/tasks?limit=2", headers=auth)).json()
    page2 = (await client.get(f"/v1/tasks?limit=2&cursor={page1['next_cursor']}", headers=auth)).json()
    page3 = (await client.get(f"/v1/tasks?limit=2&cursor={page2['next_cursor']}", headers=auth)).json()
    seen = [t["id"] for t in page1["items"] + page2["items"] + page3["items"]]
    assert seen == list(reversed(ids)) and page3["next_cursor"] is None
    queued = (await client.get("/v1/tasks?status=queued", headers=auth)).json()["items"]
    assert len(queued) == 5
    assert (await client.get("/v1/tasks?status=succeeded", headers=auth)).json()["items"] == []


async def test_auth_is_required(client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ):
        response = await client.post("/v1/messages", json={"text": "hi"}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get(f"/v1/tasks/{uuid.uuid4()}")).status_code == 401


async def test_user_creation_needs_the_admin_token(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.post("/v1/users", json={})).status_code == 401
    assert (await client.post("/v1/users", json={}, headers=auth)).status_code == 401
    bad_zone = await client.post(
        "/v1/users", json={"timezone": "Mars/Base"}, headers={"Authorization": "Bearer test-admin-token"}
    )
    assert bad_zone.status_code == 422 and "time zone" in bad_zone.json()["detail"]


async def test_bad_bodies_get_problem_details(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    cases: list[tuple[dict[str, object], int]] = [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"json": {}}, 422),
        ({"json": {"text": ""}}, 422),
        ({"json": {"text": 42}}, 422),
        ({"json": {"text": "hi", "extra": 1}}, 422),
        ({"json": {"text": "hi", "conversation_id": "not-a-uuid"}}, 422),
        ({"json": {"text": "hi", "timezone": "Nowhere/Land"}}, 422),
        ({"json": ["text"]}, 422),
        ({"json": {"text": "x" * 4001}}, 422),
        ({"content": b"text=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
        ({"content": b'{"text": "hi"}', "headers": {"content-type": "text/plain"}}, 415),
        ({"json": {"text": "x" * 70_000}}, 413),
    ]
    for kwargs, status in cases:
        headers = {**auth, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        response = await client.post("/v1/messages", headers=headers, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, (kwargs, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    assert (await client.get("/v1/tasks", headers=auth)).json()["items"] == []


async def test_chunked_oversized_body_is_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 8192

    response = await client.post(
        "/v1/messages", content=chunks(), headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_bad_query_parameters(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    task = (await post(client, auth, {"text": "hi"})).json()
    for url in (
        f"{task['status_url']}?wait=31",
        f"{task['status_url']}?wait=-1",
        "/v1/tasks/not-a-uuid",
        "/v1/tasks?limit=0",
        "/v1/tasks?limit=1000",
        "/v1/tasks?status=bogus",
        "/v1/tasks?cursor=%%%",
    ):
        response = await client.get(url, headers=auth)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
