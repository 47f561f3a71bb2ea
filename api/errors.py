"""The one place where errors become HTTP statuses: application/problem+json bodies."""

from __future__ import annotations

import logging
import math
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from domain import errors
from domain.speech import AudioTooLarge, SpeechUnavailable, UnsupportedAudio

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

STATUS = {
    errors.NotAuthenticated: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.TransientError: 503,
    errors.PermanentError: 422,
}


class BodyTooLarge(errors.DomainError):
    title = "Request body too large"


class UnsupportedMediaType(errors.DomainError):
    title = "Unsupported media type"


STATUS[BodyTooLarge] = 413
STATUS[UnsupportedMediaType] = 415
STATUS[AudioTooLarge] = 413
STATUS[UnsupportedAudio] = 415
STATUS[SpeechUnavailable] = 503


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    if isinstance(exc, errors.RateLimited):
        return too_many_requests(exc)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    return problem(status, exc.title, exc.detail)


def too_many_requests(exc: errors.RateLimited) -> JSONResponse:
    response = problem(429, exc.title, exc.detail)
    response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(422, "Invalid request", "the request does not match the schema", errors=details)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (a NUL character, a number out of range): the client's input,
    so a 422, and the statement that refused it changed nothing."""
    reason = exc.args[0] if exc.args else type(exc).__name__
    return problem(422, "Invalid input", f"a value cannot be stored: {reason}")


async def _refused_by_constraint(request: Request, exc: Exception) -> JSONResponse:
    """An id that names nothing (a foreign key), a duplicate the route did not expect: the request
    conflicts with what is stored. Nothing was written (the statement failed as a whole)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return problem(409, "Conflict", "that already exists")
    return problem(422, "Invalid input", "a value refers to something that does not exist, or is not allowed")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # Starlette's word for a malformed form body: the schema's 422
        return problem(422, "Invalid request", str(exc.detail) if exc.detail else "malformed body")
    return problem(exc.status_code, str(exc.detail) if exc.detail else "Error")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "something went wrong on our side; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(asyncpg.DataError, _unstorable)
    app.add_exception_handler(UnicodeEncodeError, _unstorable)
    app.add_exception_handler(asyncpg.IntegrityConstraintViolationError, _refused_by_constraint)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
