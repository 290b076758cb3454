"""chassis.db's pool releases a connection without asyncpg's reset round trip, except one marked as holding
session state (an outbox relay's advisory lock); an open transaction is rolled back either way. Against the
real PostgreSQL server (tests/databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from chassis.db import create_pool, hold_session_state
from tests.databases import SERVER

LOCK = 73_000_017


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection, so that each acquire gets the connection the previous one released."""
    p = await create_pool(SERVER, min_size=1, max_size=1)
    try:
        yield p
    finally:
        await p.close()


async def _held_by_others(pid: int) -> int:
    """Session advisory locks on LOCK held by backend `pid`, seen from another connection."""
    conn = await asyncpg.connect(SERVER)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid = $2", LOCK, pid)
    finally:
        await conn.close()


async def test_a_released_connection_keeps_no_reset_round_trip_and_a_marked_one_is_reset_in_full(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK)  # session state, deliberately not marked
    # no reset query ran: the lock outlived the release (which is why the relay marks its connection)
    assert await _held_by_others(pid) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == pid  # the same connection, max_size 1
        hold_session_state(conn)
    # marked: the release ran asyncpg's full reset (pg_advisory_unlock_all among it)
    assert await _held_by_others(pid) == 0
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK)
    assert await _held_by_others(pid) == 1, "the mark lasts one release"
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_unlock_all()")


async def test_a_connection_released_inside_a_transaction_is_rolled_back(pool: asyncpg.Pool) -> None:
    conn = await pool.acquire()
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pool_reset_probe (x int)")
    tx = conn.transaction()
    await tx.start()
    await conn.execute("INSERT INTO pool_reset_probe VALUES (1)")
    await pool.release(conn)  # never committed
    async with pool.acquire() as again:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT count(*) FROM pool_reset_probe") == 0
        await again.execute("DROP TABLE pool_reset_probe")


async def test_pooled_connections_plan_each_statement_for_its_parameters(pool: asyncpg.Pool) -> None:
    # a generic plan made on an empty table stays a sequential scan as the table grows (chassis/db.py)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
