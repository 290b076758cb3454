"""The scoring read model in PostgreSQL. One transaction per batch stores the new evidence, the re-projected
appraisals, their score events (outbox) and the consumer's positions together (ARCHITECTURE.md). Its reads of
employees' streams and of the context events are `stream_reads.StreamReads`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import orjson

from chassis.kafka import Position
from chassis.partitions import PartitionedCounter
from contracts.envelope import NIP_PATTERN, Envelope
from services.scoring.adapters.stream_cache import StreamCache, stream_order
from services.scoring.adapters.stream_reads import UNKNOWN_BYTES, ContextEvents, StreamReads
from services.scoring.domain.stream import CONTEXT_TYPES

_NIP = re.compile(NIP_PATTERN)
#: The score outbox's counter rows, one per partition of the NIP (schema.sql, ADR 0013).
SCORES = PartitionedCounter("scoring.partitions", "scores")
#: Events of employees' streams the service keeps parsed between batches (≈ 2.6 kB of memory an event, measured
#: with tracemalloc). A re-appraisal whose fold is kept (`services.scoring.app.fold_cache`) needs no stream at
#: all; a stream is read when the fold is not kept or cannot be extended (a unit-level event, an assignment, a
#: new period: routing again), so this tier serves the few employees a batch re-routes again and again.
DEFAULT_CACHE_EVENTS = 50_000
#: Streams kept as JSON bytes behind the parsed ones (`stream_cache`): ≈ 1 kB an event, so about a million
#: events, a city's quarter (bench/ at 1M events: 25,641 employees, 1.07M events).
DEFAULT_CACHE_RAW_BYTES = 1 << 30


def _json_text(event: Envelope, raws: Mapping[UUID, bytes] | None) -> str:
    """An event's JSON for its jsonb column: the bytes it was parsed from, when known."""
    raw = raws.get(event.event_id) if raws is not None else None
    return raw.decode() if raw is not None else orjson.dumps(event.model_dump(mode="json")).decode()


@dataclass(frozen=True, slots=True)
class StoredAppraisal:
    """One row of the read model, with the score event that announced it."""

    nip: str
    period: str
    unit_id: str | None
    result_at: tuple[int, int]  # where the result's canonical JSON lies in `score_bytes` (the event carries it)
    basis_hash: str
    score_event_id: UUID
    score_bytes: bytes
    upto_sequence: int

    @property
    def result_json(self) -> str:
        """The result as canonical JSON, read out of the score event: the row holds what the event carries."""
        start, end = self.result_at
        return str(memoryview(self.score_bytes)[start:end], "utf-8")


@dataclass(frozen=True, slots=True)
class Poison:
    topic: str
    partition: int
    offset: int
    reason: str
    value: bytes


