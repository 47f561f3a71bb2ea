"""Schemathesis against the live API: a real `python -m api` process and its own OpenAPI document.

Bounded examples per operation. Every answer must be a non-5xx that matches what the schema
documents for it (status code, content type, body).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from bench.env import wait_http
from providers.embedded import free_port
from tests.conftest import ADMIN_TOKEN, Services, make_settings
from tests.e2e.procs import process

EXAMPLES = int(os.environ.get("ERRAND_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_api(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    port = free_port()
    app_settings = make_settings(services, port=port)
    log = Path(tmp_path_factory.mktemp("schemathesis")) / "api.log"
    with process(
        app_settings, "api", log=log, extra={"ERRAND_PORT": str(port), "ERRAND_RATE_LIMIT_PER_MINUTE": "0"}
    ):
        wait_http(port)
        base = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(
            f"{base}/v1/users",
            data=b"{}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            token = json.loads(answer.read())["token"]
        yield base, token


def test_every_operation_answers_within_its_schema(live_api: tuple[str, str]) -> None:
    """Each operation of the live schema gets EXAMPLES generated requests (the pytest plugin's
    lazy fixture loading does not work with this pytest, so the operations are walked here)."""
    base, token = live_api
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        admin = operation.path.startswith(("/v1/admin", "/v1/users"))

        call = _calls(operation, {"Authorization": f"Bearer {ADMIN_TOKEN if admin else token}"})
        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all operations are reported together
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:2000]
    assert operations > 20
    assert not failures, "\n\n".join(f"{op}: {why}" for op, why in failures.items())


def _calls(operation: Any, headers: dict[str, str]) -> Callable[[], None]:
    """EXAMPLES generated requests to one operation, each checked against the schema."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    return call  # type: ignore[no-any-return]
