"""PostgreSQL: pools, migrations, and the gap-free counter that orders every append (ARCHITECTURE.md)."""

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


async def lock_counter(conn: asyncpg.Connection, table: str, counter: str) -> int:
    """Take a gap-free counter's row lock for the rest of the transaction; returns its current value."""
    value = await conn.fetchval(f"SELECT value FROM {table} WHERE name = $1 FOR UPDATE", counter)  # noqa: S608
    if value is None:
        raise LookupError(f"counter {counter!r} missing in {table}")
    return int(value)


async def next_positions(conn: asyncpg.Connection, table: str, counter: str, n: int) -> int:
    """Reserve `n` consecutive positions of a gap-free counter; returns the first.

    The UPDATE takes the counter row's lock until the transaction ends, so writers are serialised and positions
    become visible in commit order: a reader tailing by position can never skip an event committed late, which a
    bare SEQUENCE cannot promise. Must run inside the transaction that writes the rows.
    """
    last = await conn.fetchval(
        f"UPDATE {table} SET value = value + $2 WHERE name = $1 RETURNING value",  # noqa: S608  (table is ours)
        counter,
        n,
    )
    if last is None:
        raise LookupError(f"counter {counter!r} missing in {table}")
    return int(last) - n + 1
