"""Per-user request budgets: 429 with Retry-After past the burst, per user, nothing done."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.rate_limit import RateLimiter
from domain.errors import RateLimited
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import ADMIN_TOKEN, new_user


@pytest.fixture
async def strict_client(settings: Settings, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    strict = settings.model_copy(update={"rate_limit_per_minute": 60.0, "rate_limit_burst": 3})
    app = create_app(strict, providers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            yield http


async def test_past_the_burst_a_user_gets_429_with_retry_after_and_nothing_is_done(
    strict_client: httpx.AsyncClient,
) -> None:
    anna, bo = await new_user(strict_client), await new_user(strict_client)
    post = strict_client.post
    answers = [await post("/v1/messages", json={"text": "hello"}, headers=anna) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    listed = await strict_client.get("/v1/tasks", headers=bo)
    assert listed.status_code == 200  # another user's budget is their own
    assert (await strict_client.get("/v1/tasks", headers=anna)).status_code == 429
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for _ in range(5):  # the operator's token has no budget
        assert (await strict_client.post("/v1/users", json={}, headers=admin)).status_code == 201


def test_the_bucket_refills_at_the_configured_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("api.rate_limit.time.monotonic", lambda: clock[0])
    limiter = RateLimiter(per_minute=120, burst=2)
    limiter.take("k")
    limiter.take("k")
    with pytest.raises(RateLimited) as refused:
        limiter.take("k")
    assert refused.value.retry_after == pytest.approx(0.5)
    clock[0] += 0.5
    limiter.take("k")
    assert not RateLimiter(per_minute=0, burst=1).enabled
