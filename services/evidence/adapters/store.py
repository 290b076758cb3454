"""The evidence store in PostgreSQL: accepted events and rejections, each gap-free within its partition (ADR 0013),
and consumer positions.

One transaction per batch writes the accepted events, the rejections and the consumer's Kafka positions together
(ARCHITECTURE.md, "Nothing lost"); the tables double as the transactional outbox the relay publishes from.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import orjson

from chassis.kafka import Position
from chassis.partitions import PARTITIONS, PartitionedCounter, Span, spans_of
from contracts import events as ev
from contracts.canonical import canonical_bytes
from contracts.envelope import Envelope
from services.evidence.adapters.pdp_keys import destroy_in
from services.evidence.domain import SeenEvent
from services.evidence.domain.stamp import sequenced


@dataclass(frozen=True, slots=True)
class RejectionRow:
    """A rejection envelope ready to store: its event, the submission it refuses and the reason codes."""

    envelope: Envelope
    submission_event_id: UUID | None
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tailed:
    """An accepted event read back by a reader tailing the store: its partition, its position there, its bytes
    (None when the reader asked only for other types' bytes)."""

    part: int
    n: int
    value: bytes | None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one batch's transaction stored; `spans` are the accepted events' positions, by partition."""

    accepted: tuple[Envelope, ...]
    duplicates: tuple[UUID, ...]
    rejected: int
    spans: tuple[Span, ...] = ()


def envelope_bytes(envelope: Envelope) -> bytes:
    """The exact bytes an event is published and ledgered as: canonical JSON of the envelope, nulls omitted."""
    return canonical_bytes(envelope.model_dump(mode="json", exclude_none=True))


def accepted_bytes(original: bytes, sequence: int, recorded_at: datetime) -> bytes:
    """An accepted event as published: the submitted JSON object exactly as signed, plus the two members the
    evidence service assigns (`sequence`, `recorded_at`), in canonical form. Re-serialising the parsed envelope
    instead could write a timestamp or a UUID differently from what the source signed (docs/signing.md), so the
    signature would no longer verify downstream."""
    submitted = orjson.loads(original)
    submitted["sequence"] = sequence
    submitted["recorded_at"] = recorded_at.isoformat()
    return canonical_bytes(submitted)


class EvidenceStore:
    """Reads and appends the evidence service's own schema."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def events_after(self, after: Mapping[int, int], limit: int = 10_000,
                           types: Collection[str] | None = None) -> list[Tailed]:
        """Accepted events past each partition's position in `after` (part → last n read; a partition not
        named: from its start), up to `limit` per partition, in (part, n) order; with `types`, the bytes of
        only the events of those types (the others' positions still come, to be counted as read)."""
        parts = list(range(PARTITIONS))
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT e.part, e.n, CASE WHEN $4::text[] IS NULL OR e.type = ANY($4::text[]) THEN e.value END
                          AS value
                   FROM unnest($1::smallint[], $2::bigint[]) AS c (part, n)
                   CROSS JOIN LATERAL (SELECT part, n, type, value FROM evidence.events
                                       WHERE part = c.part AND n > c.n ORDER BY n LIMIT $3) AS e
                   ORDER BY e.part, e.n""",
                parts, [after.get(p, 0) for p in parts], limit, None if types is None else sorted(types),
            )
        return [Tailed(r["part"], r["n"], r["value"]) for r in rows]

    async def append_batch(
        self,
        accepted: Sequence[tuple[Envelope, bytes]],
        rejected: Sequence[RejectionRow],
        positions: Sequence[Position],
    ) -> BatchOutcome:
        """Store a batch's decisions and the consumer positions in one transaction.

        `accepted` pairs each envelope with the exact bytes submitted. Accepted events whose event_id is already
        stored (a redelivery, or another instance's earlier batch) are answered idempotently: not stored again,
        reported as duplicates. The rows of the partitions the batch writes are locked first, so the check and
        the insert cannot race within a partition; an event id claimed at the same moment in another partition
        (one id under two subjects) makes one of the two transactions fail on the unique index, and that one is
        decided again, finding the other's row (ADR 0013).
        """
        for attempt in range(_ATTEMPTS):
            try:
                return await self._append_once(accepted, rejected, positions)
            except asyncpg.UniqueViolationError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _append_once(
        self, accepted: Sequence[tuple[Envelope, bytes]], rejected: Sequence[RejectionRow],
        positions: Sequence[Position],
    ) -> BatchOutcome:
        async with self._pool.acquire() as conn, conn.transaction():
            fresh: list[tuple[Envelope, bytes]] = []
            duplicates: list[UUID] = []
            stored: list[Envelope] = []
            spans: tuple[Span, ...] = ()
            if accepted:
                heads = await _EVENTS.lock(conn, [e.subject for e, _ in accepted])
                known = await _decided_before(conn, accepted)
                seen: set[UUID] = set()
                for e, original in accepted:
                    if e.event_id in known or e.event_id in seen:
                        duplicates.append(e.event_id)
                    else:
                        seen.add(e.event_id)
                        fresh.append((e, original))
                if fresh:
                    placed = await _EVENTS.place(conn, heads, [(e.subject, _ms(e.recorded_at)) for e, _ in fresh])
                    stored = [sequenced(e, p.seq) for (e, _), p in zip(fresh, placed, strict=True)]
                    spans = spans_of(placed)
                    await conn.copy_records_to_table(
                        "events",
                        schema_name="evidence",
                        columns=["pos", "part", "n", "event_id", "type", "source", "subject", "period", "key",
                                 "value", "recorded_at"],
                        records=[
                            (p.seq, p.part, p.n, e.event_id, e.type, e.source, e.subject, e.period, e.subject,
                             accepted_bytes(original, p.seq, e.recorded_at), e.recorded_at)
                            for (e, original), p in zip(fresh, placed, strict=True)
                        ],
                    )
            erased = [e.subject for e in stored if e.type == ev.PersonalDataErased.TYPE]
            if erased:  # UU PDP (ADR 0010): the erasure and the keys' destruction commit together
                await destroy_in(conn, erased)
            kept = await self._append_rejections(conn, rejected)
            await conn.executemany(
                """INSERT INTO evidence.consumer_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
                   ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset""",
                [(p.topic, p.partition, p.offset) for p in positions],
            )
        return BatchOutcome(tuple(stored), tuple(duplicates), kept, spans)

    async def _append_rejections(self, conn: asyncpg.Connection, rejected: Sequence[RejectionRow]) -> int:
        if not rejected:
            return 0
        heads = await _REJECTIONS.lock(conn, [r.envelope.subject for r in rejected])
        ids = [r.envelope.event_id for r in rejected]
        known = {
            r["event_id"]
            for r in await conn.fetch("SELECT event_id FROM evidence.rejections WHERE event_id = ANY($1::uuid[])", ids)
        }
        fresh: dict[UUID, RejectionRow] = {}
        for r in rejected:
            if r.envelope.event_id not in known:
                fresh.setdefault(r.envelope.event_id, r)  # the same bytes twice are one refusal
        if not fresh:
            return 0
        rows = list(fresh.values())
        placed = await _REJECTIONS.place(conn, heads, [(r.envelope.subject, _ms(r.envelope.recorded_at)) for r in rows])
        await conn.copy_records_to_table(  # COPY, as for accepted events: a flood of refusals is one write
            "rejections",
            schema_name="evidence",
            columns=["pos", "part", "n", "event_id", "submission_event_id", "codes", "key", "value", "recorded_at"],
            records=[
                (p.seq, p.part, p.n, r.envelope.event_id, r.submission_event_id, list(r.codes), r.envelope.subject,
                 envelope_bytes(r.envelope), r.envelope.recorded_at)
                for r, p in zip(rows, placed, strict=True)
            ],
        )
        return len(fresh)

    async def accepted_among(self, event_ids: Sequence[UUID]) -> dict[UUID, SeenEvent]:
        """Which of these event ids are stored, with what the gate's duplicate and supersession checks need: one
        lookup in the unique index per batch, instead of every accepted id held in memory."""
        if not event_ids:
            return {}
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT event_id, source, type, subject, period FROM evidence.events"
                " WHERE event_id = ANY($1::uuid[])",
                list(event_ids),
            )
        return {r["event_id"]: SeenEvent(r["source"], r["type"], r["subject"], r["period"]) for r in rows}

    async def sequences_of(self, event_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The sequence of each of these event ids that is stored (an idempotent answer names the first one)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT event_id, pos FROM evidence.events WHERE event_id = ANY($1::uuid[])", list(event_ids)
            )
        return {r["event_id"]: r["pos"] for r in rows}

    async def counts(self) -> dict[str, int]:
        """How many events were accepted and rejected."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM evidence.events) AS accepted,"
                " (SELECT count(*) FROM evidence.rejections) AS rejected"
            )
        return dict(row)


