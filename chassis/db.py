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


class PooledConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query unless it holds session state.

    On every release asyncpg's pool sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``:
    one more round trip per `pool.acquire()`, which cost as much as a query (measured, a `SELECT 1` per acquire
    on this VM's loopback: 150-200 µs wall, 85-135 µs of the client's CPU and 42-50 µs of the server's with the
    reset; 84-92, 53-60 and 18-22 without). A service acquires several times per batch, so for live traffic (a
    few records a batch) that was a large part of each batch's cost. Objektif leaves no session state on a pooled
    connection (no SET, LISTEN, cursor outside a transaction or temporary table); the one session-level lock
    (an outbox relay's advisory lock, chassis/outbox.py) marks its connection with `hold_session_state`, and that
    connection is reset in full. An open transaction is always rolled back on release (asyncpg does that
    before the pool's `reset`)."""

    _holds_session_state = False

    def hold_session_state(self) -> None:
        """This connection took session-level state (an advisory lock): reset it in full when released."""
        self._holds_session_state = True


async def _reset_if_needed(conn: asyncpg.Connection) -> None:
    if isinstance(conn, PooledConnection) and conn._holds_session_state:
        conn._holds_session_state = False
        await conn.execute(conn.get_reset_query())


#: Every statement is planned with its parameters and the tables as they are now. asyncpg prepares each statement
#: once per connection, and after five executions PostgreSQL may keep a generic plan, made with the table sizes
#: of that moment. A service starts on empty tables, so its duplicate checks (`event_id = ANY($1)` over
#: evidence.events, scoring.events, audit.leaves) kept sequential scans as the tables grew, until an ANALYZE
#: invalidated them, never where autovacuum is off (as on this project's CI server). Found with auto_explain in
#: `objektif bench` at 20k events: 12-53 ms per lookup, PostgreSQL 179 µs per bulk submission and 297 per
#: singly signed one; with custom plans 76 and 80, bulk 4,843 -> 6,484 ev/s, p99 at 1,000/s 764 -> 442 ms. The
#: price is planning each execution, ≈ 7 µs of PostgreSQL's CPU per event in the audit stage's bulk
#: (bench.stages), far less than one scan.
_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    """A connection pool whose connections speak jsonb as Python objects, plan every statement for its
    parameters (`_SERVER_SETTINGS`) and are released without a reset round trip unless they hold session state
    (`PooledConnection`)."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection,
                                     connection_class=PooledConnection, reset=_reset_if_needed,
                                     server_settings=_SERVER_SETTINGS)
    assert pool is not None
    return pool


def hold_session_state(conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy) -> None:
    """Mark a connection acquired from `create_pool`'s pool as holding session state (see `PooledConnection`);
    a connection of another pool is reset in full by asyncpg anyway."""
    mark = getattr(conn, "hold_session_state", None)  # a pool's proxy forwards to its PooledConnection
    if mark is not None:
        mark()


def schema_sql(package: str, name: str = "schema.sql") -> str:
    """The SQL file shipped inside a service's adapters package, after the shared migration helpers
    (chassis/schema_prelude.sql, session-scoped)."""
    prelude = resources.files("chassis").joinpath("schema_prelude.sql").read_text(encoding="utf-8")
    return prelude + "\n" + resources.files(package).joinpath(name).read_text(encoding="utf-8")
