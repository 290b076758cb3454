"""The scoring read model in PostgreSQL. One transaction per batch stores the new evidence, the re-projected
appraisals, their score events (outbox) and the consumer's positions together (ARCHITECTURE.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from chassis.kafka import Position
from chassis.partitions import PartitionedCounter
from contracts.envelope import NIP_PATTERN, Envelope
from services.scoring.adapters.stream_cache import RawStream, StreamCache, stream_order
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


@dataclass(frozen=True, slots=True)
class StoredAppraisal:
    """One row of the read model, with the score event that announced it."""

    nip: str
    period: str
    unit_id: str | None
    result: dict
    basis_hash: str
    score_event_id: UUID
    score_bytes: bytes
    upto_sequence: int


@dataclass(frozen=True, slots=True)
class Poison:
    topic: str
    partition: int
    offset: int
    reason: str
    value: bytes


#: `ScoringTransaction._added_raw` of a subject one of whose added events came without its bytes.
_UNKNOWN: list[tuple[tuple[int, int], bytes]] = []


def _merged(cached: Sequence[Envelope], added: Sequence[Envelope]) -> list[Envelope]:
    """A cached stream (in stream order) with the events a transaction added, in stream order: appended when
    they all come after it (new evidence usually does), else sorted in."""
    if not added:
        return list(cached)
    added = sorted(added, key=stream_order)
    if not cached or stream_order(cached[-1]) < stream_order(added[0]):
        return [*cached, *added]
    return sorted([*cached, *added], key=stream_order)


class ContextEvents:
    """The unit-level events that route into employees' streams, parsed once (they are few: per unit and
    period), and the list of them last served: the same list object for as long as the table lists the same
    events, so that what was routed with it can tell (`incremental.Kept.context`) that nothing changed."""

    def __init__(self) -> None:
        self._parsed: dict[UUID, Envelope] = {}
        self._ids: list[UUID] = []
        self._served: list[Envelope] = []

    def served(self, ids: list[UUID]) -> list[Envelope]:
        """The events of `ids` (all parsed already), as the last list served when the ids are the same."""
        if ids != self._ids:
            self._ids, self._served = ids, [self._parsed[i] for i in ids]
        return self._served

    def missing(self, ids: Iterable[UUID]) -> list[UUID]:
        return [i for i in ids if i not in self._parsed]

    def parsed(self, event_id: UUID, event: Envelope) -> None:
        self._parsed[event_id] = event


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


class ScoringTransaction:
    """`async with store.transaction() as tx:` one batch's reads and writes, committed together."""

    def __init__(
        self, pool: asyncpg.Pool, cache: StreamCache | None = None, context: ContextEvents | None = None
    ) -> None:
        self._pool = pool
        self._cache = cache or StreamCache(0)
        self._context = context if context is not None else ContextEvents()
        self._added: dict[str, list[Envelope]] = {}  # events this transaction inserted, by subject
        #: their JSON bytes, by subject, in stream order; a subject is absent when one of them came without
        self._added_raw: dict[str, list[tuple[tuple[int, int], bytes]]] = {}
        self._read: dict[str, tuple[Envelope, ...]] = {}  # streams this transaction read: cached once committed
        self._read_raw: dict[str, RawStream] = {}  # and as JSON bytes, where known
        self._staged = 0
        self._staged_raw = 0
        self._counts: dict[str, int] = {}  # subject -> its events in the table, as this transaction's upsert left it

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
        await self.conn.executemany(
            "INSERT INTO scoring.events (sequence, event_id, type, subject, period, body) VALUES ($1,$2,$3,$4,$5,$6)",
            [(e.sequence or 0, e.event_id, e.type, e.subject, e.period, e.model_dump(mode="json")) for e in events],
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
                self._added_raw[e.subject] = _UNKNOWN
            elif added is None:
                self._added_raw[e.subject] = [(stream_order(e), raw)]
            elif added is not _UNKNOWN:
                added.append((stream_order(e), raw))

    def _raw_with_added(self, subject: str, raw: RawStream | None, count: int) -> RawStream | None:
        """The kept JSON stream of `subject` followed by what this transaction added, when that is the whole
        stream (`count` events) in stream order; else None."""
        added = self._added_raw.get(subject, [])
        if raw is None or added is _UNKNOWN or len(raw.values) + len(added) != count:
            return None
        if not added:
            return raw
        added = sorted(added)
        if added[0][0] <= raw.last:
            return None
        return raw.extended([v for _k, v in added], added[-1][0])

    async def subject_events(self, subject: str) -> list[Envelope]:
        """Every stored event of one subject (all periods), in evidence-sequence order."""
        rows = await self.conn.fetch(
            "SELECT body FROM scoring.events WHERE subject = $1 ORDER BY sequence, event_id", subject
        )
        return [Envelope.model_validate(r["body"]) for r in rows]

    async def stream_counts(self, subjects: Sequence[str]) -> dict[str, int]:
        """How many events the table holds of each subject (`scoring.streams`, this transaction's included); a
        subject with none is absent."""
        counts = {s: self._counts[s] for s in subjects if s in self._counts}  # what add_events upserted
        if unknown := [s for s in subjects if s not in self._counts]:
            counts.update(
                (r["subject"], r["events"])
                for r in await self.conn.fetch(
                    "SELECT subject, events FROM scoring.streams WHERE subject = ANY($1::text[])", unknown
                )
            )
        return counts

    def added(self, subject: str) -> list[Envelope]:
        """The events of `subject` this transaction stored, in stream order."""
        return sorted(self._added.get(subject, []), key=stream_order)

    def served_folded(self, subjects: Sequence[str], counts: Mapping[str, int]) -> None:
        """`subjects` were appraised from what the projector kept, without their streams: count them, and keep
        their cached streams up to date with the events this transaction added where they still are the whole
        stream (`counts` events), so that they serve whoever must be read again later (a unit-level event
        re-routes everyone in its period; a fold gives way)."""
        self._cache.served["folded"] += len(subjects)
        for s in subjects:
            count, cached, added = counts.get(s, 0), self._cache.get(s), self._added.get(s, [])
            stream = _merged(cached, added) if cached is not None and len(cached) + len(added) == count else None
            self._stage(s, stream, self._raw_with_added(s, self._cache.get_raw(s), count))

    def _stage(self, subject: str, stream: Sequence[Envelope] | None, raw: RawStream | None) -> None:
        """Stage a stream, parsed and as JSON bytes, for the cache once committed, up to the cache's bounds (so
        a batch's working set stays bounded too)."""
        if stream is not None and self._staged + len(stream) <= self._cache.max_events:
            self._read[subject] = tuple(stream)
            self._staged += len(stream)
        if raw is not None and self._staged_raw + raw.size <= self._cache.max_raw_bytes:
            self._read_raw[subject] = raw
            self._staged_raw += raw.size

    async def subjects_events(
        self, subjects: Sequence[str], counts: Mapping[str, int] | None = None
    ) -> dict[str, list[Envelope]]:
        """`subject_events` of several subjects: subject → its events in sequence order. A stream cached by an
        earlier batch is used when, with the events this transaction added, it has as many events as the table
        holds for that subject (`counts`, read when not given: `stream_counts`, see `stream_cache`); the others
        are read in one round trip."""
        if counts is None:
            counts = await self.stream_counts(subjects)
        streams: dict[str, list[Envelope]] = {}
        raws: dict[str, RawStream] = {}
        missing, hits = [], 0
        for s in subjects:
            cached, added, count = self._cache.get(s), self._added.get(s, []), counts.get(s, 0)
            kept_raw = self._cache.get_raw(s)
            if cached is not None and len(cached) + len(added) == count:
                streams[s] = _merged(cached, added)
                hits += 1
                if (raw := self._raw_with_added(s, kept_raw, count)) is not None:
                    raws[s] = raw
            elif (raw := self._raw_with_added(s, kept_raw, count)) is not None:
                # parsed again from memory; the events this transaction added (all after them) are used as they are
                kept = kept_raw.values if kept_raw is not None else ()
                streams[s] = [*(Envelope.model_validate_json(v) for v in kept), *sorted(added, key=stream_order)]
                raws[s] = raw
            else:
                missing.append(s)
        if missing:
            read: dict[str, list[bytes]] = {}
            for s in missing:
                streams[s], read[s] = [], []
            rows = await self.conn.fetch(
                "SELECT subject, body::text AS body FROM scoring.events WHERE subject = ANY($1::text[])"
                " ORDER BY subject, sequence, event_id",
                missing,
            )
            for r in rows:
                streams[r["subject"]].append(Envelope.model_validate_json(r["body"]))
                read[r["subject"]].append(r["body"].encode())
            for s in missing:
                if streams[s]:
                    raws[s] = RawStream.of(read[s], stream_order(streams[s][-1]))
        self._cache.served["database"] += len(missing)
        self._cache.served["raw"] += len(subjects) - len(missing) - hits
        self._cache.served["parsed"] += hits
        for s in subjects:
            self._stage(s, streams[s], raws.get(s))
        return streams

    async def context_events(self) -> list[Envelope]:
        """The unit-level events that route into employees' streams (`services.scoring.domain.stream.route`):
        policy adoptions for "*" or a unit, positions (who leads a unit), and units' predicates (§1.3: a leader
        takes the unit's performance). They are few: one per unit and period, not per employee. The same list
        object as the last batch's while they are the same events (`ContextEvents`): do not change it."""
        ids = [
            r["event_id"]
            for r in await self.conn.fetch(
                "SELECT event_id FROM scoring.events WHERE type = ANY($1::text[]) AND subject !~ $2 ORDER BY sequence",
                list(CONTEXT_TYPES), NIP_PATTERN,
            )
        ]
        if missing := self._context.missing(ids):  # parsed once, not on every batch
            for r in await self.conn.fetch(
                "SELECT event_id, body FROM scoring.events WHERE event_id = ANY($1::uuid[])", missing
            ):
                self._context.parsed(r["event_id"], Envelope.model_validate(r["body"]))
        return self._context.served(ids)

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
               VALUES ($1,$2,$3,$4,$5,$6,$7)
               ON CONFLICT (nip, period) DO UPDATE SET unit_id = excluded.unit_id, result = excluded.result,
                 basis_hash = excluded.basis_hash, score_event_id = excluded.score_event_id,
                 upto_sequence = excluded.upto_sequence""",
            [(a.nip, a.period, a.unit_id, a.result, a.basis_hash, a.score_event_id, a.upto_sequence)
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
