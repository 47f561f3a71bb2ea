"""Knowledge bases: upload (JSON text or a multipart file), list, read and delete documents; and,
for the admin, who reads and edits an organisation's knowledge base. Indexing and deletion run as
tasks on the answer lane; a document is answered from once its task has succeeded."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import AdminDep, JsonOnly, ProvidersDep, UserDep
from api.errors import UnsupportedMediaType
from api.knowledge_schemas import DocumentAccepted, DocumentIn, DocumentOut, DocumentPage, MembershipIn
from api.routes.messages import ERRORS
from api.routes.tasks import decode_cursor, encode_cursor
from domain.errors import InvalidInput
from domain.knowledge import (
    KnowledgeRepositories,
    KnowledgeRepository,
    NewDocument,
    media_type_of,
    org_tenant,
    user_tenant,
)
from domain.knowledge_services import (
    delete_document,
    get_document,
    list_documents,
    set_membership,
    submit_document,
)
from domain.ports import UnitOfWork
from domain.users import User
from providers.wiring import Providers

router = APIRouter(tags=["knowledge"])

# The body is JSON or multipart/form-data, so it is read by hand; both are declared for /docs.
OPENAPI_UPLOAD: dict[str, object] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".md .txt .html .pdf"},
                        "title": {"type": "string", "description": "default: the file name"},
                        "source": {"type": "string", "description": "default: the file name"},
                        "org": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _documents(providers: Providers, uow: UnitOfWork) -> KnowledgeRepository:
    factory: KnowledgeRepositories = providers.skill_ports[KnowledgeRepositories]  # type: ignore[assignment]
    return factory(uow)


@router.post(
    "/v1/knowledge/documents",
    status_code=202,
    response_model=DocumentAccepted,
    responses={200: {"model": DocumentAccepted, "description": "Unchanged: nothing to index"}, **ERRORS},
    openapi_extra=OPENAPI_UPLOAD,
)
async def post_document(
    request: Request, response: Response, user: UserDep, providers: ProvidersDep
) -> DocumentAccepted:
    """Add a document, or replace the one with the same source. 202 with the ingest task; it is
    searchable once that task has succeeded (seconds). 200 when the upload is identical."""
    doc = await read_upload(request, user)
    async with providers.uow() as uow:
        submitted = await submit_document(
            user, doc, uow=uow, documents=_documents(providers, uow), queue=providers.streams
        )
    if submitted.task is None:
        response.status_code = 200
    return DocumentAccepted.of(submitted)


async def read_upload(request: Request, user: User) -> NewDocument:
    """The document of a JSON or multipart body; 415 for other bodies, 422 for invalid ones."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            body = DocumentIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None
        return _new_document(user, body.org, body.title, body.source, body.media_type, body.content.encode())
    if media == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("send the document as the form's `file` field")
            name = upload.filename or "document"
            title = str(form.get("title") or name)
            kind = media_type_of(upload.filename, upload.content_type)
            org = str(form["org"]) if form.get("org") else None
            source = str(form.get("source") or name)
            return _new_document(user, org, title, source, kind, await upload.read())
    raise UnsupportedMediaType("send application/json or multipart/form-data")


def _new_document(
    user: User, org: str | None, title: str, source: str | None, media_type: str, body: bytes
) -> NewDocument:
    tenant = org_tenant(org) if org else user_tenant(user.id)
    return NewDocument(tenant, (source or title)[:500], title[:300], media_type, body, user.id)


@router.get("/v1/knowledge/documents", response_model=DocumentPage, responses=ERRORS)
async def read_documents(
    user: UserDep,
    providers: ProvidersDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DocumentPage:
    """The documents the caller reads (their own and their organisations'), newest first."""
    async with providers.uow() as uow:
        docs, next_id = await list_documents(
            user, limit=limit, cursor=decode_cursor(cursor), documents=_documents(providers, uow)
        )
    return DocumentPage(items=[DocumentOut.of(d) for d in docs], next_cursor=encode_cursor(next_id))


@router.get("/v1/knowledge/documents/{document_id}", response_model=DocumentOut, responses=ERRORS)
async def read_document(document_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> DocumentOut:
    async with providers.uow() as uow:
        return DocumentOut.of(await get_document(user, document_id, documents=_documents(providers, uow)))


@router.delete(
    "/v1/knowledge/documents/{document_id}",
    status_code=202,
    response_model=DocumentAccepted,
    responses=ERRORS,
)
async def remove_document(document_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> DocumentAccepted:
    """Stop answering from the document now; its chunks are removed by a task on the answer lane."""
    async with providers.uow() as uow:
        submitted = await delete_document(
            user, document_id, uow=uow, documents=_documents(providers, uow), queue=providers.streams
        )
    return DocumentAccepted.of(submitted)


@router.put(
    "/v1/admin/knowledge/orgs/{org}/members/{user_id}",
    status_code=204,
    responses=ERRORS,
    dependencies=[JsonOnly],
    tags=["admin"],
)
async def put_member(
    org: str, user_id: uuid.UUID, body: MembershipIn, _: AdminDep, providers: ProvidersDep
) -> Response:
    """Let the user read (`reader`) or also add and delete (`editor`) the organisation's documents."""
    async with providers.uow() as uow:
        await set_membership(org, user_id, body.role, documents=_documents(providers, uow))
    return Response(status_code=204)


@router.delete(
    "/v1/admin/knowledge/orgs/{org}/members/{user_id}", status_code=204, responses=ERRORS, tags=["admin"]
)
async def delete_member(org: str, user_id: uuid.UUID, _: AdminDep, providers: ProvidersDep) -> Response:
    async with providers.uow() as uow:
        await set_membership(org, user_id, None, documents=_documents(providers, uow))
    return Response(status_code=204)
