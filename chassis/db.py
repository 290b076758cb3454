"""PostgreSQL: pools and migrations. The gap-free counters that order appends are in chassis/partitions.py."""

from __future__ import annotations

from importlib import resources

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb travels as orjson bytes-decoded text both ways: fast, and Decimals stay strings in our payloads.
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
        format="text",
    )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    """A connection pool whose connections speak jsonb as Python objects."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool


def schema_sql(package: str, name: str = "schema.sql") -> str:
    """The SQL file shipped inside a service's adapters package."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")
