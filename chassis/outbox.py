"""The transactional outbox relay: publishes rows committed in PostgreSQL to Kafka, in order, at least once.

A service writes the events it produces into an outbox table in the same transaction as its state, in partitions
each ordered by a gap-free position (`chassis.partitions`, ADR 0013). This relay reads past its cursor in every
partition, publishes, waits for the broker's acknowledgement, and only then advances the cursors, so a crash
republishes rather than loses; consumers deduplicate by event_id. One relay per outbox holds a PostgreSQL advisory
lock, so scaled-out instances don't interleave.

Durability never depends on the broker (ARCHITECTURE.md, "Running it"): the embedded broker forgets everything on
restart, and with it every record the relay had published but consumers had not read yet. So every
`check_seconds` the relay looks for a marker it keeps on the broker, a committed offset of a
group of its own: broker state, lost with the rest. Marker gone → the broker came back empty (or, the first time,
this relay never placed one) → recreate the topic, rewind, republish the whole store; consumers deduplicate. End
offsets would not do: Tansu reports a lower bound. The relay outlasts broker and PostgreSQL outages: it retries,
with a capped back-off, for as long as the service runs, because a relay that gives up leaves a running service
that silently publishes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka.errors import KafkaError

from chassis.db import hold_session_state
from chassis.kafka import KeyedBatchProducer, LogProbe
from chassis.partitions import PARTITIONS
from contracts.topics import DEFAULT_PARTITIONS

#: Errors that an outage of PostgreSQL or of the broker causes, and that end when it is back.
TRANSIENT = (KafkaError, TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
             asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError)


@dataclass(frozen=True)
class OutboxSpec:
    """Which table to relay to which topic. The table has columns (part smallint, n bigint, key text, value bytea),
    gap-free in `n` within each of `chassis.partitions.PARTITIONS` partitions; the cursor table holds a row
    (name, part, pos) per partition, `pos` the last `n` published there.

    `headers`, when set, gives each record's Kafka headers from its value (the CloudEvents binary-mode
    `ce_*` headers, contracts/cloudevents.py); the value itself is published as stored."""

    name: str
    table: str
    cursor_table: str
    topic: str
    headers: Callable[[bytes], Sequence[tuple[str, bytes]]] | None = None

    @property
    def lock_key(self) -> int:
        return zlib.crc32(f"outbox:{self.table}".encode())


class OutboxRelay:
    """Relays one outbox table to its topic until stopped.

    `probe` recreates a missing topic and looks for the relay's marker every `check_seconds` and after every
    failure (without one the relay cannot notice a broker that lost its records: give one wherever the broker may
    restart empty); `on_reset` runs after a reset was detected (a service recreates the topics it reads there).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: KeyedBatchProducer,
        spec: OutboxSpec,
        *,
        batch: int = 5000,
        probe: LogProbe | None = None,
        check_seconds: float = 1.0,
        on_reset: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._spec = spec
        self._batch = batch
        self._probe = probe
        self._check_seconds = check_seconds
        self._on_reset = on_reset
        self._wake = asyncio.Event()
        self._log = structlog.get_logger(outbox=spec.name)
        self._partitions = DEFAULT_PARTITIONS
        self._marked = False
        self._checked_at = float("-inf")
        self.published = 0
        self.rewinds = 0
        self.failures = 0

    def notify(self) -> None:
        """Something was committed: relay it now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 0.5, max_backoff: float = 5.0) -> None:
        """Relay until `stop` is set, through outages: a transient error is logged and retried after a back-off
        that doubles up to `max_backoff`; any other error is a bug and ends the relay with it."""
        backoff = 0.1
        while not stop.is_set():
            try:
                await self._run_locked(stop, poll_seconds)
                return
            except TRANSIENT as exc:
                self.failures += 1
                self._checked_at = float("-inf")  # look at the broker before the next publish
                self._log.warning("outbox.retrying", error=type(exc).__name__, detail=str(exc)[:300],
                                  retry_in_s=backoff)
                await _wait(stop, backoff)
                backoff = min(backoff * 2, max_backoff)
            except Exception as exc:  # a bug: said in the log before it ends the relay (never silently)
                self._log.error("outbox.failed", error=type(exc).__name__, detail=str(exc)[:300])
                raise

    async def _run_locked(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Hold the advisory lock on a dedicated connection while relaying (a lost connection releases it)."""
        async with self._pool.acquire() as conn:
            while not stop.is_set():
                hold_session_state(conn)  # even a refused try: the release then unlocks whatever it holds
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._spec.lock_key):
                    break
                await _wait(stop, poll_seconds)  # another instance relays; stand by
            try:
                while not stop.is_set():
                    if time.monotonic() - self._checked_at >= self._check_seconds:
                        # Any record published to a broker that lost its state is followed, within
                        # check_seconds, by a check that finds the marker gone: nothing relies on timing.
                        await self._check_broker(conn)
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

    async def _check_broker(self, conn: asyncpg.Connection) -> None:
        """Rewind when the broker lost its state: our marker is gone (placed again right after)."""
        s = self._spec
        if self._probe is None:
            return
        group = f"objektif-outbox-{s.name}"
        ends = await self._probe.end_offsets(s.topic, create_with=self._partitions)  # recreates a missing topic
        if ends:
            self._partitions = len(ends)
        cursors = await self._cursors(conn)
        published = sum(cursors.values())
        if not await self._probe.has_marker(group, s.topic) and published > 0:
            # Gone while we ran: the broker lost it. Gone when we start: it lost it while we were down, or this
            # relay never placed one (one republish too many is safe; one too few loses events).
            self._log.warning("outbox.broker_reset", topic=s.topic, cursor=published, had_marker=self._marked)
            await self._rewind(conn)
            self.rewinds += 1
            if self._on_reset is not None:
                await self._on_reset()
        await self._probe.place_marker(group, s.topic, published)
        self._marked = True
        self._checked_at = time.monotonic()

    async def _cursors(self, conn: asyncpg.Connection) -> dict[int, int]:
        """The relay's cursor: part → the last `n` published there."""
        s = self._spec
        rows = await conn.fetch(f"SELECT part, pos FROM {s.cursor_table} WHERE name = $1", s.name)  # noqa: S608
        if len(rows) != PARTITIONS:
            raise LookupError(f"{s.cursor_table} holds {len(rows)} cursors of {s.name!r}, not {PARTITIONS}")
        return {r["part"]: r["pos"] for r in rows}

    async def _relay_once(self, conn: asyncpg.Connection) -> int:
        s = self._spec
        rows = await conn.fetch(
            f"""SELECT r.part, r.n, r.key, r.value FROM {s.cursor_table} AS c
                CROSS JOIN LATERAL (SELECT part, n, key, value FROM {s.table}
                                    WHERE part = c.part AND n > c.pos ORDER BY n LIMIT $2) AS r
                WHERE c.name = $1 ORDER BY r.part, r.n""",  # noqa: S608
            s.name, self._batch,
        )
        if not rows:
            return 0
        # a few produce requests for the lot; returns when the broker acknowledged every record (acks=all)
        headers = [s.headers(r["value"]) for r in rows] if s.headers is not None else None
        await self._producer.send(s.topic, [(r["key"].encode(), r["value"]) for r in rows], headers)
        upto = {r["part"]: r["n"] for r in rows}  # rows come in `n` order within each part
        await conn.execute(
            f"""UPDATE {s.cursor_table} AS c SET pos = u.pos
                FROM unnest($2::smallint[], $3::bigint[]) AS u (part, pos)
                WHERE c.name = $1 AND c.part = u.part""",  # noqa: S608
            s.name, list(upto), list(upto.values()),
        )
        self.published += len(rows)
        self._log.debug("outbox.relayed", count=len(rows), upto=upto)
        return len(rows)

    async def _rewind(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"UPDATE {self._spec.cursor_table} SET pos = 0 WHERE name = $1", self._spec.name)  # noqa: S608

    async def rewind(self) -> None:
        """Republish everything from the start (consumers deduplicate by event_id)."""
        async with self._pool.acquire() as conn:
            await self._rewind(conn)
        self.notify()

    async def close(self) -> None:
        """Close the producer's and the probe's connections."""
        await self._producer.close()
        if self._probe is not None:
            await self._probe.close()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
