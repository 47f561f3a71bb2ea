"""A local fake of a Qdrant server's REST API, for the index's server mode.

There is no Qdrant binary here, so tests point the real `qdrant_client` at this instead: the wire
format is exercised, not mocked. Bodies are parsed with the client's own REST models (which forbid
unknown fields), so a malformed request fails; the answers come from qdrant-client's in-process
engine, so searches return real cosine scores. Only the endpoints the index uses exist.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client import QdrantClient
from qdrant_client.http import models

OPEN_PATHS = {"/", "/healthz", "/readyz", "/livez"}
"""Qdrant answers these without an API key (its auth middleware's whitelist)."""
MISSING_KEY = "Must provide an API key or an Authorization bearer token"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Names in lower case."""


class QdrantError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FakeQdrant:
    api_key: str | None
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    payload_indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Collection -> field -> schema: recorded, since the in-process engine has no payload indexes."""
    failures: list[str] = field(default_factory=list)
    """Requests answered with an error other than 401: a test expects none (a 404 would mean an
    endpoint the fake lacks)."""
    engine: QdrantClient = field(default_factory=lambda: QdrantClient(location=":memory:"))
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The in-process engine is not thread-safe; the server answers each request in a thread."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of the index's own requests, without the client's version check (`GET /`
        from a thread of its own, so its place in the order varies)."""
        return [(r.method, r.path) for r in self.requests if r.path != "/"]

    def answer(self, method: str, path: str, body: bytes) -> Any:
        if path == "/" and method == "GET":
            # The client warns unless major versions match and minors differ by at most one.
            return {"title": "qdrant - vector search engine", "version": _client_version()}
        for route_method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                with self.lock:
                    return {"result": handler(self, match["name"], body), "status": "ok", "time": 0.0}
        raise QdrantError(404, f"Not found: no {method} {path} in the fake")

    def _collection(self, name: str) -> str:
        if not self.engine.collection_exists(name):
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
        return name

    def _exists(self, name: str, body: bytes) -> Any:
        return {"exists": self.engine.collection_exists(name)}

    def _create_collection(self, name: str, body: bytes) -> Any:
        request = _parse(models.CreateCollection, body)
        if self.engine.collection_exists(name):
            raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
        return self.engine.create_collection(name, vectors_config=request.vectors)

    def _create_index(self, name: str, body: bytes) -> Any:
        request = _parse(models.CreateFieldIndex, body)
        self.payload_indexes.setdefault(self._collection(name), {})[request.field_name] = request.field_schema
        return _dump(models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED))

    def _upsert(self, name: str, body: bytes) -> Any:
        request = _parse(models.PointInsertOperations, body)
        assert isinstance(request, models.PointsList), "the index sends a list of points"
        return _dump(self.engine.upsert(self._collection(name), points=request.points))

    def _delete(self, name: str, body: bytes) -> Any:
        selector = _parse(models.PointsSelector, body)
        return _dump(self.engine.delete(self._collection(name), points_selector=selector))

    def _query(self, name: str, body: bytes) -> Any:
        request = _parse(models.QueryRequest, body)
        found = self.engine.query_points(
            self._collection(name),
            query=request.query,
            query_filter=request.filter,
            limit=request.limit or 10,
            with_payload=request.with_payload if request.with_payload is not None else False,
            with_vectors=request.with_vector or False,
        )
        return _dump(found)


_ROUTES: list[tuple[str, re.Pattern[str], Callable[[FakeQdrant, str, bytes], Any]]] = [
    ("GET", re.compile(r"/collections/(?P<name>[^/]+)/exists"), FakeQdrant._exists),
    ("PUT", re.compile(r"/collections/(?P<name>[^/]+)"), FakeQdrant._create_collection),
    ("PUT", re.compile(r"/collections/(?P<name>[^/]+)/index"), FakeQdrant._create_index),
    ("PUT", re.compile(r"/collections/(?P<name>[^/]+)/points"), FakeQdrant._upsert),
    ("POST", re.compile(r"/collections/(?P<name>[^/]+)/points/delete"), FakeQdrant._delete),
    ("POST", re.compile(r"/collections/(?P<name>[^/]+)/points/query"), FakeQdrant._query),
]


def _parse(model: Any, body: bytes) -> Any:
    try:
        return TypeAdapter(model).validate_json(body)
    except ValidationError as exc:
        raise QdrantError(400, f"Format error in JSON body: {exc}") from exc


def _dump(result: BaseModel) -> Any:
    return result.model_dump(mode="json")


def _client_version() -> str:
    return importlib.metadata.version("qdrant-client")


def _handler(fake: FakeQdrant) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        do_PUT = do_POST = do_DELETE = do_PATCH = do_GET

        def _serve(self) -> None:
            url = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            fake.requests.append(Request(self.command, url.path, dict(parse_qsl(url.query)), headers))
            body = self.rfile.read(int(headers.get("content-length", 0)))
            key = headers.get("api-key")
            if url.path not in OPEN_PATHS and fake.api_key is not None and key != fake.api_key:
                # Qdrant answers both in plain text, and 401 for either (403 is a read-only key writing).
                text = "Invalid API key or JWT" if key else MISSING_KEY
                return self._send(401, text.encode(), "text/plain")
            try:
                reply = fake.answer(self.command, url.path, body)
            except QdrantError as exc:
                return self._fail(exc.status, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug of the fake: answered, and failing the test
                return self._fail(500, f"Service internal error: {exc!r}")
            self._send(200, json.dumps(reply).encode(), "application/json")

        def _fail(self, status: int, message: str) -> None:
            fake.failures.append(f"{self.command} {self.path}: {status} {message}")
            error = {"status": {"error": message}, "time": 0.0}
            self._send(status, json.dumps(error).encode(), "application/json")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def settle_version_checks(timeout: float = 10.0) -> None:
    """Wait for the threads in which each new QdrantClient asks the server for its version: one
    that finds the server gone warns, and under `-W error` that warning fails a later test."""
    for thread in threading.enumerate():
        if thread.name.endswith("(_check_compatibility)"):
            thread.join(timeout)


@contextmanager
def fake_qdrant(api_key: str | None = "secret") -> Iterator[FakeQdrant]:
    fake = FakeQdrant(api_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = False  # so that server_close() waits for requests in flight
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        settle_version_checks()
        server.shutdown()
        server.server_close()
        thread.join()
        fake.engine.close()
