"""The ledger in PostgreSQL: appends leaves (hash chain + RFC 6962 tree nodes) in one transaction per batch."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Annotated, NamedTuple, NotRequired
from uuid import UUID

import asyncpg
import orjson
from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from chassis.kafka import Position
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

_LEAF_COLUMNS = ["idx", "event_id", "topic", "type", "subject", "period", "leaf_hash", "chain_hash"]

#: The append of one batch, as one statement (`Ledger.append`): $1-$9 the leaves (index, event id, topic, type,
#: subject, period, leaf hash, chain hash, bytes), $10-$12 the nodes completed (level, index, hash), $13 whether
#: the head moves, $14-$17 the new head, $18-$20 the consumer positions. Data-modifying CTEs all run, whether or
#: not the outer statement reads them; the leaves' foreign-key check runs at the statement's end, after them.
_APPEND = """
WITH leaves AS (
  INSERT INTO audit.leaves (idx, event_id, topic, type, subject, period, leaf_hash, chain_hash)
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[],
                       $8::bytea[])
), bodies AS (
  INSERT INTO audit.leaf_data (idx, body) SELECT * FROM unnest($1::bigint[], $9::bytea[])
), nodes AS (
  INSERT INTO audit.nodes (level, idx, hash) SELECT * FROM unnest($10::int[], $11::bigint[], $12::bytea[])
), positions AS (
  INSERT INTO audit.consumer_positions (topic, partition, next_offset)
  SELECT * FROM unnest($18::text[], $19::int[], $20::bigint[])
  ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset
)
UPDATE audit.head SET size = $14, root = $15, frontier = $16, chain_hash = $17 WHERE id = 1 AND $13
"""


def chain_next(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain: each link commits to the previous link and the leaf hash."""
    return hashlib.sha256(previous + leaf).digest()


class Ledger:
    """Append-only ledger over the audit schema."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(self, entries: Sequence[Entry], positions: Sequence[Position]) -> int:
        """Append the entries not ledgered yet, in order, with the consumer positions; returns how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow("SELECT size, frontier, chain_hash FROM audit.head WHERE id = 1 FOR UPDATE")
            known = {
                r["event_id"]
                for r in await conn.fetch(
                    "SELECT event_id FROM audit.leaves WHERE event_id = ANY($1::uuid[])", [e.event_id for e in entries]
                )
            }
            start = Frontier.from_json(orjson.dumps(head["frontier"]))
            chain = bytes(head["chain_hash"])
            fresh: list[Entry] = []
            for e in entries:
                if e.event_id not in known:
                    known.add(e.event_id)
                    fresh.append(e)
            hashes = leaf_hashes([e.body for e in fresh])
            frontier, nodes = start.extend(hashes)
            idxs, chains, sha256 = [], [], hashlib.sha256
            for idx, lh in enumerate(hashes, start.size):
                chain = sha256(chain + lh).digest()  # chain_next, inlined: it runs once per leaf
                idxs.append(idx)
                chains.append(chain)
            # A batch of a few records is mostly round trips: one statement writes its leaves, their bytes, the
            # completed nodes, the head and the consumer positions, five round trips in all with BEGIN, the
            # head's lock, the duplicate check and COMMIT (three COPYs and two statements took nine). A large
            # batch COPYs its rows first, which costs PostgreSQL less per row than unnest (bench.stages, bulk:
            # 2,000 a batch), and the statement then moves only the head and the positions.
            leaves = [idxs, [e.event_id for e in fresh], [e.topic for e in fresh], [e.type for e in fresh],
                      [e.subject for e in fresh], [e.period for e in fresh], hashes, chains, [e.body for e in fresh]]
            completed = [[n[0] for n in nodes], [n[1] for n in nodes], [n[2] for n in nodes]]
            if len(fresh) > INLINE_LEAVES:
                await conn.copy_records_to_table("leaves", schema_name="audit", columns=_LEAF_COLUMNS,
                                                 records=zip(*leaves[:8], strict=True))
                await conn.copy_records_to_table("leaf_data", schema_name="audit", columns=["idx", "body"],
                                                 records=zip(idxs, leaves[8], strict=True))
                await conn.copy_records_to_table("nodes", schema_name="audit", columns=["level", "idx", "hash"],
                                                 records=nodes)
                leaves, completed = [[] for _ in leaves], [[] for _ in completed]
            await conn.execute(
                _APPEND, *leaves, *completed,
                bool(fresh), frontier.size, frontier.root(), orjson.loads(frontier.to_json()), chain,
                [p.topic for p in positions], [p.partition for p in positions], [p.offset for p in positions],
            )
        return len(fresh)
