"""The transactional outbox relay: publishes rows committed in PostgreSQL to Kafka, in order, at least once.

A service writes the events it produces into an outbox table in the same transaction as its state (ordered by a
gap-free position, `chassis.db.next_positions`). This relay reads past its cursor, publishes, waits for the
broker's acknowledgement, and only then advances the cursor, so a crash republishes rather than loses; consumers
deduplicate by event_id. One relay per outbox holds a PostgreSQL advisory lock, so scaled-out instances don't
interleave. `rewind()` republishes from the start, for a broker that came back empty.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass

import asyncpg
import structlog
from faststream.kafka import KafkaBroker


@dataclass(frozen=True)
class OutboxSpec:
    """Which table to relay to which topic. The table has columns (pos bigint, key text, value bytea)."""

    name: str
    table: str
    cursor_table: str
    topic: str

    @property
    def lock_key(self) -> int:
        return zlib.crc32(f"outbox:{self.table}".encode())


class OutboxRelay:
    """Relays one outbox table to its topic until stopped."""

    def __init__(self, pool: asyncpg.Pool, broker: KafkaBroker, spec: OutboxSpec, *, batch: int = 5000) -> None:
        self._pool = pool
        self._broker = broker
        self._spec = spec
        self._batch = batch
        self._wake = asyncio.Event()
        self._log = structlog.get_logger(outbox=spec.name)
        self.published = 0

    def notify(self) -> None:
        """Something was committed: relay it now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 0.5) -> None:
        """Relay until `stop` is set. Holds the advisory lock on a dedicated connection while it relays."""
        async with self._pool.acquire() as conn:
            while not stop.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._spec.lock_key):
                    break
                await _wait(stop, poll_seconds)  # another instance relays; stand by
            try:
                while not stop.is_set():
                    moved = await self._relay_once(conn)
                    if moved < self._batch:
                        self._wake.clear()
                        waiter = asyncio.ensure_future(self._wake.wait())
                        stopper = asyncio.ensure_future(stop.wait())
                        await asyncio.wait({waiter, stopper}, timeout=poll_seconds, return_when="FIRST_COMPLETED")
                        waiter.cancel()
                        stopper.cancel()
            finally:
                if not conn.is_closed():
                    await conn.execute("SELECT pg_advisory_unlock($1)", self._spec.lock_key)

    async def _relay_once(self, conn: asyncpg.Connection) -> int:
        s = self._spec
        cursor = await conn.fetchval(f"SELECT pos FROM {s.cursor_table} WHERE name = $1", s.name)  # noqa: S608
        rows = await conn.fetch(
            f"SELECT pos, key, value FROM {s.table} WHERE pos > $1 ORDER BY pos LIMIT $2",  # noqa: S608
            cursor,
            self._batch,
        )
        if not rows:
            return 0
        pending = [
            await self._broker.publish(r["value"], s.topic, key=r["key"].encode(), no_confirm=True) for r in rows
        ]
        await asyncio.gather(*pending)  # the broker acknowledged every record (acks=all)
        await conn.execute(
            f"UPDATE {s.cursor_table} SET pos = $2 WHERE name = $1", s.name, rows[-1]["pos"]  # noqa: S608
        )
        self.published += len(rows)
        self._log.debug("outbox.relayed", count=len(rows), upto=rows[-1]["pos"])
        return len(rows)

    async def rewind(self) -> None:
        """Republish everything from the start (consumers deduplicate by event_id)."""
        async with self._pool.acquire() as conn:
            await conn.execute(f"UPDATE {self._spec.cursor_table} SET pos = 0 WHERE name = $1", self._spec.name)  # noqa: S608
        self.notify()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
