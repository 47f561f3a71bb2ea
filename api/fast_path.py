"""POST /v1/messages straight from the edge to its route function, past Starlette's routing.

Why: it is the one route under real load, and the generic machinery between the edge and the
route (exception middleware, exit stack, router matching over every route, the request/response
wrapper) cost about as much as the route's own work (measured). The route function is the same one
FastAPI documents and would call; its errors go through the same exception handlers, so answers
are identical. Everything else, and a voice message (multipart) on this path, goes the usual way.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.routes.messages import post_message

PATH = "/v1/messages"


class MessagesFastPath:
    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi
        self.route = SimpleNamespace(path=PATH)
        """What the edge's latency metric reads from scope["route"], as for a routed request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or _multipart(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        request = Request(scope, receive)
        try:
            response = await post_message(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise  # the server-error middleware answers 500 and logs it, as for any route
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Any:
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None


def _multipart(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return bytes(value).lower().startswith(b"multipart/")
    return False
