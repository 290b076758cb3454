"""Fixtures for the audit use cases: a PostgreSQL database of our own (the server named by OBJEKTIF_DATABASE_URL,
else the local one), the audit schema applied afresh for every test, and a ledger to fill."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from chassis.db import create_pool, schema_sql
from objektif.stack import with_database

SERVER = os.environ.get("OBJEKTIF_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
async def audit_unit_dsn() -> AsyncIterator[str]:
    """A database created for this test session and dropped after it."""
    name = f"objektif_audit_unit_{os.getpid()}"
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield with_database(SERVER, database=name)
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pool(audit_unit_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh audit schema (dropping the schema is the one way around its append-only triggers)."""
    conn = await asyncpg.connect(audit_unit_dsn)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS audit CASCADE")
        await conn.execute(schema_sql("services.audit.adapters"))
    finally:
        await conn.close()
    p = await create_pool(audit_unit_dsn)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection of the pool (as the CLI uses one)."""
    async with pool.acquire() as c:
        yield c
