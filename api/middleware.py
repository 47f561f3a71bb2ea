"""One pure-ASGI middleware for every request: request id, body size limit, per-user request
budget, latency metrics.

Pure ASGI rather than BaseHTTPMiddleware: it adds microseconds, not a task and a stream copy.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem, too_many_requests
from api.rate_limit import RateLimiter
from domain.errors import RateLimited
from providers.logs import request_id

LATENCY = Histogram(
    "errand_http_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        limiter: RateLimiter | None = None,
        unlimited: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.limiter = limiter if limiter is not None and limiter.enabled else None
        self.unlimited = unlimited
        """Authorization headers with no budget: the operator's admin token."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _header(scope, b"x-request-id") or uuid.uuid4().hex
        token = request_id.set(rid[:64])
        status = {"code": 500}
        declared = _header(scope, b"content-length")
        try:
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
                await self._reject(scope, receive, send, status)
                return
            if self.limiter is not None and not await self._within_budget(scope, receive, send, status):
                return
            if declared is None and scope["method"] in ("POST", "PUT", "PATCH"):
                buffered = await self._buffer(receive)
                if buffered is None:
                    await self._reject(scope, receive, send, status)
                    return
                receive = buffered
            await self.app(scope, receive, self._tagged(send, rid, status))
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            LATENCY.labels(scope["method"], route, str(status["code"])).observe(time.perf_counter() - started)
            request_id.reset(token)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, status: dict[str, int]) -> None:
        status["code"] = 413
        response = problem(413, "Request body too large", f"the limit is {self.max_body} bytes")
        await response(scope, receive, send)

    async def _within_budget(
        self, scope: Scope, receive: Receive, send: Send, status: dict[str, int]
    ) -> bool:
        """Budgets are per bearer token, checked before any work; a request without one is left
        to the route (which answers 401 where a token is needed)."""
        credential = _header(scope, b"authorization")
        if credential is None or self.limiter is None or credential in self.unlimited:
            return True
        try:
            self.limiter.take(credential)
        except RateLimited as exc:
            status["code"] = 429
            await too_many_requests(exc)(scope, receive, send)
            return False
        return True

    async def _buffer(self, receive: Receive) -> Receive | None:
        """Read a body sent without Content-Length (chunked) up to the limit; None past it."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    @staticmethod
    def _tagged(send: Send, rid: str, status: dict[str, int]) -> Send:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        return tagged


def _header(scope: Scope, name: bytes) -> str | None:
    headers: Any = scope.get("headers", ())
    for key, value in headers:
        if key == name:
            return str(value.decode("latin-1"))
    return None
