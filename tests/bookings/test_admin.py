"""Venues are data: the admin API and the CLI add, list and seed them; bad input is a 4xx."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import httpx

from providers.wiring import Providers
from tests.conftest import ADMIN_TOKEN
from tests.e2e.procs import ROOT, process_env

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _venue(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": f"Corner Cafe {uuid.uuid4().hex[:6]}",
        "kind": "restaurant",
        "timezone": "Europe/Stockholm",
        "aliases": ["the corner"],
        "hours": {"mon": [["11:00", "22:00"]], "fri": [["11:00", "02:00"]]},
        "resources": [{"name": "Table 1", "capacity": 2}, {"name": "Table 2", "capacity": 6}],
        "owner_user_id": None,
    }
    return body | overrides


async def test_admin_adds_and_lists_venues(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    me = (await client.get("/v1/me", headers=auth)).json()["id"]
    body = _venue(owner_user_id=me)
    created = await client.post("/v1/admin/venues", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    venue = created.json()
    assert venue["default_minutes"] == 120 and venue["hours"]["fri"] == [["11:00", "02:00"]]
    assert [r["capacity"] for r in venue["resources"]] == [2, 6]
    listed = (await client.get("/v1/admin/venues", headers=ADMIN)).json()
    assert venue["id"] in [v["id"] for v in listed]
    again = await client.post("/v1/admin/venues", json=body, headers=ADMIN)
    assert again.status_code == 409


async def test_bad_venues_are_refused_with_problems(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    cases = [
        (_venue(timezone="Mars/Olympus"), 422),
        (_venue(hours={"someday": [["08:00", "09:00"]]}), 422),
        (_venue(hours={"mon": [["8 o'clock", "9"]]}), 422),
        (_venue(resources=[]), 422),
        (_venue(resources=[{"name": "A"}, {"name": "a"}]), 422),
        (_venue(provider="google"), 422),  # no calendar_id
        (_venue(kind="bar"), 422),
    ]
    for body, code in cases:
        response = await client.post("/v1/admin/venues", json=body, headers=ADMIN)
        assert response.status_code == code, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.post("/v1/admin/venues", json=_venue(), headers=auth)).status_code == 401
    assert (await client.get("/v1/admin/venues")).status_code == 401


async def test_secrets_are_never_shown(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    me = (await client.get("/v1/me", headers=auth)).json()["id"]
    body = _venue(
        owner_user_id=me,
        provider="webhook",
        provider_config={"url": "http://127.0.0.1:9/", "secret": "s3cret"},
    )
    created = await client.post("/v1/admin/venues", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["provider_config"] == {"url": "http://127.0.0.1:9/"}


def _cli(providers: Providers, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", "venues", *args],
        cwd=ROOT,
        env=process_env(providers.settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_seeds_idempotently_adds_and_lists(providers: Providers) -> None:
    first, second = _cli(providers, "seed"), _cli(providers, "seed")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == json.loads(second.stdout)
    names = {v["name"] for v in json.loads(first.stdout)}
    assert names == {"Luigi's Trattoria", "Golden Dragon", "Bella Hair Salon", "Riverside Dental"}
    dental = next(v for v in json.loads(first.stdout) if v["name"] == "Riverside Dental")
    assert dental["services"] == {"check-up": 30, "cleaning": 45}
    assert dental["hours"]["sun"] == [["08:00", "23:00"]]

    name = f"Harbour Physio {uuid.uuid4().hex[:6]}"
    added = _cli(
        providers, "add", name, "--kind", "clinic", "--resource", "Room 1:1:room",
        "--service", "massage:60", "--timezone", "Europe/Stockholm",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["default_minutes"] == 60
    bad = _cli(providers, "add", "Nowhere", "--kind", "clinic", "--resource", "Room:many")
    assert bad.returncode == 1 and "NAME:CAPACITY" in bad.stderr
    listed = _cli(providers, "list")
    assert name in {v["name"] for v in json.loads(listed.stdout)}
    async with providers.pool.acquire() as conn:  # keep the shared venue list to the demo ones
        await conn.execute("DELETE FROM venues WHERE name = $1", name)