class ScoringStore:
    """Reads and writes the scoring schema within a transaction opened by `transaction()`."""

    def __init__(self, pool: asyncpg.Pool, *, cache_events: int = DEFAULT_CACHE_EVENTS,
                 cache_raw_bytes: int = DEFAULT_CACHE_RAW_BYTES) -> None:
        self._pool = pool
        self._cache = StreamCache(cache_events, cache_raw_bytes)
        self._context = ContextEvents()

    @property
    def served(self) -> dict[str, int]:
        """How many streams the projector was served from each tier of the cache and from the database."""
        return self._cache.served

    def transaction(self) -> ScoringTransaction:
        return ScoringTransaction(self._pool, self._cache, self._context)

    async def appraisals(self, period: str | None = None) -> list[dict]:
        """Every stored appraisal result (optionally of one period), ordered by NIP and period."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT result FROM scoring.appraisals WHERE $1::text IS NULL OR period = $1 ORDER BY nip, period",
                period,
            )
        return [r["result"] for r in rows]


class ScoringTransaction(StreamReads):
    """`async with store.transaction() as tx:` one batch's reads and writes, committed together."""

    def __init__(
        self, pool: asyncpg.Pool, cache: StreamCache | None = None, context: ContextEvents | None = None
    ) -> None:
        super().__init__(cache or StreamCache(0), context if context is not None else ContextEvents())
        self._pool = pool

    async def __aenter__(self) -> ScoringTransaction:
        self._conn_cm = self._pool.acquire()
        self.conn: asyncpg.Connection = await self._conn_cm.__aenter__()
        self._tx = self.conn.transaction()
        await self._tx.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                await self._tx.commit()
                for subject, stream in self._read.items():
                    self._cache.put(subject, stream)
                for subject, raw in self._read_raw.items():
                    self._cache.put_raw(subject, raw)
            else:
                await self._tx.rollback()
        finally:
            await self._conn_cm.__aexit__(exc_type, exc, tb)

    async def unseen(self, events: Sequence[Envelope]) -> list[Envelope]:
        """The events of a batch not stored before (deduplicated by event_id, also within the batch)."""
        known = {
            r["event_id"]
            for r in await self.conn.fetch(
                "SELECT event_id FROM scoring.events WHERE event_id = ANY($1::uuid[])", [e.event_id for e in events]
            )
        }
        fresh: dict[UUID, Envelope] = {}
        for e in events:
            if e.event_id not in known:
                fresh.setdefault(e.event_id, e)
        return list(fresh.values())

    async def add_events(self, events: Sequence[Envelope], raws: Mapping[UUID, bytes] | None = None) -> None:
        """Store new events; `raws` (event id → the JSON bytes each was parsed from) lets the committed streams
        be kept as bytes too (`stream_cache`)."""
        # The body is the JSON the event arrived as, not the envelope dumped again (≈ 3 µs an event): jsonb keeps
        # the same members and values either way, which is all its readers see (they parse it into an Envelope).
        await self.conn.executemany(
            """INSERT INTO scoring.events (sequence, event_id, type, subject, period, body)
               VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)""",
            [(e.sequence or 0, e.event_id, e.type, e.subject, e.period, _json_text(e, raws)) for e in events],
        )
        if events:  # the counts it returns are `stream_counts`' for these subjects: one round trip less
            rows = await self.conn.fetch(
                """INSERT INTO scoring.streams (subject, events) SELECT subject, count(*) FROM unnest($1::text[])
                   AS s(subject) GROUP BY subject
                   ON CONFLICT (subject) DO UPDATE SET events = streams.events + excluded.events
                   RETURNING subject, events""",
                [e.subject for e in events],
            )
            self._counts.update((r["subject"], r["events"]) for r in rows)
        for e in events:
            self._added.setdefault(e.subject, []).append(e)
            raw = raws.get(e.event_id) if raws is not None else None
            added = self._added_raw.get(e.subject)
            if raw is None:
                self._added_raw[e.subject] = UNKNOWN_BYTES
            elif added is None:
                self._added_raw[e.subject] = [(stream_order(e), raw)]
            elif added is not UNKNOWN_BYTES:
                added.append((stream_order(e), raw))

    async def employees_touched_by(self, fresh: Sequence[Envelope]) -> set[str]:
        """NIPs whose appraisals may change: the subjects of new employee events and, for a new unit-level event,
        everyone with events in its period (a position registration: everyone), since routing decides whom
        it reaches."""
        touched = {e.subject for e in fresh if _NIP.match(e.subject) and e.type not in CONTEXT_TYPES}
        context = [e for e in fresh if e.type in CONTEXT_TYPES and not _NIP.match(e.subject)]
        if any(e.type == "org.position.registered" for e in context):
            rows = await self.conn.fetch("SELECT DISTINCT subject FROM scoring.events WHERE subject ~ $1",
                                         NIP_PATTERN)
            touched |= {r["subject"] for r in rows}
        elif periods := sorted({e.period for e in context}):
            rows = await self.conn.fetch(
                "SELECT DISTINCT subject FROM scoring.events WHERE period = ANY($1::text[]) AND subject ~ $2",
                periods, NIP_PATTERN,
            )
            touched |= {r["subject"] for r in rows}
        return touched

    async def save(self, appraisals: Iterable[StoredAppraisal]) -> int:
        """Upsert appraisals whose basis changed, and put their score events in the outbox. Returns how many."""
        candidates = list(appraisals)
        if not candidates:
            return 0
        rows = await self.conn.fetch(  # one round trip for the batch, not one per appraisal
            """SELECT a.nip, a.period, a.basis_hash FROM scoring.appraisals a
               JOIN unnest($1::text[], $2::text[]) AS k(nip, period) ON a.nip = k.nip AND a.period = k.period""",
            [a.nip for a in candidates], [a.period for a in candidates],
        )
        current = {(r["nip"], r["period"]): r["basis_hash"] for r in rows}
        changed = [a for a in candidates if current.get((a.nip, a.period)) != a.basis_hash]
        if not changed:
            return 0
        await self.conn.executemany(
            """INSERT INTO scoring.appraisals (nip, period, unit_id, result, basis_hash, score_event_id, upto_sequence)
               VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7)
               ON CONFLICT (nip, period) DO UPDATE SET unit_id = excluded.unit_id, result = excluded.result,
                 basis_hash = excluded.basis_hash, score_event_id = excluded.score_event_id,
                 upto_sequence = excluded.upto_sequence""",
            [(a.nip, a.period, a.unit_id, a.result_json, a.basis_hash, a.score_event_id, a.upto_sequence)
             for a in changed],
        )
        heads = await SCORES.lock(self.conn, [a.nip for a in changed])
        placed = await SCORES.place(self.conn, heads, [(a.nip, 0) for a in changed])  # no clock in scoring
        await self.conn.executemany(
            "INSERT INTO scoring.outbox (pos, part, n, event_id, key, value) VALUES ($1,$2,$3,$4,$5,$6)"
            " ON CONFLICT DO NOTHING",
            [(p.seq, p.part, p.n, a.score_event_id, a.nip, a.score_bytes)
             for a, p in zip(changed, placed, strict=True)],
        )
        return len(changed)

    async def positions(self, positions: Sequence[Position]) -> None:
        await self.conn.executemany(
            """INSERT INTO scoring.consumer_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
               ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset""",
            [(p.topic, p.partition, p.offset) for p in positions],
        )

    async def poison(self, items: Sequence[Poison]) -> None:
        if not items:
            return
        await self.conn.executemany(
            """INSERT INTO scoring.poison (topic, partition, "offset", reason, value) VALUES ($1,$2,$3,$4,$5)
               ON CONFLICT DO NOTHING""",
            [(p.topic, p.partition, p.offset, p.reason, p.value) for p in items],
        )