#: The counters of the two streams (schema.sql, ADR 0013); an event's `sequence` is its row's `seq`, which follows
#: the time it was recorded at across partitions.
_EVENTS = PartitionedCounter("evidence.partitions", "events")
_REJECTIONS = PartitionedCounter("evidence.partitions", "rejections")

#: How often a batch is decided again after an event id was claimed at the same moment in another partition.
_ATTEMPTS = 3


def _ms(when: datetime | None) -> int:
    if when is None:
        raise ValueError("an event is stored with the time it was recorded at")
    return int(when.timestamp() * 1000)


async def _decided_before(conn: asyncpg.Connection, accepted: Sequence[tuple[Envelope, bytes]]) -> set[UUID]:
    """Event ids among `accepted` decided before, in one round trip: those stored (a redelivery, or another
    instance's earlier batch) and those whose very bytes were refused before, already answered by that refusal.
    A submission's outcome must not depend on how often Kafka delivers it: the fault suite found submissions
    rejected for a source not yet registered and accepted when redelivered after the registration, two answers
    to one submission. (Other bytes under a refused event id are decided on their own.)"""
    rows = await conn.fetch(
        """SELECT event_id, NULL::bytea AS value FROM evidence.events WHERE event_id = ANY($1::uuid[])
           UNION ALL
           SELECT submission_event_id, value FROM evidence.rejections WHERE submission_event_id = ANY($1::uuid[])""",
        [e.event_id for e, _ in accepted],
    )
    stored = {r["event_id"] for r in rows if r["value"] is None}
    refused = [r for r in rows if r["value"] is not None]
    if not refused:
        return stored
    submitted = {e.event_id: base64.b64encode(original).decode() for e, original in accepted}
    return stored | {
        r["event_id"] for r in refused
        if orjson.loads(r["value"])["payload"]["original_b64"] == submitted.get(r["event_id"])
    }


def utc_now() -> datetime:
    """The shell's clock (the domain never reads one)."""
    from datetime import UTC

    return datetime.now(UTC)
