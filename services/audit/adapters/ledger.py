"""The ledger in PostgreSQL: appends leaves (hash chain + RFC 6962 tree nodes) in one transaction per batch."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import orjson
from pydantic import ValidationError

from chassis.kafka import Position
from contracts.envelope import Envelope
from services.audit.domain.merkle import Frontier, leaf_hash

#: Records on audited topics that are not valid envelopes are ledgered too (nothing is dropped), under an id
#: derived from their bytes.
INVALID_NAMESPACE = uuid.UUID("0b8e3f0c-7e55-4a2f-8d8f-5b2c1c3b9e01")


@dataclass(frozen=True, slots=True)
class Entry:
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
        e = Envelope.model_validate_json(value)
    except ValidationError:
        digest = hashlib.sha256(value).hexdigest()
        return Entry(uuid.uuid5(INVALID_NAMESPACE, digest), topic, "invalid", "unknown", "unknown", value)
    return Entry(e.event_id, topic, e.type, e.subject, e.period, value)


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
            hashes = [leaf_hash(e.body) for e in fresh]
            frontier, nodes = start.extend(hashes)
            leaves, data = [], []
            for i, (e, lh) in enumerate(zip(fresh, hashes, strict=True)):
                chain = chain_next(chain, lh)
                leaves.append((start.size + i, e.event_id, e.topic, e.type, e.subject, e.period, lh, chain))
                data.append((start.size + i, e.body))
            if leaves:
                await conn.copy_records_to_table(
                    "leaves", schema_name="audit",
                    columns=["idx", "event_id", "topic", "type", "subject", "period", "leaf_hash", "chain_hash"],
                    records=leaves,
                )
                await conn.copy_records_to_table("leaf_data", schema_name="audit", columns=["idx", "body"],
                                                 records=data)
                await conn.copy_records_to_table("nodes", schema_name="audit", columns=["level", "idx", "hash"],
                                                 records=nodes)
                await conn.execute(
                    "UPDATE audit.head SET size = $1, root = $2, frontier = $3, chain_hash = $4 WHERE id = 1",
                    frontier.size, frontier.root(), orjson.loads(frontier.to_json()), chain,
                )
            await conn.executemany(
                """INSERT INTO audit.consumer_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
                   ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset""",
                [(p.topic, p.partition, p.offset) for p in positions],
            )
        return len(leaves)
