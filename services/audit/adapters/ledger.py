"""The ledger in PostgreSQL: appends leaves (hash chain + RFC 6962 tree nodes) in one transaction per batch."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NamedTuple, NotRequired
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from chassis.kafka import Position
from chassis.partitions import next_sequences, partition_of
from contracts.envelope import PERIOD_PATTERN
from services.audit.domain.merkle import Frontier, leaf_hashes

#: Records on audited topics that are not valid envelopes are ledgered too (nothing is dropped), under an id
#: derived from their bytes.
INVALID_NAMESPACE = uuid.UUID("0b8e3f0c-7e55-4a2f-8d8f-5b2c1c3b9e01")


class _AnyObject(TypedDict):
    """Any JSON object, its members ignored: checked to be an object without building it in Python."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]


class EnvelopeFields(TypedDict):
    """`contracts.envelope.Envelope`'s fields and constraints, so that exactly the records it refuses are
    `invalid`, read at a third of its CPU: no model is built, and the payload, which the envelope takes as any
    JSON object (``dict[str, Any]``), is checked to be one but not turned into Python objects. `AwareDatetime`
    refuses the naive timestamps the envelope's validator refuses."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    event_id: UUID
    type: Annotated[str, Field(min_length=1, max_length=80)]
    schema_version: NotRequired[Annotated[int, Field(ge=1)]]
    occurred_at: AwareDatetime
    recorded_at: NotRequired[AwareDatetime | None]
    source: Annotated[str, Field(min_length=1, max_length=120)]
    subject: Annotated[str, Field(min_length=1, max_length=64)]
    period: Annotated[str, Field(pattern=PERIOD_PATTERN)]
    payload: _AnyObject
    supersedes: NotRequired[UUID | None]
    correlation_id: NotRequired[Annotated[str | None, Field(max_length=120)]]
    signature: NotRequired[str | None]
    sequence: NotRequired[Annotated[int | None, Field(ge=1)]]


#: The core validator itself: TypeAdapter.validate_json's Python wrapper would cost more per record than a
#: realisation's checks.
_validate = TypeAdapter(EnvelopeFields).validator.validate_json


class Entry(NamedTuple):
    """One event to ledger: its id, where it came from, and the exact bytes."""

    event_id: UUID
    topic: str
    type: str
    subject: str
    period: str
    body: bytes


def entry_of(topic: str, value: bytes) -> Entry:
    """Read the fields the ledger indexes; an unreadable record becomes an `invalid` entry, still ledgered."""
    try:
        e = _validate(value)
    except ValidationError:
        digest = hashlib.sha256(value).hexdigest()
        return Entry(uuid.uuid5(INVALID_NAMESPACE, digest), topic, "invalid", "unknown", "unknown", value)
    return Entry(e["event_id"], topic, e["type"], e["subject"], e["period"], value)


#: Up to this many new leaves a batch writes in its one statement (`_APPEND`); more are COPYed first.
INLINE_LEAVES = 100

#: How often an append is decided again after another instance ledgered one of its events first, in another
#: partition (an event id under two subjects): the unique index refuses the later transaction.
RETRIES = 5

_LEAF_COLUMNS = ["idx", "event_id", "topic", "type", "subject", "period", "leaf_hash", "chain_hash", "part", "pos"]

#: The append of one batch, as one statement (`Ledger.append`): $1-$9 the leaves (idx, event id, topic, type,
#: subject, period, leaf hash, chain hash, bytes), $10-$11 their partition and position, $12-$15 the nodes
#: completed (partition, level, index, hash), $16-$21 the heads that move (partition, size, root, frontier, chain
#: hash, last idx), $22-$24 the consumer positions. Data-modifying CTEs all run, whether or not the outer
#: statement reads them; the leaves' foreign-key check runs at the statement's end, after them.
_APPEND = """
WITH leaves AS (
  INSERT INTO audit.leaves (idx, event_id, topic, type, subject, period, leaf_hash, chain_hash, part, pos)
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[],
                       $8::bytea[], $10::smallint[], $11::bigint[])
), bodies AS (
  INSERT INTO audit.leaf_data (idx, body) SELECT * FROM unnest($1::bigint[], $9::bytea[])
), nodes AS (
  INSERT INTO audit.nodes (part, level, idx, hash)
  SELECT * FROM unnest($12::smallint[], $13::int[], $14::bigint[], $15::bytea[])
), positions AS (
  INSERT INTO audit.consumer_positions (topic, partition, next_offset)
  SELECT * FROM unnest($22::text[], $23::int[], $24::bigint[])
  ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset
)
UPDATE audit.heads AS h SET size = m.size, root = m.root, frontier = m.frontier::jsonb, chain_hash = m.chain,
                            last_idx = m.last_idx
FROM unnest($16::smallint[], $17::bigint[], $18::bytea[], $19::text[], $20::bytea[], $21::bigint[])
  AS m (part, size, root, frontier, chain, last_idx)
