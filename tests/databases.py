"""A PostgreSQL database of a test session's own: on the server named by OBJEKTIF_DATABASE_URL, else the local
one; created afresh and dropped after."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg

from chassis.db import create_pool, schema_sql
from objektif.stack import with_database

SERVER = os.environ.get("OBJEKTIF_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _drop(name: str) -> None:
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(name: str, schema_of: str | None = None) -> AsyncIterator[str]:
    """The DSN of database `name`, created empty (dropped first if a crashed run left it) and dropped after;
    with the schema of package `schema_of` (a service's adapters, `chassis.db.schema_sql`) applied."""
    await _drop(name)
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = with_database(SERVER, database=name)
    try:
        if schema_of is not None:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(schema_sql(schema_of))
            finally:
                await conn.close()
        yield dsn
    finally:
        await _drop(name)


@contextlib.asynccontextmanager
async def emptied_pool(dsn: str, reset_sql: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool (`chassis.db.create_pool`) on `dsn` after `reset_sql` has emptied what an earlier test left."""
    pool = await create_pool(dsn)
    try:
        async with pool.acquire() as conn:
            await conn.execute(reset_sql)
        yield pool
    finally:
        await pool.close()
