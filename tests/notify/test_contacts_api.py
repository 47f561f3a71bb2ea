"""The contacts API: add, list, change, remove, rotate; secrets shown once; others' contacts are
404; bad input is a 4xx problem; webhook URLs that reach private addresses are refused (422)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Services, new_user
from tests.notify.conftest import api_client, notify_settings
from tests.notify.helpers import add_contact

HOOK = "http://127.0.0.1:9/hooks/errand"


async def test_a_contact_is_created_with_its_secret_shown_once(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await add_contact(client, auth, HOOK, relation="Mum", consents=("messages", "escalations"))
    assert created["secret"].startswith("whsec_")
    assert created["relation"] == "mother"
    assert created["consents"] == {"messages": True, "escalations": True, "bookings": False}
    listed = (await client.get("/v1/contacts", headers=auth)).json()
    assert [c["id"] for c in listed] == [created["id"]]
    one = (await client.get(f"/v1/contacts/{created['id']}", headers=auth)).json()
    for shown in (listed[0], one):
        assert "secret" not in shown and created["secret"] not in str(shown)


async def test_a_secret_of_ones_own_is_kept_and_a_malformed_one_refused(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    mine = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = {"name": "Tom", "webhook_url": HOOK, "secret": mine}
    created = await client.post("/v1/contacts", json=body, headers=auth)
    assert created.status_code == 201 and created.json()["secret"] == mine
    bad = await client.post("/v1/contacts", json=body | {"secret": "hunter2"}, headers=auth)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_consents_change_one_topic_at_a_time(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await add_contact(client, auth, HOOK, consents=("messages",))
    path = f"/v1/contacts/{created['id']}"
    patched = await client.patch(path, json={"consents": {"bookings": True}, "name": "Anna S"}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["consents"] == {"messages": True, "escalations": False, "bookings": True}
    assert patched.json()["name"] == "Anna S"
    cleared = await client.patch(path, json={"consents": {"messages": False}, "relation": ""}, headers=auth)
    assert cleared.json()["consents"]["messages"] is False and cleared.json()["relation"] is None


async def test_rotation_returns_a_new_secret_once(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await add_contact(client, auth, HOOK)
    rotated = await client.post(f"/v1/contacts/{created['id']}/rotate-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_valid_until"]
    again = (await client.get(f"/v1/contacts/{created['id']}", headers=auth)).text
    assert rotated.json()["secret"] not in again


async def test_other_users_contacts_are_not_found(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await add_contact(client, auth, HOOK)
    other = await new_user(client)
    path = f"/v1/contacts/{created['id']}"
    attempts = [
        await client.get(path, headers=other),
        await client.patch(path, json={"name": "x"}, headers=other),
        await client.delete(path, headers=other),
        await client.post(f"{path}/rotate-secret", headers=other),
        await client.get(f"{path}/deliveries", headers=other),
        await client.post(f"{path}/deliveries/{created['id']}/replay", headers=other),
    ]
    assert [r.status_code for r in attempts] == [404] * 6
    assert (await client.get("/v1/contacts", headers=other)).json() == []
    assert (await client.get(path, headers=auth)).status_code == 200


async def test_deleting_a_contact_removes_it(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await add_contact(client, auth, HOOK)
    assert (await client.delete(f"/v1/contacts/{created['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/v1/contacts/{created['id']}", headers=auth)).status_code == 404
    assert (await client.delete(f"/v1/contacts/{created['id']}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "webhook_url": HOOK},
        {"name": "   ", "webhook_url": HOOK},
        {"name": "Anna"},
        {"name": "Anna", "webhook_url": "ftp://example.com/x"},
        {"name": "Anna", "webhook_url": "http://user:secret@example.com/hook"},
        {"name": "Anna", "webhook_url": "not a url"},
        {"name": "Anna", "webhook_url": HOOK, "consents": {"gossip": True}},
        {"name": "Anna", "webhook_url": HOOK, "colour": "blue"},
        {"name": "Anna", "webhook_url": "http://" + "x" * 3000 + ".com/"},
    ],
)
async def test_bad_contacts_are_422_problems(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, object]
) -> None:
    response = await client.post("/v1/contacts", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_bad_ids_and_pages_are_4xx(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await add_contact(client, auth, HOOK)
    path = f"/v1/contacts/{created['id']}/deliveries"
    assert (await client.get("/v1/contacts/not-a-uuid", headers=auth)).status_code == 422
    assert (await client.get(f"{path}?limit=0", headers=auth)).status_code == 422
    assert (await client.get(f"{path}?cursor=%%%", headers=auth)).status_code == 422
    assert (await client.get(path)).status_code == 401
    replay = await client.post(f"{path}/{created['id']}/replay", headers=auth)
    assert replay.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
    ],
)
async def test_private_destinations_are_refused_without_the_operator_setting(
    services: Services, url: str
) -> None:
    async with api_client(notify_settings(services, webhooks_allow_private=False)) as client:
        auth = await new_user(client)
        response = await client.post("/v1/contacts", json={"name": "Anna", "webhook_url": url}, headers=auth)
        assert response.status_code == 422, response.text
        assert "address" in response.json()["detail"]
        created = await client.get("/v1/contacts", headers=auth)
        assert created.json() == []


async def test_a_new_url_is_checked_like_the_first(services: Services, client: httpx.AsyncClient) -> None:
    auth = await new_user(client)
    created = await add_contact(client, auth, HOOK)
    async with api_client(notify_settings(services, webhooks_allow_private=False)) as strict:
        moved = await strict.patch(
            f"/v1/contacts/{created['id']}", json={"webhook_url": "http://10.1.1.1/"}, headers=auth
        )
        assert moved.status_code == 422
        renamed = await strict.patch(f"/v1/contacts/{created['id']}", json={"name": "Ann"}, headers=auth)
        assert renamed.status_code == 200
