"""Fixtures for the audit use cases: a PostgreSQL database of our own (the server named by
OBJEKTIF_DATABASE_URL, else the local one), the audit schema applied afresh for every test, and a ledger to
fill."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.databases import emptied_pool, fresh_database

# As a superuser, `session_replication_role = replica` skips the append-only triggers for this session only:
# emptying a few small tables this way costs far less than dropping and re-creating the schema.
_RESET = """
SET session_replication_role = replica;
DELETE FROM audit.leaf_data; DELETE FROM audit.leaves; DELETE FROM audit.nodes; DELETE FROM audit.checkpoints;
DELETE FROM audit.partition_checkpoints; DELETE FROM audit.checkpoint_keys; DELETE FROM audit.consumer_positions;
UPDATE audit.heads SET size = 0, root = sha256(''::bytea), frontier = '{"size": 0, "hashes": []}',
                       chain_hash = ''::bytea, last_idx = 0;
SET session_replication_role = DEFAULT;
"""


@pytest.fixture(scope="session")
async def audit_schema() -> AsyncIterator[str]:
    """A database created for this test session with the audit schema, dropped after it."""
    async with fresh_database(f"objektif_audit_unit_{os.getpid()}", "services.audit.adapters") as dsn:
        yield dsn


@pytest.fixture
async def pool(audit_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on an emptied ledger (emptied as a superuser, with the append-only triggers off meanwhile)."""
    async with emptied_pool(audit_schema, _RESET) as pool:
        yield pool


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection of the pool (as the CLI uses one)."""
    async with pool.acquire() as c:
        yield c