WHERE h.part = m.part
"""


def chain_next(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain: each link commits to the previous link and the leaf hash."""
    return hashlib.sha256(previous + leaf).digest()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Ledger:
    """Append-only ledger over the audit schema: one tree and chain per partition (ADR 0013)."""

    def __init__(self, pool: asyncpg.Pool, clock_ms: Callable[[], int] = _now_ms) -> None:
        """Append over ``pool``; ``clock_ms`` (milliseconds since the epoch) orders leaves across partitions."""
        self._pool = pool
        self._clock_ms = clock_ms

    async def append(self, entries: Sequence[Entry], positions: Sequence[Position]) -> int:
        """Append the entries not ledgered yet, in order, with the consumer positions; returns how many."""
        for attempt in range(RETRIES):
            try:
                return await self._append(entries, positions)
            except asyncpg.UniqueViolationError:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _append(self, entries: Sequence[Entry], positions: Sequence[Position]) -> int:
        parts = [partition_of(e.subject) for e in entries]
        async with self._pool.acquire() as conn, conn.transaction():
            # Only this batch's partitions, in partition order: batches of other partitions commit beside it.
            heads = {r["part"]: r for r in await conn.fetch(
                "SELECT part, size, frontier, chain_hash, last_idx FROM audit.heads WHERE part = ANY($1::smallint[])"
                " ORDER BY part FOR UPDATE", sorted(set(parts)))}
            known = {
                r["event_id"]
                for r in await conn.fetch(
                    "SELECT event_id FROM audit.leaves WHERE event_id = ANY($1::uuid[])", [e.event_id for e in entries]
                )
            }
            fresh: dict[int, list[Entry]] = {}
            for e, part in zip(entries, parts, strict=True):
                if e.event_id not in known:
                    known.add(e.event_id)
                    fresh.setdefault(part, []).append(e)
            rows = _Rows()
            now_ms = self._clock_ms()
            for part, added in sorted(fresh.items()):
                rows.add(part, heads[part], added, now_ms)
            if rows.count > INLINE_LEAVES:
                # A large batch COPYs its rows first, which costs PostgreSQL less per row than unnest
                # (bench.stages, bulk: 2,000 a batch); the statement then moves only the heads and positions.
                await conn.copy_records_to_table("leaves", schema_name="audit", columns=_LEAF_COLUMNS,
                                                 records=zip(*rows.leaves[:8], *rows.placed, strict=True))
                await conn.copy_records_to_table("leaf_data", schema_name="audit", columns=["idx", "body"],
                                                 records=zip(rows.leaves[0], rows.leaves[8], strict=True))
                await conn.copy_records_to_table("nodes", schema_name="audit",
                                                 columns=["part", "level", "idx", "hash"],
                                                 records=zip(*rows.nodes, strict=True))
                rows.written()
            # A batch of a few records is mostly round trips: one statement writes its leaves, their bytes, the
            # completed nodes, the heads and the consumer positions, five round trips in all with BEGIN, the
            # heads' lock, the duplicate check and COMMIT.
            await conn.execute(
                _APPEND, *rows.leaves, *rows.placed, *rows.nodes, *rows.heads,
                [p.topic for p in positions], [p.partition for p in positions], [p.offset for p in positions],
            )
        return rows.count


class _Rows:
    """The columns one append writes, partition by partition."""

    def __init__(self) -> None:
        self.count = 0
        self.leaves: list[list[Any]] = [[] for _ in range(9)]
        self.placed: list[list[int]] = [[], []]
        self.nodes: list[list[Any]] = [[], [], [], []]
        self.heads: list[list[Any]] = [[] for _ in range(6)]

    def add(self, part: int, head: asyncpg.Record, added: Sequence[Entry], now_ms: int) -> None:
        """Extend partition ``part``'s tree (whose locked head is ``head``) and chain by ``added``."""
        start = Frontier.from_parsed(head["frontier"])
        hashes = leaf_hashes([e.body for e in added])
        frontier, nodes = start.extend(hashes)
        idxs = next_sequences(head["last_idx"], part, len(added), now_ms)
        chain, sha256, chains = bytes(head["chain_hash"]), hashlib.sha256, []
        for lh in hashes:
            chain = sha256(chain + lh).digest()  # chain_next, inlined: it runs once per leaf
            chains.append(chain)
        columns = (idxs, [e.event_id for e in added], [e.topic for e in added], [e.type for e in added],
                   [e.subject for e in added], [e.period for e in added], hashes, chains, [e.body for e in added])
        for column, values in zip(self.leaves, columns, strict=True):
            column.extend(values)
        self.placed[0].extend([part] * len(added))
        self.placed[1].extend(range(start.size, frontier.size))
        for level, index, value in nodes:
            self.nodes[0].append(part)
            self.nodes[1].append(level)
            self.nodes[2].append(index)
            self.nodes[3].append(value)
        head_row = (part, frontier.size, frontier.root(), frontier.to_json(), chain, idxs[-1])
        for column, value in zip(self.heads, head_row, strict=True):
            column.append(value)
        self.count += len(added)

    def written(self) -> None:
        """The leaves and nodes went by COPY: the statement writes only the heads (and positions)."""
        self.leaves = [[] for _ in self.leaves]
        self.placed = [[], []]
        self.nodes = [[], [], [], []]
