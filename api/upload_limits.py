"""The body limit per kind of request: voice messages (multipart POST /v1/messages) may be as large
as the speech upload limit, every other body keeps ERRAND_MAX_BODY_BYTES.

Two EdgeMiddleware instances, one per limit; choosing one costs a path comparison and, on the
messages path only, a scan of the header list. No await and no allocation of its own: the chosen
middleware's coroutine is returned as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware import EdgeMiddleware

UPLOAD_PATHS = frozenset({"/v1/messages"})
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the form's boundaries and other fields around the recording."""


class EdgeWithUploads:
    """`edge` are EdgeMiddleware's other arguments: both instances share them (and so, for one,
    any request budget); only the body limit differs."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int, **edge: Any) -> None:
        self._default = EdgeMiddleware(app, max_body_bytes=max_body_bytes, **edge)
        upload_limit = max(max_body_bytes, max_upload_bytes + MULTIPART_OVERHEAD)
        self._uploads = EdgeMiddleware(app, max_body_bytes=upload_limit, **edge)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and scope["path"] in UPLOAD_PATHS and _multipart(scope):
            return self._uploads(scope, receive, send)
        return self._default(scope, receive, send)


def _multipart(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            # Lower-case as nearly every client sends it; any other case is compared folded.
            return bool(
                value.startswith(b"multipart/form-data")
                or (value[:1] == b"M" and value[:19].lower() == b"multipart/form-data")
            )
    return False
