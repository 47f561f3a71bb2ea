"""Outbound webhooks: Standard Webhooks signatures (the `standardwebhooks` package) over httpx.

Where a webhook may go is decided when its TCP connection is opened: the host is resolved, every
address it resolves to must be allowed (see domain.webhooks.address_allowed), and the connection
goes to one of those very addresses. So a DNS answer that changes between the check and the
connect (rebinding) cannot steer a webhook into the private network. Redirects are not followed,
and proxies from the environment are not used.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpcore
import httpx
import redis.asyncio as aioredis
from standardwebhooks import Webhook

from domain.errors import InvalidInput
from domain.notify_ports import ContactsUnitOfWorkFactory, DestinationGuard, WebhookRequest, WebhookSender
from domain.webhooks import SendReport, address_allowed, parse_destination
from providers.postgres.contacts import PostgresContactsUnitOfWorkFactory
from providers.settings import Settings

USER_AGENT = "Errand-Webhooks/0.1"
MAX_RESPONSE_BYTES = 64 * 1024
"""Read this much of an answer at most (its status is all that counts); the rest is dropped."""


class RefusedDestination(Exception):
    """The host resolves to an address webhooks may not reach."""


class AddressPolicy:
    """Resolves hosts and keeps only what webhooks may reach."""

    def __init__(self, *, allow_private: bool, resolve_timeout: float = 5.0) -> None:
        self.allow_private = allow_private
        self._resolve_timeout = resolve_timeout

    async def allowed_addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, all of them allowed. Raises RefusedDestination if any is not
        (a host with one private address among public ones is refused whole), OSError if the
        host does not resolve, TimeoutError if resolving takes too long."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._resolve_timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise OSError(f"{host} has no address")
        if not all(address_allowed(a, allow_private=self.allow_private) for a in addresses):
            raise RefusedDestination("the host resolves to a private, loopback or reserved address")
        return addresses


class ResolvingDestinationGuard:
    """The check at contact creation: the URL's shape, then where it resolves now."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    async def check(self, url: str) -> None:
        destination = parse_destination(url)
        try:
            await self._policy.allowed_addresses(destination.host, destination.port)
        except RefusedDestination as exc:
            raise InvalidInput(
                "the webhook URL points to a private, loopback, link-local, multicast or reserved "
                "address; webhooks only go to public addresses"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise InvalidInput("the webhook URL's host does not resolve") from exc


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allowed."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._policy.allowed_addresses(host, port)
        for address in addresses[:-1]:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return await self._inner.connect_tcp(addresses[-1], port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedDestination("webhooks do not go to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport with the guarded backend under its connection pool. httpx has no public
    hook for the network backend, so its pool is replaced right after construction."""
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(policy),
    )
    return transport


def signature_header(request: WebhookRequest, at: datetime) -> str:
    """`v1,<base64>` per secret, space-separated: during a rotation's grace period the receiver
    verifies with whichever secret it has."""
    return " ".join(Webhook(secret).sign(request.webhook_id, at, request.body) for secret in request.secrets)


class HttpWebhookSender:
    """POSTs one signed delivery; translates every failure into a SendReport, never an exception."""

    def __init__(self, policy: AddressPolicy, *, timeout_seconds: float, max_connections: int = 256) -> None:
        self.timeout_seconds = timeout_seconds
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=32)
        self._client = httpx.AsyncClient(
            transport=guarded_transport(policy, limits),
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
        )

    async def send(self, request: WebhookRequest) -> SendReport:
        started = time.perf_counter()

        def report(
            status_code: int | None = None, error: str | None = None, refused: bool = False
        ) -> SendReport:
            elapsed = (time.perf_counter() - started) * 1000
            return SendReport(status_code, error, elapsed, refused)

        try:
            parse_destination(request.url)
        except InvalidInput as exc:
            return report(error=f"refused: {exc.detail}", refused=True)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return report(await self._post(request))
        except RefusedDestination as exc:
            return report(error=f"refused: {exc}", refused=True)
        except TimeoutError:
            return report(error="timeout")
        except httpx.TimeoutException:
            return report(error="timeout")
        except (httpx.HTTPError, OSError) as exc:
            return report(error=f"connection error: {type(exc).__name__}")

    async def _post(self, request: WebhookRequest) -> int:
        at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": request.webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature_header(request, at),
        }
        async with self._client.stream(
            "POST", request.url, content=request.body, headers=headers
        ) as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > MAX_RESPONSE_BYTES:
                    break
            return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    """The notify lane's providers (PORT_MODULES): contacts on PostgreSQL, the guard, the sender."""
    policy = AddressPolicy(allow_private=settings.webhooks_allow_private)
    guard: DestinationGuard = ResolvingDestinationGuard(policy)
    sender: WebhookSender = HttpWebhookSender(policy, timeout_seconds=settings.webhooks_timeout_seconds)
    contacts: ContactsUnitOfWorkFactory = PostgresContactsUnitOfWorkFactory(pool)
    return {ContactsUnitOfWorkFactory: contacts, DestinationGuard: guard, WebhookSender: sender}
