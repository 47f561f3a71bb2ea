"""The asyncpg pool, with jsonb decoded by orjson in binary format."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)


def _decode_jsonb(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb, format="binary"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: nothing here keeps session state (no SET, LISTEN or advisory
    locks outside a transaction), and the default reset costs a round trip per request."""


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        server_settings={"application_name": "errand"},
    )
